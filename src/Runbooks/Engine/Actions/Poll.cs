using System.Diagnostics;

namespace Runbooks.Engine;

/// <summary>
/// The one poll loop: look with fresh facts, stop when the answer is good or the time is up, wait between looks.
/// Every wait in the engine and the DSL goes through it, so timeouts and intervals mean the same everywhere.
/// </summary>
public static class Poll
{
    /// <summary>Looks until <paramref name="done"/> holds or <paramref name="timeout"/> passes; returns whether it held and the last answer.</summary>
    /// <example><c>var (ok, last) = await Poll.UntilAsync(host, look, r =&gt; r.Holds, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), ct);</c></example>
    public static async Task<(bool Done, T Last)> UntilAsync<T>(
        HostContext host,
        Func<CancellationToken, Task<T>> look,
        Func<T, bool> done,
        TimeSpan timeout,
        TimeSpan interval,
        CancellationToken cancellationToken,
        bool waitBeforeFirstLook = false)
    {
        var clock = Stopwatch.StartNew();
        if (waitBeforeFirstLook)
        {
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            // A poll is a question about now: what this round read before the wait is stale by definition.
            host.InvalidateFacts();
            var last = await look(cancellationToken).ConfigureAwait(false);
            if (done(last))
            {
                return (true, last);
            }

            if (clock.Elapsed >= timeout)
            {
                return (false, last);
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls a check until it holds; returns the last result.</summary>
    /// <example><c>var (ok, last) = await Poll.UntilHoldsAsync(host, check, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), ct);</c></example>
    public static Task<(bool Done, CheckResult Last)> UntilHoldsAsync(HostContext host, Check check, TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken, bool waitBeforeFirstLook = false) =>
        UntilAsync(host, ct => check.EvaluateAsync(host, ct), r => r.Holds, timeout, interval, cancellationToken, waitBeforeFirstLook);

    internal static string Seconds(TimeSpan time) => $"{time.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s";
}
