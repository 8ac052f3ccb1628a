using System.Diagnostics;
using Runbooks.Engine;
using Runbooks.Fleet;

namespace Runbooks.Cli.Output;

/// <summary>
/// A fleet run as it happens. On a terminal: one live line per machine of the batch (its state, the step it is
/// on, elapsed time), redrawn in place. Otherwise: one plain line per machine event and per target, each
/// prefixed with the machine, so interleaved hosts still read in a CI log.
/// </summary>
internal sealed class FleetProgress : IFleetObserver
{
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly Lock _gate = new();
    private readonly List<string> _shown = [];
    private readonly Dictionary<string, string> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Stopwatch> _clocks = new(StringComparer.Ordinal);
    private readonly Timer? _ticker;
    private int _drawn;

    public FleetProgress(TextWriter output, bool live)
    {
        _out = output;
        _live = live;
        _ticker = live ? new Timer(_ => Redraw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250)) : null;
    }

    public void BatchStarted(int number, int batches, IReadOnlyList<FleetMachine> machines)
    {
        lock (_gate)
        {
            // Finished lines of the last batch stay on screen; the new batch gets its own block.
            _drawn = 0;
            _shown.Clear();
            _shown.AddRange(machines.Select(m => m.Name));
            foreach (var machine in machines)
            {
                _state[machine.Name] = "waiting";
            }

            _out.WriteLine($"batch {number}/{batches}: {string.Join(", ", machines.Select(m => m.Name))}");
        }

        Redraw();
    }

    public void MachineStarted(FleetMachine machine)
    {
        lock (_gate)
        {
            _clocks[machine.Name] = Stopwatch.StartNew();
        }

        Update(machine.Name, $"start: {string.Join(", ", machine.Roles.Select(r => r.Role))} at {machine.Transport?.Name ?? machine.Uri}");
    }

    public void MachineEnded(MachineResult result)
    {
        var verdict = result.Status switch
        {
            MachineStatus.Changed => $"done: {result.Changes} step(s) changed",
            MachineStatus.Unchanged => "done: nothing to change",
            MachineStatus.Planned => $"planned: {result.Changes} step(s) would change",
            MachineStatus.Unreachable => $"UNREACHABLE: {result.Error}",
            // The reasons, one per line, are in the summary table; a live line stays one line.
            MachineStatus.Refused => $"REFUSED, nothing ran: {result.Error?.Split('\n')[0]}",
            _ => $"FAILED: {result.Error}",
        };
        Update(result.Machine.Name, $"{verdict} ({result.Duration.TotalSeconds:0.00} s)", final: true);
    }

    public void RolloutStopped(string reason)
    {
        lock (_gate)
        {
            _out.WriteLine(reason);
            _drawn = 0;
            _shown.Clear();
        }
    }

    /// <summary>The engine's events for one machine, folded into its line.</summary>
    public IRunObserver For(FleetMachine machine) => new MachineLine(this, machine.Name);

    public void Stop()
    {
        _ticker?.Dispose();
        Redraw();
    }

    private void Update(string machine, string state, bool final = false)
    {
        lock (_gate)
        {
            _state[machine] = state;
            if (final)
            {
                _clocks.Remove(machine);
            }

            if (!_live)
            {
                _out.WriteLine($"[{machine}] {state}");
            }
        }

        Redraw();
    }

    private void Redraw()
    {
        if (!_live)
        {
            return;
        }

        lock (_gate)
        {
            if (_drawn > 0)
            {
                _out.Write($"\u001b[{_drawn}A");
            }

            var width = _shown.Count == 0 ? 0 : _shown.Max(m => m.Length);
            foreach (var machine in _shown)
            {
                var elapsed = _clocks.TryGetValue(machine, out var clock) ? $" {clock.Elapsed.TotalSeconds,5:0.0}s" : "";
                _out.WriteLine($"\u001b[2K{machine.PadRight(width)}{elapsed}  {_state.GetValueOrDefault(machine, "")}");
            }

            _drawn = _shown.Count;
        }
    }

    private sealed class MachineLine(FleetProgress progress, string machine) : RunObserver
    {
        public override void StepStarted(Target target, int index, Step step)
        {
            if (progress._live)
            {
                progress.Update(machine, $"{target.Name} · step {index + 1}/{target.Steps.Count}: {step.Description}");
            }
        }

        public override void TargetEnded(TargetResult result)
        {
            var changed = result.Steps.Count(s => s.Outcome is StepOutcome.Changed or StepOutcome.WillChange);
            var line = $"{result.Name}: {SummaryRenderer.Status(result.Status)} ({changed} {(result.Status == TargetStatus.Planned ? "would change" : "changed")}, {result.Steps.Count(s => s.Outcome == StepOutcome.Satisfied)} satisfied){(result.Error is null ? "" : $" — {result.Error}")}";
            progress.Update(machine, line);
        }
    }
}
