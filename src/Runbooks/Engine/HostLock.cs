using System.Globalization;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>
/// Who runs a runbook, written into the lock on every host the run changes, so that a second operator
/// learns who holds the host and since when instead of racing them (two people typing <c>pvmove</c> on
/// one volume group is how a repair turns into data loss).
/// </summary>
public sealed record HostLockOwner(string Token, string User, int Pid, string Machine, string Runbook, DateTimeOffset Since)
{
    /// <summary>The owner for this process, running <paramref name="runbook"/> now.</summary>
    public static HostLockOwner ForThisProcess(string runbook) => new(
        Guid.NewGuid().ToString("N"), Environment.UserName, Environment.ProcessId, Environment.MachineName, runbook, DateTimeOffset.UtcNow);

    /// <summary>The owner file: one <c>key=value</c> line each, newlines in values flattened so a line stays a field.</summary>
    public string Render() => string.Join('\n',
        $"token={Token}", $"user={Flat(User)}", $"pid={Pid}", $"machine={Flat(Machine)}", $"runbook={Flat(Runbook)}",
        $"since={Since.ToString("O", CultureInfo.InvariantCulture)}") + "\n";

    /// <summary>Parses an owner file; <c>null</c> when it is empty or unreadable (a lock being taken this very moment).</summary>
    public static HostLockOwner? Parse(string text)
    {
        var fields = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        if (!fields.TryGetValue("token", out var token))
        {
            return null;
        }

        return new HostLockOwner(
            token,
            fields.GetValueOrDefault("user", "?"),
            int.TryParse(fields.GetValueOrDefault("pid"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0,
            fields.GetValueOrDefault("machine", "?"),
            fields.GetValueOrDefault("runbook", "?"),
            DateTimeOffset.TryParse(fields.GetValueOrDefault("since"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since) ? since : DateTimeOffset.MinValue);
    }

    public override string ToString() =>
        $"{User} (pid {Pid} on {Machine}) running {Runbook} since {Since.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)}";

    private static string Flat(string value) => value.Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>
/// How a run locks its hosts: where the lock lives on each host, who this run is, and whether a stale
/// lock (its holder's process gone from this machine) may be broken.
/// </summary>
public sealed record HostLocking(HostLockOwner Owner, string Path = HostLocking.DefaultPath, bool BreakStale = false)
{
    /// <summary>Under <c>/run</c> so a reboot clears it: a lock never outlives the machine's uptime.</summary>
    public const string DefaultPath = "/run/lock/runbook";

    /// <summary>Whether the process recorded in a lock is alive; only answerable for locks taken on this machine.</summary>
    public Func<HostLockOwner, bool?> HolderAlive { get; init; } = DefaultHolderAlive;

    /// <summary>This process's locking of <paramref name="runbook"/>: at <see cref="DefaultPath"/>, or where <c>RUNBOOK_LOCK</c> moves it.</summary>
    public static HostLocking FromEnvironment(string runbook, bool breakStale)
    {
        // RUNBOOK_LOCK moves the lock on every host, for machines where several independent tools share /run.
        var path = Environment.GetEnvironmentVariable("RUNBOOK_LOCK") is { Length: > 0 } custom ? custom : DefaultPath;
        if (!path.StartsWith('/'))
        {
            throw new InvalidRunbookException($"RUNBOOK_LOCK={path}: the host lock path must be absolute (default {DefaultPath})");
        }

        return new HostLocking(HostLockOwner.ForThisProcess(runbook), path, breakStale);
    }

    private static bool? DefaultHolderAlive(HostLockOwner holder) =>
        string.Equals(holder.Machine, Environment.MachineName, StringComparison.Ordinal) && holder.Pid > 0
            ? System.IO.Directory.Exists($"/proc/{holder.Pid}")
            : null;
}

/// <summary>A host another run holds; nothing was changed on any host.</summary>
public sealed class HostLockedException : RunbookException
{
    public HostLockedException(string host, string transport, string lockPath, HostLockOwner? holder, string whatToDo)
        : base($"host '{host}' ({transport}) is locked by another run: " +
               (holder is null ? $"{lockPath} exists without an owner yet (a run is taking it right now)" : holder.ToString()) +
               $"; nothing was changed. {whatToDo}")
    {
        Host = host;
        Holder = holder;
    }

    public string Host { get; }

    public HostLockOwner? Holder { get; }
}

/// <summary>
/// The lock itself: an atomic <c>mkdir</c> on the host, through the host's own transport so it works the
/// same locally, over SSH and in a network namespace. Plans never take it.
/// </summary>
internal static class HostLock
{
    private const int HeldExit = 3;

    // mkdir is atomic on every filesystem a lock directory lives on; the owner file is written after it,
    // so a reader may briefly find the directory without one.
    private const string AcquireScript =
        "mkdir -p -- \"$(dirname -- \"$1\")\" && if mkdir -m 0700 -- \"$1\" 2>/dev/null; then printf '%s' \"$2\" > \"$1/owner\"; " +
        "else cat -- \"$1/owner\" 2>/dev/null; exit 3; fi";

    // Removes the lock only while it still carries the given token: a lock broken and re-taken by someone
    // else in the meantime stays theirs.
    private const string ReleaseScript =
        "if grep -qx -- \"token=$2\" \"$1/owner\" 2>/dev/null; then rm -f -- \"$1/owner\" && rmdir -- \"$1\"; fi";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Locks every host in <paramref name="hosts"/> once per machine, in order, adding each context it locked through to
    /// <paramref name="locked"/> as it goes (so a refusal part-way still releases the rest). Two inventory names for one
    /// machine reach one lock directory: the second finds it held by this very run and is not locked again, while netns
    /// hosts that share the machine's id keep a private /run/lock each and so a lock each. One command per host.
    /// </summary>
    public static async Task AcquireAllAsync(IEnumerable<HostContext> hosts, HostLocking locking, List<HostContext> locked, CancellationToken cancellationToken)
    {
        foreach (var host in hosts)
        {
            if (await AcquireAsync(host, locking, cancellationToken).ConfigureAwait(false))
            {
                locked.Add(host);
            }
        }
    }

    /// <summary>Takes the host's lock (true), or finds it held by this run through another name for the machine (false); throws when someone else holds it.</summary>
    public static async Task<bool> AcquireAsync(HostContext host, HostLocking locking, CancellationToken cancellationToken)
    {
        var holder = await TryAcquireAsync(host, locking, cancellationToken).ConfigureAwait(false);
        if (holder.Taken)
        {
            return true;
        }

        if (holder.Owner?.Token == locking.Owner.Token)
        {
            return false;
        }

        var alive = holder.Owner is null ? true : locking.HolderAlive(holder.Owner);
        if (alive == false && locking.BreakStale)
        {
            await RunAsync(host, Shell.Script(ReleaseScript, locking.Path, holder.Owner!.Token), cancellationToken).ConfigureAwait(false);
            holder = await TryAcquireAsync(host, locking, cancellationToken).ConfigureAwait(false);
            if (holder.Taken)
            {
                return true;
            }

            alive = holder.Owner is null ? true : locking.HolderAlive(holder.Owner);
        }

        var whatToDo = alive switch
        {
            true => "Wait for that run to finish (its journal shows its progress), then run again.",
            false => $"Its process is gone from this machine, so the lock is stale: run again with --break-lock (the run re-probes every step, so whatever the dead run half-did is found and finished).",
            null => $"It was taken from another machine, so its process cannot be checked from here: ask {holder.Owner!.User} on {holder.Owner.Machine}, and only if that run is dead remove {locking.Path} on the host by hand.",
        };
        throw new HostLockedException(host.Name, host.Transport.Name, locking.Path, holder.Owner, whatToDo);
    }

    /// <summary>
    /// Releases the lock when this run holds it. Never throws: it runs while another error may be on its way
    /// out, and a lock left behind by a lost connection names a holder that is gone, which the next run
    /// reports as stale with the way to break it.
    /// </summary>
    public static async Task ReleaseAsync(HostContext host, HostLocking locking)
    {
        try
        {
            // Not the run's token: a cancelled run must still let go of its hosts.
            using var timeout = new CancellationTokenSource(Timeout);
            await RunAsync(host, Shell.Script(ReleaseScript, locking.Path, locking.Owner.Token), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RunbookException or OperationCanceledException)
        {
            // See above: the next run explains the leftover lock.
        }
    }

    private static async Task<(bool Taken, HostLockOwner? Owner)> TryAcquireAsync(HostContext host, HostLocking locking, CancellationToken cancellationToken)
    {
        var command = Shell.Script(AcquireScript, locking.Path, locking.Owner.Render()).WithSuccessExitCodes(0, HeldExit);
        var result = await RunAsync(host, command, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0 ? (true, null) : (false, HostLockOwner.Parse(result.StandardOutput));
    }

    private static Task<CommandResult> RunAsync(HostContext host, Command command, CancellationToken cancellationToken) =>
        host.Transport.RunCheckedAsync(command.WithTimeout(Timeout), cancellationToken);
}
