using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Fleet;

/// <summary>
/// How a fleet run proceeds: at most <paramref name="Limit"/> machines at once (colmena's default of 10), in
/// rolling batches of <paramref name="Serial"/> machines, and stopping before the next batch once more than
/// <paramref name="MaxFailPercent"/> of a batch failed (Ansible's <c>serial</c> and <c>max_fail_percentage</c>).
/// </summary>
public sealed record RolloutOptions(int Limit = 10, BatchSize? Serial = null, int? MaxFailPercent = null)
{
    /// <summary>Parses the CLI's <c>--limit</c>, <c>--serial N|P%</c> and <c>--max-fail P%</c>; a bad value names the option.</summary>
    public static RolloutOptions Parse(int limit, string? serial, string? maxFail)
    {
        var problems = new List<string>();
        if (limit < 1)
        {
            problems.Add($"--limit {limit}: at least 1 machine at once");
        }

        BatchSize? batch = null;
        if (serial is not null)
        {
            batch = BatchSize.TryParse(serial, out var parsed) ? parsed : null;
            if (batch is null)
            {
                problems.Add($"--serial {serial}: give a number of machines (3) or a percentage of them (25%)");
            }
        }

        int? percent = null;
        if (maxFail is not null)
        {
            percent = int.TryParse(maxFail.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 100 ? p : null;
            if (percent is null)
            {
                problems.Add($"--max-fail {maxFail}: give a percentage from 0% to 100%");
            }
        }

        return problems.Count > 0 ? throw new InvalidRunbookException(problems) : new RolloutOptions(limit, batch, percent);
    }
}

/// <summary>A batch size: a count of machines, or a percentage of the selected ones (rounded up, at least one).</summary>
public readonly record struct BatchSize(int Value, bool IsPercent)
{
    public static bool TryParse(string text, out BatchSize size)
    {
        var percent = text.EndsWith('%');
        size = default;
        if (!int.TryParse(percent ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || (percent && value > 100))
        {
            return false;
        }

        size = new BatchSize(value, percent);
        return true;
    }

    /// <summary>Machines per batch out of <paramref name="total"/>.</summary>
    public int For(int total) => Math.Max(1, IsPercent ? (int)Math.Ceiling(total * Value / 100.0) : Math.Min(Value, total));

    public override string ToString() => IsPercent ? $"{Value}%" : Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How one machine ended.</summary>
public enum MachineStatus
{
    /// <summary>Run: every target held or was repaired, something changed.</summary>
    Changed,

    /// <summary>Run: everything already held.</summary>
    Unchanged,

    /// <summary>Plan: probed.</summary>
    Planned,

    Failed,

    /// <summary>The first command could not reach it; nothing ran there.</summary>
    Unreachable,

    /// <summary>Run of a saved plan: a fact this machine's plan rested on moved since it was approved; nothing ran there.</summary>
    Refused,

    /// <summary>The rollout stopped before its batch.</summary>
    NotRun,
}

public sealed record MachineResult(FleetMachine Machine, MachineStatus Status, RunSummary? Summary, string? Error, TimeSpan Duration)
{
    public bool Ok => Status is MachineStatus.Changed or MachineStatus.Unchanged or MachineStatus.Planned;

    /// <summary>Steps that changed something (run) or would (plan).</summary>
    public int Changes => Summary?.Targets.Sum(t => t.Steps.Count(s => s.Outcome is StepOutcome.Changed or StepOutcome.WillChange)) ?? 0;
}

public sealed record FleetSummary(RunMode Mode, IReadOnlyList<MachineResult> Machines, TimeSpan Duration, string? StoppedBecause)
{
    public bool Succeeded => Machines.All(m => m.Ok);

    /// <summary>Run of a staged saved plan: the machines whose stage ran and left blocked steps for the next plan.</summary>
    public IReadOnlyList<FleetMachine> StageDone => [.. Machines.Where(m => Mode == RunMode.Run && m.Ok && m.Summary?.StageDone == true).Select(m => m.Machine)];
}

/// <summary>What a rollout does at the machine level; the engine's own events for each machine go to its <see cref="IRunObserver"/>.</summary>
public interface IFleetObserver
{
    void BatchStarted(int number, int batches, IReadOnlyList<FleetMachine> machines);

    void MachineStarted(FleetMachine machine);

    void MachineEnded(MachineResult result);

    void RolloutStopped(string reason);
}

/// <summary>Plans or runs every machine of a prepared fleet, batch by batch, at most <see cref="RolloutOptions.Limit"/> at once.</summary>
public sealed class Rollout(PreparedFleet fleet, RolloutOptions options, IFleetObserver observer, Func<FleetMachine, IRunObserver> machineObserver)
{
    private static readonly TimeSpan ReachTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Plans or runs every machine. With <paramref name="approved"/> (a saved fleet plan and its path), each machine runs
    /// exactly its saved actions, after its facts are read again, read-only, right before it runs: a machine where one
    /// moved is refused and nothing runs there.
    /// </summary>
    public async Task<FleetSummary> RunAsync(RunMode mode, HostLocking? locking, CancellationToken cancellationToken, FleetPlanFile? approved = null)
    {
        var clock = Stopwatch.StartNew();
        var machines = fleet.Machines;
        var size = options.Serial?.For(machines.Count) ?? machines.Count;
        var batches = machines.Chunk(Math.Max(1, size)).ToList();
        var results = new List<MachineResult>();
        string? stopped = null;
        using var slots = new SemaphoreSlim(options.Limit);
        for (var b = 0; b < batches.Count; b++)
        {
            if (stopped is not null || cancellationToken.IsCancellationRequested)
            {
                var reason = stopped ?? "the run was cancelled";
                results.AddRange(batches[b].Select(m => new MachineResult(m, MachineStatus.NotRun, null, reason, TimeSpan.Zero)));
                continue;
            }

            observer.BatchStarted(b + 1, batches.Count, batches[b]);
            var batch = await Task.WhenAll(batches[b].Select(async m =>
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    observer.MachineStarted(m);
                    var result = await MachineAsync(m, mode, locking, approved, cancellationToken).ConfigureAwait(false);
                    observer.MachineEnded(result);
                    return result;
                }
                finally
                {
                    slots.Release();
                }
            })).ConfigureAwait(false);
            results.AddRange(batch);
            var failed = batch.Count(r => !r.Ok);
            if (options.MaxFailPercent is { } max && b + 1 < batches.Count && failed * 100 > max * batch.Length)
            {
                stopped = $"rollout stopped after batch {b + 1} of {batches.Count}: {failed} of {batch.Length} machine(s) failed, more than --max-fail {max}%";
                observer.RolloutStopped(stopped);
            }
        }

        return new FleetSummary(mode, results, clock.Elapsed, stopped);
    }

    private async Task<MachineResult> MachineAsync(FleetMachine machine, RunMode mode, HostLocking? locking, FleetPlanFile? approved, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var transport = machine.Transport ?? throw new InvalidOperationException($"machine {machine.Name} has no transport");

        // One trivial command first, so a machine that cannot be reached is reported as that, not as every step failing.
        try
        {
            var reach = await transport.RunAsync(new Command("true", []).AsReadOnly().WithTimeout(ReachTimeout), cancellationToken).ConfigureAwait(false);
            if (reach.ExitCode != 0)
            {
                return new MachineResult(machine, MachineStatus.Unreachable, null, $"`true` exited {reach.ExitCode} on {transport.Name}: {reach.StandardError.Trim()}", clock.Elapsed);
            }
        }
        catch (RunbookException ex)
        {
            return new MachineResult(machine, MachineStatus.Unreachable, null, ex.Message, clock.Elapsed);
        }

        // The fleet owns the transport: this inventory is not disposed, so the connection serves the whole run.
        var inventory = new Inventory().Add(machine.Name, transport);
        try
        {
            SavedPlan? plan = null;
            if (approved is { } saved)
            {
                plan = saved.Plan.Machine(machine.Name)?.Plan ?? throw new InvalidRunbookException($"machine {machine.Name} has no plan in {saved.Path}");
                var again = await new Runner(machine.Graph, inventory, new RunObserver())
                    .RunAsync(new RunRequest(RunMode.Plan, machine.TargetNames), cancellationToken).ConfigureAwait(false);
                if (plan.RefusalAgainst(FleetPlan.MachinePlan(fleet, machine, again), saved.Path) is { } refusal)
                {
                    return new MachineResult(machine, MachineStatus.Refused, null, refusal.ToString(), clock.Elapsed);
                }
            }

            var summary = await new Runner(machine.Graph, inventory, machineObserver(machine))
                .RunAsync(new RunRequest(mode, machine.TargetNames, Locking: locking) { Approved = plan }, cancellationToken).ConfigureAwait(false);

            // A staged plan's run ends with its later steps waiting for the next plan: that machine did what was approved.
            var done = summary.Succeeded || (plan is not null && summary.StageDone);
            var status = mode == RunMode.Plan ? (summary.Succeeded ? MachineStatus.Planned : MachineStatus.Failed)
                : !done ? MachineStatus.Failed
                : summary.Targets.Any(t => t.Status == TargetStatus.Succeeded) ? MachineStatus.Changed : MachineStatus.Unchanged;
            var error = summary.Targets.FirstOrDefault(t => !t.Ok && !(done && t.Status == TargetStatus.Waiting)) is { } bad ? $"target '{bad.Name}': {bad.Error}" : null;
            return new MachineResult(machine, status, summary, error, clock.Elapsed);
        }
        catch (RunbookException ex)
        {
            // A lock held by another operator, a connection lost: this machine fails, the others go on.
            return new MachineResult(machine, MachineStatus.Failed, null, ex.Message, clock.Elapsed);
        }
    }
}
