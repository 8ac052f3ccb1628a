using System.Collections.Concurrent;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>
/// A host as steps see it: read-only facts (cached for one probe round — until a command is applied on any
/// host of the run, or a poll asks for fresh ones — so <c>pvs</c> asked by five questions, steps and checks
/// runs once) and applied commands (journaled; they end the round). Other hosts of the
/// inventory are reachable by name so a fact read on one can feed a step on another.
/// </summary>
public sealed partial class HostContext
{
    // This round's reads. Each round is a dictionary of its own: ending the round swaps in an empty one, so a read that
    // completes after the round ended (another host's apply in a parallel run) files its answers where no look finds them.
    private ConcurrentDictionary<Command, Task<CommandResult>> _facts = new();
    private readonly Inventory _inventory;
    private readonly IRunObserver _observer;

    internal HostContext(string name, ITransport transport, Inventory inventory, IRunObserver observer, bool planOnly, string? keepDirectory = null)
    {
        Name = name;
        Transport = transport;
        _inventory = inventory;
        _observer = observer;
        PlanOnly = planOnly;
        KeepDirectory = keepDirectory;
    }

    /// <summary>The inventory name of the host, e.g. <c>local</c> or <c>server</c>.</summary>
    public string Name { get; }

    public ITransport Transport { get; }

    /// <summary>True while planning: applying anything is refused.</summary>
    public bool PlanOnly { get; }

    /// <summary>
    /// The steps of <paramref name="target"/> that changed something in this run so far (in a plan: that will change),
    /// on whichever host it ran; empty when it changed nothing or has not run.
    /// </summary>
    /// <example><c>host.ChangesOf("app-config").Count > 0</c></example>
    public IReadOnlyList<string> ChangesOf(string target) => _inventory.Changes.Of(target);
    /// <summary>This run's directory on the host for what undo needs kept (replaced files); null when planning.</summary>
    public string? KeepDirectory { get; }

    /// <summary>Another host of the same run, by inventory name.</summary>
    public HostContext Host(string name) => _inventory.Context(name);

    /// <summary>Runs a read-only command, at most once per probe round; throws when it fails.</summary>
    public async Task<CommandResult> ReadAsync(Command command, CancellationToken cancellationToken)
    {
        var result = await TryReadAsync(command, cancellationToken).ConfigureAwait(false);
        if (!command.SuccessExitCodes.Contains(result.ExitCode))
        {
            throw new CommandFailedException(Transport.Name, command, result);
        }

        return result;
    }

    /// <summary>Runs a read-only command, at most once per probe round; the exit code is the caller's to judge.</summary>
    public Task<CommandResult> TryReadAsync(Command command, CancellationToken cancellationToken)
    {
        command = command.AsReadOnly();
        var read = Facts.GetOrAdd(command, c => RunRecordedAsync(c, cancellationToken));
        return FactLog.Current is { } log ? log.RecordAsync(Name, command, read) : read;
    }

    /// <summary>The read of one file, as a step asks for it alone: <c>cat -- PATH</c>.</summary>
    public static Command FileRead(string path)
    {
        var read = new Command("cat", ["--", path]).AsReadOnly();
        return ProcStat().IsMatch(path) ? read.WithFactView(ProcessIdentity) : read;
    }

    /// <summary>A file's text as a fact: its <see cref="FileRead"/>, failing with cat's error when it cannot be read.</summary>
    /// <example><c>var fstab = await host.FactAsync(HostContext.FileContent("/etc/fstab"), ct);</c></example>
    public static Fact<string> FileContent(string path) => new(FileRead(path), r => r.StandardOutput);

    /// <summary>A file's text, or null when it cannot be read (missing, a directory, no permission).</summary>
    /// <example><c>var conf = await host.FactAsync(HostContext.FileContentIfReadable("/etc/sysctl.conf"), ct);</c></example>
    public static Fact<string?> FileContentIfReadable(string path) => new(FileRead(path), r => r.ExitCode == 0 ? r.StandardOutput : null, mustSucceed: false);

