using System.Text.Json.Nodes;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Journal;

/// <summary>
/// The inverse of a journaled run: every applied action that recorded a reversal becomes a step, newest first, grouped
/// into one target per stretch of the run on one target and host; the actions that cannot be undone are listed, each
/// with why. Planned and applied by the ordinary runner, so undo is probed, journaled and verified like any run.
/// </summary>
public sealed class UndoPlan
{
    private UndoPlan(string journal, IReadOnlyList<Target> targets, IReadOnlyList<string> cannotUndo, IReadOnlyList<(string Name, string Uri)> machines)
    {
        Journal = journal;
        Targets = targets;
        CannotUndo = cannotUndo;
        Machines = machines;
    }

    public string Journal { get; }

    /// <summary>A fleet run's machines and where they were reached (the journal's <c>fleet-start</c>); empty for a runbook's run.</summary>
    public IReadOnlyList<(string Name, string Uri)> Machines { get; }

    /// <summary>Undo targets in the order they run (the newest change first), each depending on the one before (on the same machine, for a fleet run).</summary>
    public IReadOnlyList<Target> Targets { get; }

    /// <summary>"on host H, target T step N: `summary` — why", newest first.</summary>
    public IReadOnlyList<string> CannotUndo { get; }

    public TargetGraph Graph => new(Targets);

    /// <summary>Reads the applied actions of <paramref name="path"/>; a journal with none is refused, naming what it holds.</summary>
    /// <example><c>var undo = UndoPlan.FromJournal(".runbook/journal/wireguard-link-20261201T110400.123Z.jsonl");</c></example>
    public static UndoPlan FromJournal(string path)
    {
        var journal = JournalReader.Read(path);
        var applied = journal.Records.Where(r => JournalReader.Str(r, "event") == "action-applied").ToList();
        if (journal.Records.FirstOrDefault(r => JournalReader.Str(r, "event") == "run-start") is { } start && JournalReader.Str(start, "undoOf") is not null)
        {
            throw new InvalidRunbookException($"{path} is the journal of an undo; to redo, run the runbook again");
        }

        if (applied.Count == 0)
        {
            throw new InvalidRunbookException($"{path} records no applied action (a plan, a run with nothing to change, or a journal older than undo): nothing to undo");
        }

        // A fleet run's machines ran side by side, their records interleaved, each on its own: each machine is undone on
        // its own, newest first, and one machine's refused step does not keep the others from being put back.
        var fleet = journal.Records.Any(r => JournalReader.Str(r, "event") == "fleet-start");
        if (fleet)
        {
            applied = [.. applied.GroupBy(r => JournalReader.Str(r, "host"), StringComparer.Ordinal).SelectMany(g => g)];
        }

        var targets = new List<Target>();
        var cannot = new List<string>();
        var steps = new List<Step>();
        (string Host, string Target)? current = null;
        void Close()
        {
            if (current is { } c && steps.Count > 0)
            {
                var name = $"undo-{c.Target}";
                for (var n = 2; targets.Any(t => t.Name == name); n++)
                {
                    name = $"undo-{c.Target}-{n}";
                }

                var before = targets.LastOrDefault(t => !fleet || t.Host == c.Host);
                targets.Add(new Target(name, $"undo what target {c.Target} changed on {c.Host}", before is null ? [] : [before.Name], [.. steps]).On(c.Host));
            }

            steps.Clear();
        }

        // What the run left last, per host and read: while planning, an older action's state is only reached once the
        // newer undo steps before it ran, so that is the state its plan may find now.
        var lastLeft = new Dictionary<string, string>(StringComparer.Ordinal);

        // And what the first action on it found: a host back at that is as before the run, whatever came between.
        var firstBefore = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in applied)
        {
            if (record["undo"]?["read"] is { } read)
            {
                firstBefore.TryAdd($"{JournalReader.Str(record, "host") ?? Inventory.DefaultHost}\n{read.ToJsonString()}", JournalReader.Str(record["undo"]!.AsObject(), "before") ?? "");
            }
        }

        foreach (var record in Enumerable.Reverse(applied))
        {
            var host = JournalReader.Str(record, "host") ?? Inventory.DefaultHost;
            var target = JournalReader.Str(record, "target") ?? "(unknown target)";
            var summary = JournalReader.Str(record, "summary") ?? "";
            var origin = $"target {target} step {(int?)record["step"]}: `{(summary.Contains('\n', StringComparison.Ordinal) ? summary[..summary.IndexOf('\n', StringComparison.Ordinal)] + " …" : summary)}`";
            var undo = record["undo"] as JsonObject ?? new JsonObject { ["cannot"] = "the journal recorded no reversal" };
            if (undo["nothing"] is not null)
            {
                continue;
            }

            if (JournalReader.Str(undo, "cannot") is { } why)
            {
                cannot.Add($"on host {host}, {origin} — {why}");
                continue;
            }

            if (current != (host, target))
            {
                Close();
                current = (host, target);
            }

            var left = JournalReader.Str(undo, "left") ?? "";
            var readKey = $"{host}\n{undo["read"]!.ToJsonString()}";
            var newest = lastLeft.TryAdd(readKey, left) ? left : lastLeft[readKey];
            steps.Add(new UndoStep(origin, JournalReader.Str(undo, "description")!, CommandJson.FromJson(undo["read"]!),
                JournalReader.Str(undo, "before") ?? "", firstBefore[readKey], left, newest, [.. undo["inverse"]!.AsArray().Select(c => CommandJson.FromJson(c!))]));
        }

        Close();
        return new UndoPlan(journal.Path, targets, cannot, journal.FleetMachines());
    }
}

/// <summary>
/// One recorded action put back: satisfied when the host is already as before the run, applied when it is still as
/// the run left it, and blocked — nothing run — when it is neither (someone changed it since).
/// </summary>
internal sealed class UndoStep(string origin, string description, Command read, string before, string beforeRun, string left, string leftLast, IReadOnlyList<Command> inverse) : Step
{
    public override string Description => $"{description} (undoes {origin})";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var result = await host.TryReadAsync(read, cancellationToken).ConfigureAwait(false);
        var now = Reversal.State(result.StandardOutput);
        if (now == before || now == beforeRun)
        {
            return StepProbe.Satisfied($"as before the run: {Shown(now)}");
        }

        if (host.PlanOnly && now != left && now == leftLast)
        {
            return StepProbe.Act($"as the run left it after later changes to the same thing: {Shown(now)}", inverse.Select(c => new RunCommand(c))) with
            {
                Notes = [$"the undo steps before this one take those later changes back first, leaving {Shown(left)}"],
            };
        }

        if (now != left)
        {
            return StepProbe.Blocked($"now: {Shown(now)}",
                host.Reason($"it changed since the run: `{read.Render()}` answered {Shown(left)} when the run left it and answers {Shown(now)} now; nothing of it is undone — find out what changed it, then undo by hand or run the runbook at the revision you want"));
        }

        return StepProbe.Act($"as the run left it: {Shown(now)}", inverse.Select(c => new RunCommand(c)));
    }

    private static string Shown(string state) => state.Length == 0 ? "(nothing)" : state.Length > 200 ? $"'{state[..200]}…'" : $"'{state}'";
}
