using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Cli.Output;

/// <summary>
/// Progress as it happens. On a terminal: colour and a live line with the running step and its elapsed
/// time. Otherwise: one plain line per event, so CI logs read top to bottom.
/// </summary>
internal sealed class ConsoleReporter : RunObserver
{
    private readonly TextWriter _out;
    private readonly bool _live;
    private readonly bool _verbose;
    private readonly Lock _gate = new();
    private readonly Timer? _ticker;
    private string? _current;
    private WriteFile? _scripted;
    private Stopwatch _stepClock = new();

    private readonly IReadOnlyDictionary<string, string> _addresses;

    /// <param name="addresses">Where each inventory host is reached, so a line names the machine, not just "local".</param>
    public ConsoleReporter(TextWriter output, bool live, bool verbose, IReadOnlyDictionary<string, string>? addresses = null)
    {
        _out = output;
        _addresses = addresses ?? new Dictionary<string, string>();
        _live = live;
        _verbose = verbose;
        _ticker = live ? new Timer(_ => Tick(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250)) : null;
    }

    public override void TargetStarted(Target target) =>
        Line($"{Paint("1", "▶")} {target.Name}{Where(target.Host)}");

    /// <summary>" on web (root@10.0.0.5:22)"; nothing for this machine itself.</summary>
    private string Where(string host)
    {
        var address = _addresses.GetValueOrDefault(host, host);
        return (host, address) switch
        {
            (Inventory.DefaultHost, Inventory.DefaultHost) => "",
            _ when address == host => $" on {host}",
            _ => $" on {host} ({address})",
        };
    }

    public override void StepStarted(Target target, int index, Step step)
    {
        lock (_gate)
        {
            _current = $"  {target.Name} · step {index + 1}: {step.Description}";
            _stepClock = Stopwatch.StartNew();
        }
    }

    public override void ActionStarted(string host, StepAction action)
    {
        if (action is RunCommand)
        {
            return;
        }

        Line($"    » {action.Summary}");
        // A file write is one long script; the action's summary says what it does, the script only with --verbose.
        lock (_gate)
        {
            _scripted = action as WriteFile;
        }
    }

    public override void CommandRan(string host, Command command, CommandResult result)
    {
        if (!_verbose && _scripted?.Runs(command) == true)
        {
            Line($"      → {result.ExitCode} ({result.Duration.TotalMilliseconds:0} ms)");
        }
        else if (_verbose || !command.ReadOnly)
        {
            Line($"    $ {command.Render()}  → {result.ExitCode} ({result.Duration.TotalMilliseconds:0} ms)");
        }
    }

    public override void CheckEvaluated(Target target, CheckOutcome outcome) =>
        Line(!outcome.Probed ? $"  · {outcome.Kind} {outcome.Description}: {outcome.Observed}" : $"  {(outcome.Holds ? Paint("32", "✓") : Paint("31", "✗"))} {outcome.Kind} {outcome.Description}{(outcome.Holds ? "" : $" — observed {outcome.Observed}")}");

    public override void StepEnded(Target target, StepResult result)
    {
        lock (_gate)
        {
            _current = null;
        }

        var mark = result.Outcome switch
        {
            StepOutcome.Satisfied => Paint("32", "✓ satisfied"),
            StepOutcome.Changed => Paint("33", "~ changed"),
            StepOutcome.WillChange => Paint("33", "~ will change"),
            _ => Paint("31", $"✗ {result.Outcome.ToString().ToLowerInvariant()}"),
        };
        var detail = result.Outcome switch
        {
            StepOutcome.Blocked => $"\n      precondition: {string.Join("; ", result.Unmet)}",
            StepOutcome.DidNotLand => $"\n      before: {result.Observed}\n      after:  {result.ObservedAfter}",
            StepOutcome.Failed => $"\n      {result.Error?.Replace("\n", "\n      ", StringComparison.Ordinal)}",
            _ => "",
        };
        Line($"  {mark} {result.Description} ({result.Duration.TotalSeconds:0.00} s){detail}");
    }

    public override void TargetEnded(TargetResult result)
    {
        if (result.Status == TargetStatus.NotRun)
        {
            Line($"{Paint("90", "○")} {result.Name}: did not run — {result.Error}");
        }
        else if (result.Status == TargetStatus.Failed)
        {
            Line($"{Paint("31", "✗")} {result.Name}: {result.Error}");
        }
        else if (result.Status == TargetStatus.Waiting)
        {
            Line($"{Paint("33", "…")} {result.Name}: waits — {result.Error}");
        }
    }

    public void Stop()
    {
        _ticker?.Dispose();
        lock (_gate)
        {
            if (_live)
            {
                _out.Write("\r\u001b[2K");
            }
        }
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_current is not null)
            {
                _out.Write($"\r\u001b[2K{Paint("90", $"{_current} … {_stepClock.Elapsed.TotalSeconds:0.0} s")}");
                _out.Flush();
            }
        }
    }

    private void Line(string text)
    {
        lock (_gate)
        {
            _out.WriteLine(_live ? $"\r\u001b[2K{text}" : text);
        }
    }

    private string Paint(string code, string text) => _live ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