    // /proc/PID/stat counts CPU time and page faults as the process runs; what decisions rest on is which process
    // it is: pid, name, state, parent and start time (field 22).
    private static string ProcessIdentity(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return stat;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 ? $"{stat[..(close + 1)]} {fields[0]} {fields[1]} {fields[19]}" : stat;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^/proc/\d+/stat$")]
    private static partial System.Text.RegularExpressions.Regex ProcStat();

    /// <summary>
    /// Reads several files in one round trip and files each answer in the probe round under
    /// <see cref="FileRead"/>, so the step's own <c>TryReadAsync(FileRead(path))</c> then costs nothing.
    /// Files already read this round are not read again.
    /// </summary>
    /// <example><c>await host.PrefetchFilesAsync(["/etc/fstab", "/etc/hosts"], ct);</c></example>
    public Task PrefetchFilesAsync(IEnumerable<string> paths, CancellationToken cancellationToken) =>
        PrefetchAsync(paths.Select(FileContentIfReadable), cancellationToken);

    /// <summary>
    /// Reads the facts this round has not read yet in one round trip (<see cref="ReadBatch"/>): a fact answered by a
    /// combined read through it, each answer filed as if read alone. Over SSH to a slow host every command is a
    /// channel, a shell and an exec (0.15–0.2 s under emulation); a probe that looks at four things should pay for
    /// one. Best effort: a batch that times out or does not split leaves each fact to its own read and error. Not
    /// logged as a fact itself: a decision rests on the reads it then asks for, which the plan records one by one.
    /// </summary>
    /// <example><c>await host.PrefetchAsync([LoopReads.Devices, LoopReads.FileSize("/media/disk3.img")], ct);</c></example>
    public async Task PrefetchAsync(IEnumerable<IFact> facts, CancellationToken cancellationToken)
    {
        var wanted = new List<Command>();
        var combined = new Dictionary<Command, CombinedRead>();
        foreach (var fact in facts)
        {
            if (HasRead(fact.Read) || (fact.Via is { } via && HasRead(via.Read)))
            {
                continue;
            }

            var read = fact.Via?.Read ?? fact.Read;
            if (ReadBatch.Fits(read) && !wanted.Contains(read))
            {
                wanted.Add(read);
                if (fact.Via is { } through)
                {
                    combined[read] = through;
                }
            }
        }

        if (wanted.Count < 2)
        {
            return;
        }

        var round = Facts;
        try
        {
            await ReadCombinedAsync(ReadBatch.Of(wanted), round, cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException)
        {
            // Timed out, or the host is not reachable: each fact's own read then says so, naming its command.
            return;
        }

        foreach (var (read, through) in combined)
        {
            if (round.TryGetValue(read, out var answer) && answer.IsCompletedSuccessfully)
            {
                File(through, answer.Result, round);
            }
        }
    }

    /// <summary>
    /// A fact, from this round's reads when it was read already; when its read has a <see cref="Fact{T}.Via"/> and
    /// this round has read neither, the combined read goes first and answers the others of its parts too.
    /// </summary>
    /// <example><c>var pvs = await host.FactAsync(LvmFacts.Pvs, ct);</c></example>
    public async Task<T> FactAsync<T>(Fact<T> fact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fact);
        if (fact.Via is { } via && !HasRead(fact.Read) && !HasRead(via.Read))
        {
            await ReadCombinedAsync(via, Facts, cancellationToken).ConfigureAwait(false);
        }

        var result = await TryReadAsync(fact.Read, cancellationToken).ConfigureAwait(false);
        return fact.Answers(result) ? fact.Parse(result) : throw new CommandFailedException(Transport.Name, fact.Read, result);
    }

    // A combined read that fails or does not split leaves each part to be read on its own, with its own error. It is
    // not a fact of the plan itself: the parts a decision asks for are, one by one, as when it ran in a batch.
    private async Task ReadCombinedAsync(CombinedRead read, ConcurrentDictionary<Command, Task<CommandResult>> round, CancellationToken cancellationToken)
    {
        var combined = await round.GetOrAdd(read.Read.AsReadOnly(), c => RunRecordedAsync(c, cancellationToken)).ConfigureAwait(false);
        File(read, combined, round);
    }

    private static void File(CombinedRead read, CommandResult combined, ConcurrentDictionary<Command, Task<CommandResult>> round)
    {
        if (combined.ExitCode != 0 || read.Split(combined) is not { } parts)
        {
            return;
        }

        foreach (var (part, answer) in parts)
        {
            // A read already made this round keeps its own answer.
            round.TryAdd(part.AsReadOnly(), Task.FromResult(answer));
        }
    }

    private ConcurrentDictionary<Command, Task<CommandResult>> Facts => Volatile.Read(ref _facts);

    private bool HasRead(Command command) => Facts.ContainsKey(command.AsReadOnly());

    internal void RecordChange(string target, string step) => _inventory.Changes.Record(target, step);

    /// <summary>The current run's record of changes: the same object for every host and step of one run, a new one per run.</summary>
    internal RunChanges Run => _inventory.Changes;

    /// <summary>Runs a changing command; fails on a non-success exit code. Ends the probe round.</summary>
    public async Task<CommandResult> ApplyAsync(Command command, CancellationToken cancellationToken)
    {
        if (PlanOnly && !command.ReadOnly)
        {
            throw new InvalidOperationException($"plan is read-only but a step tried to run `{command.Render()}`");
        }

        EndRound();
        try
        {
            var result = await RunRecordedAsync(command, cancellationToken).ConfigureAwait(false);
            if (!command.SuccessExitCodes.Contains(result.ExitCode))
            {
                throw new CommandFailedException(Transport.Name, command, result);
            }

            return result;
        }
        finally
        {
            EndRound();
        }
    }

    /// <summary>
    /// Executes a step's actions in order, each announced to the observer (the journal) before it starts. A
    /// <see cref="Guard"/> is checked against the action after it, so its error names what it stopped.
    /// </summary>
    public async Task RunActionsAsync(IReadOnlyList<StepAction> actions, CancellationToken cancellationToken)
    {
        for (var index = 0; index < actions.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var action = actions[index];
            _observer.ActionStarted(Name, action);
            if (action is Guard guard)
            {
                await guard.VerifyAsync(this, index + 1 < actions.Count ? actions[index + 1] : null, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ExecuteRecordingReversalAsync(action, cancellationToken).ConfigureAwait(false);
        }
    }

    // The state the reversal reads is taken right before and right after the action, on the host itself: undo then
    // knows both what to go back to and what the run left, and refuses when someone changed it since.
    private async Task ExecuteRecordingReversalAsync(StepAction action, CancellationToken cancellationToken)
    {
        var reversal = action.ReversalOn(this);
        var before = reversal.Read is null ? null : reversal.Proven ?? await StateAsync(reversal, cancellationToken).ConfigureAwait(false);
        var reported = await action.ExecuteReportingStateAsync(this, cancellationToken).ConfigureAwait(false);
        var left = reversal.Read is null ? null : reported ?? await StateAsync(reversal, cancellationToken).ConfigureAwait(false);
        _observer.ActionApplied(Name, action, reversal, before, left);
    }

    // Through the round's reads both times. Before the action nothing was applied since the probe, so what the probe
    // read is the state now; after it the action has ended the round, so the read is fresh — and it is the one the
    // step's verify then finds, instead of a second command for the same answer.
    private async Task<string> StateAsync(Reversal reversal, CancellationToken cancellationToken) =>
        reversal.Observed is { } observed
            ? Reversal.State(await FactAsync(observed, cancellationToken).ConfigureAwait(false))
            : Reversal.State((await TryReadAsync(reversal.Read!, cancellationToken).ConfigureAwait(false)).StandardOutput);

    /// <summary>
    /// Runs the command of a check that writes to find out (creates and removes a file). Refused in a plan; not
    /// cached, and it does not end the probe round: what it leaves behind is nothing a fact reads.
    /// </summary>
    public async Task<CommandResult> ProbeByWritingAsync(Command command, CancellationToken cancellationToken)
    {
        if (PlanOnly)
        {
            throw new InvalidOperationException($"plan is read-only but a writing check tried to run `{command.Render()}`; mark it with Check.Writing");
        }

        return await RunRecordedAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An error about this host: the one place that writes the <c>on host NAME: </c> prefix.</summary>
    /// <example><c>throw host.Failure("volume group vg0 does not exist")</c></example>
    public RunbookException Failure(string message) => new(Prefix(message));

    /// <summary>A reason (for a blocked step) about this host, with the same prefix as <see cref="Failure"/>.</summary>
    /// <example><c>StepProbe.Blocked("VG missing", host.Reason("volume group vg0 does not exist"))</c></example>
    public string Reason(string message) => Prefix(message);

    private string Prefix(string message) => $"on host {Name}: {message}";

    // Every host's round, not only this one's: a firewall flushed or an endpoint set here changes what the other
    // side sees. This host's own too, in case it was handed out before the inventory was bound to a new run.
    private void EndRound()
    {
        InvalidateFacts();
        _inventory.InvalidateFacts();
    }

    /// <summary>Forgets this host's cached facts: the engine does it after every applied command (on every host); a step or check that polls does it before each look.</summary>
    public void InvalidateFacts()
    {
        Volatile.Write(ref _facts, new());
    }

    /// <summary>Which probe round the host is in: the same object until its cached facts are forgotten.</summary>
    internal object Round => Facts;

    // Every command the engine runs goes through here, so the journal has each result, and each command a lost
    // connection took with it (the step's error says the same, but not which of its commands it was).
    private async Task<CommandResult> RunRecordedAsync(Command command, CancellationToken cancellationToken)
    {
        CommandResult result;
        try
        {
            result = await Transport.RunAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException lost) when (lost.ConnectionLost)
        {
            _observer.CommandLost(Name, command, lost.Message);
            throw;
        }
        catch (TransportException late) when (late.TimedOut)
        {
            _observer.CommandTimedOut(Name, command, late.Message);
            throw;
        }

        _observer.CommandRan(Name, command, result);
        return result;
    }
}
