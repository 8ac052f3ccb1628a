using System.Text.Json.Nodes;

namespace Runbooks.Engine;

/// <summary>Waits until a check holds, looking every <see cref="Interval"/>; fails once <see cref="Timeout"/> has passed.</summary>
/// <example><c>new WaitUntil(Http.Get("http://127.0.0.1:8000/").Returns(200), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(0.2))</c></example>
public sealed record WaitUntil(Check Until, TimeSpan Timeout, TimeSpan Interval) : StepAction
{
    /// <summary>
    /// The error's first sentence, from the last result, instead of "'CHECK' did not hold within N s (OBSERVED)":
    /// for a wait that can say it in its own domain's words ("db did not come back within 4 s after `sv up db`").
    /// </summary>
    public Func<CheckResult, string>? Failure { get; init; }

    /// <summary>What to do when the wait fails, appended to the error: "check the service's log".</summary>
    public string? WhenItFails { get; init; }

    /// <summary>More words for a failed wait, read on the host when it fails (a service's last output).</summary>
    public Func<HostContext, CancellationToken, Task<string>>? Diagnose { get; init; }

    /// <summary>True to wait one interval before the first look, for something that cannot have happened yet.</summary>
    public bool WaitFirst { get; init; }

    public override string Kind => "wait-until";

    public override string Summary => $"wait up to {Poll.Seconds(Timeout)} (every {Poll.Seconds(Interval)}) until {Until.Description}";

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() =>
    [
        new("until", Until.Description),
        new("timeoutSeconds", Timeout.TotalSeconds),
        new("intervalSeconds", Interval.TotalSeconds),
    ];

    internal override Reversal ReversalOn(HostContext host) => Reversal.Nothing;

    internal override async Task ExecuteAsync(HostContext host, CancellationToken cancellationToken)
    {
        var (done, last) = await Poll.UntilHoldsAsync(host, Until, Timeout, Interval, cancellationToken, WaitFirst).ConfigureAwait(false);
        if (done)
        {
            return;
        }

        var more = Diagnose is null ? "" : "\n" + await Diagnose(host, cancellationToken).ConfigureAwait(false);
        var first = Failure?.Invoke(last) ?? $"'{Until.Description}' did not hold within {Poll.Seconds(Timeout)} ({last.Observed})";
        throw host.Failure($"{first}{(WhenItFails is null ? "" : "; " + WhenItFails)}{more}");
    }
}
