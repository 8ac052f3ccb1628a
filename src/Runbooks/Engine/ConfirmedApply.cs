using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>
/// Applies a step that can cut the controller off (a firewall rule, a route, sshd's config) the way Juniper's
/// <c>commit confirmed</c> does: the host first arms its own revert — a detached process, under systemd-run where
/// systemd runs, else <c>setsid</c>, so it outlives the SSH session — then the change is made, then a *fresh*
/// connection must reach the host and disarm the revert before the timeout. If none can, the host runs the step's
/// inverse by itself and the step fails naming the revert. The old connection proves nothing: an established
/// session can survive a rule that refuses every new one.
/// </summary>
public static class ConfirmedApply
{
    /// <summary>How long a fresh connection has to confirm, unless <c>--confirm-timeout</c> says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // After the timeout the host needs a moment to run the inverse; then we look for it to answer again this long.
    private static readonly TimeSpan ReachableAgainWithin = TimeSpan.FromSeconds(40);

    private const string Directory = "/run/runbook-confirm";

    // $1 id, $2 seconds, $3 the revert script, $4 the directory. The fire script renames the armed marker before it
    // reverts, and the disarm removes it: whichever comes first wins, so a late confirmation never races a revert.
    private const string ArmScript = """
        set -e
        mkdir -p -m 700 -- "$4"
        printf '%s' "$3" > "$4/$1.revert"
        cat > "$4/$1.fire" <<'FIRE'
        sleep "$2"
        mv -- "$3/$1.armed" "$3/$1.firing" 2>/dev/null || exit 0
        sh "$3/$1.revert" > "$3/$1.log" 2>&1
        echo "$?" > "$3/$1.done"
        FIRE
        : > "$4/$1.armed"
        if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemd-run --quiet --collect --unit "runbook-revert-$1" sh "$4/$1.fire" "$1" "$2" "$4"
            echo "armed with systemd-run (unit runbook-revert-$1)"
        else
            setsid -f sh "$4/$1.fire" "$1" "$2" "$4" </dev/null >/dev/null 2>&1
            echo "armed with setsid"
        fi
        """;

    private const string DisarmScript = """
        if rm -- "$2/$1.armed" 2>/dev/null; then rm -f -- "$2/$1.revert" "$2/$1.fire"; echo confirmed; else echo "the host already started reverting" >&2; exit 1; fi
        """;

    // The revert's exit status on the first line, its output after; then nothing of it is left on the host.
    private const string RevertedScript = """
        if [ -e "$2/$1.done" ]; then cat -- "$2/$1.done" "$2/$1.log"; rm -f -- "$2/$1.done" "$2/$1.log" "$2/$1.firing" "$2/$1.fire" "$2/$1.revert"; else echo "no record of the revert finishing"; fi
        """;

    internal static async Task ApplyAsync(Step step, StepProbe probe, HostContext host, IFreshConnections fresh, Target target, int index, IRunObserver observer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reversals = probe.Actions.Select(a => a.ReversalOn(host)).ToList();
        if (reversals.FirstOrDefault(r => r.Impossible is not null) is { } impossible)
        {
            // Nothing to arm: the change is made unconfirmed, and the journal says so.
            observer.Confirmation(host.Name, target, index, "unconfirmed", $"no revert can be armed: {impossible.Impossible}");
            await step.ApplyAsync(host, probe, cancellationToken).ConfigureAwait(false);
            return;
        }

        var inverse = Enumerable.Reverse(reversals).SelectMany(r => r.Inverse).ToList();
        var id = $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];
        var seconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        var armed = await host.ApplyAsync(Shell.Script(ArmScript, id, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Reversal.Script(inverse), Directory).WithTimeout(TimeSpan.FromSeconds(20)), cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var revertText = string.Join("; ", inverse.Select(c => c.Render()));
        observer.Confirmation(host.Name, target, index, "armed", $"{armed.StandardOutput.Trim()}; the host runs `{revertText}` in {seconds} s unless a fresh connection confirms");

        Exception? applyError = null;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // A change that cuts the session leaves its command's answer undelivered: give up on it halfway, so that
            // a fresh connection still has the other half to try before the host reverts.
            limit.CancelAfter(timeout / 2);
            try
            {
                await step.ApplyAsync(host, probe, limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RunbookException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                applyError = ex;
            }
        }

        var (confirmed, why) = await ConfirmAsync(fresh, id, timeout - clock.Elapsed, cancellationToken).ConfigureAwait(false);
        if (confirmed)
        {
            observer.Confirmation(host.Name, target, index, "confirmed", $"a fresh connection to {host.Transport.Name} disarmed the revert after {clock.Elapsed.TotalSeconds:0.0} s");
            if (applyError is not null)
            {
                throw applyError;
            }

            return;
        }

        // The old session may be wedged behind whatever cut it; later commands (the lock's release) start anew.
        fresh.DropConnection();
        var after = await ReachableAgainAsync(fresh, id, timeout - clock.Elapsed + ReachableAgainWithin, cancellationToken).ConfigureAwait(false);
        var detail = $"no fresh connection to {host.Transport.Name} could confirm it within {timeout.TotalSeconds:0} s ({why}); the host reverted it by itself: `{revertText}`"
                     + (after is null ? $"; the host did not answer within {ReachableAgainWithin.TotalSeconds:0} s after the revert either — reach it another way (console)"
                                      : $"; the host answers again (revert exit status {after})");
        observer.Confirmation(host.Name, target, index, after is null ? "revert-unverified" : "reverted", detail);
        throw host.Failure("this step cut the controller off: " + detail);
    }

    private static async Task<(bool Confirmed, string Why)> ConfirmAsync(IFreshConnections fresh, string id, TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var why = "no attempt";
        while (deadline.Elapsed < within)
        {
            var remaining = within - deadline.Elapsed;
            try
            {
                var result = await RunFreshAsync(fresh, Shell.Script(DisarmScript, id, Directory), remaining, cancellationToken).ConfigureAwait(false);
                if (result.ExitCode == 0)
                {
                    return (true, "");
                }

                return (false, result.StandardError.Trim());
            }
            catch (Exception ex) when (ex is TransportException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                why = ex is OperationCanceledException ? "the connection attempt did not finish" : ex.Message;
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
        }

        return (false, why);
    }

    private static async Task<string?> ReachableAgainAsync(IFreshConnections fresh, string id, TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            try
            {
                var result = await RunFreshAsync(fresh, Shell.Script(RevertedScript, id, Directory), within - deadline.Elapsed, cancellationToken).ConfigureAwait(false);
                var done = result.StandardOutput.Trim();
                if (done.Length > 0 && !done.StartsWith("no record", StringComparison.Ordinal))
                {
                    var lines = done.Split('\n', 2);
                    return lines.Length == 1 ? lines[0] : $"{lines[0]}; it printed: {lines[1].Trim()}";
                }
            }
            catch (Exception ex) when (ex is TransportException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Not back yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private static async Task<CommandResult> RunFreshAsync(IFreshConnections fresh, Command command, TimeSpan within, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(within > TimeSpan.Zero ? within : TimeSpan.FromMilliseconds(1));
        await using var connection = fresh.OpenFresh();
        return await connection.RunAsync(command.WithTimeout(TimeSpan.FromSeconds(10)), limit.Token).ConfigureAwait(false);
    }
}
