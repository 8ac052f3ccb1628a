namespace Runbooks.Engine;

/// <summary>Whether a condition holds, and what was seen.</summary>
public sealed record CheckResult(bool Holds, string Observed)
{
    public static CheckResult From(bool holds, string? observed = null) => new(holds, observed ?? (holds ? "holds" : "does not hold"));
}

/// <summary>
/// A named condition on a host, used as a target's <c>Requires</c>/<c>Ensures</c>, a step's guard or wait, or
/// a harness spec. Read-only unless built with <see cref="Writing"/>: a check that must write to find out
/// (create a file to prove a mount is writable) is never run by a plan.
/// </summary>
/// <example><c>new Check("port 8000 answers", (h, ct) => Http.Get("http://127.0.0.1:8000/").IsOk(h, ct))</c></example>
public sealed class Check
{
    private readonly Func<HostContext, CancellationToken, Task<CheckResult>> _evaluate;

    public Check(string description, Func<HostContext, CancellationToken, Task<CheckResult>> evaluate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        Description = description;
        _evaluate = evaluate;
    }

    public string Description { get; }

    /// <summary>The facts it reads whatever it finds (see <see cref="Step.Reads"/>): read with the step before it in one round trip.</summary>
    /// <example><c>new Check("GET / returns 200", evaluate) { Reads = [Http.Get("http://127.0.0.1:8000/").Answer] }</c></example>
    public IReadOnlyList<IFact> Reads { get; init; } = [];

    /// <summary>True for a check that writes to find out; a plan does not run it and says so.</summary>
    public bool Writes { get; private init; }

    /// <summary>A check that must write to find out; a plan shows it as "not probed in a plan: writes".</summary>
    /// <example><c>Check.Writing("a file can be created in /data", (h, ct) =&gt; …)</c></example>
    public static Check Writing(string description, Func<HostContext, CancellationToken, Task<CheckResult>> evaluate) =>
        new(description, evaluate) { Writes = true };

    public static Check From(string description, Func<bool> condition) =>
        new(description, (_, _) => Task.FromResult(CheckResult.From(condition())));

    public static Check From(string description, Func<HostContext, Task<bool>> condition) =>
        new(description, async (h, _) => CheckResult.From(await condition(h).ConfigureAwait(false)));

    /// <summary>A step's postcondition as a check: holds when the step would be satisfied.</summary>
    public static Check From(Step step) =>
        new(step.Description, async (h, ct) =>
        {
            var probe = await step.ProbeAsync(h, ct).ConfigureAwait(false);
            return new CheckResult(probe.Decision == StepDecision.Satisfied, probe.Observed);
        }) { Reads = [.. step.Reads] };

    public async Task<CheckResult> EvaluateAsync(HostContext host, CancellationToken cancellationToken)
    {
        try
        {
            return await _evaluate(host, cancellationToken).ConfigureAwait(false);
        }
        catch (RunbookException ex)
        {
            return new CheckResult(false, ex.Message);
        }
    }

    public override string ToString() => Description;
}
