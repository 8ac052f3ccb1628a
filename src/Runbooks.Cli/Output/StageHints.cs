namespace Runbooks.Cli.Output;

/// <summary>
/// The words that send the operator to the next stage of a staged converge, written one way for a runbook and a
/// constellation, after a plan and after a run.
/// </summary>
internal static class StageHints
{
    /// <summary>The command that plans the stage after <paramref name="plan"/>.</summary>
    public static string NextPlan(string file, string plan, string next = "NEXT.json") => $"`runbook plan {file} --out {next} --after {plan}`";

    /// <summary>After a plan was saved with steps left for later.</summary>
    public static string OnceRun(string file, string plan) => $"once it has run, plan the next stage with {NextPlan(file, plan)}";

    /// <summary>After a run ended its stage: what stopped and how to go on.</summary>
    public static string PlanAgain(string done, string file, string plan, string next = "NEXT.json") => $"{done}: plan again ({NextPlan(file, plan, next)}, review it, run it)";
}
