namespace Runbooks.Engine;

/// <summary>Whether a condition holds, and what was seen.</summary>
public sealed record CheckResult(bool Holds, string Observed)
{
    public static CheckResult From(bool holds, string? observed = null) => new(holds, observed ?? (holds ? "holds" : "does not hold"));
}

/// <summary>
/// A named, read-only condition on a host, used as a target's <c>Requires</c>/<c>Ensures</c>, a step's
/// guard, or a harness spec.
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
        });

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
