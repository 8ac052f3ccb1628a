using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>Everything the engine does, as events: the journal and the console progress both listen.</summary>
public interface IRunObserver
{
    void RunStarted(RunMode mode, IReadOnlyList<Target> order);

    void TargetStarted(Target target);

    void StepStarted(Target target, int index, Step step);

    void StepProbed(Target target, int index, Step step, StepProbe probe, bool verifying);

    void CommandRan(string host, Command command, CommandResult result);

    /// <summary>An action of a step is about to be executed; the commands it runs follow as <see cref="CommandRan"/>.</summary>
    void ActionStarted(string host, StepAction action)
    {
    }

    /// <summary>The way to the host broke with <paramref name="command"/> in flight: no result, and it may still have run.</summary>
    void CommandLost(string host, Command command, string detail)
    {
    }

    /// <summary><paramref name="command"/> ran past its timeout with the connection up and was ended on the host (its process group); no result.</summary>
    void CommandTimedOut(string host, Command command, string detail)
    {
    }

    /// <summary>An action finished; <paramref name="reversal"/> puts it back, its read answered <paramref name="before"/> and <paramref name="left"/>.</summary>
    void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left)
    {
    }

    /// <summary>A confirmed apply moved on: armed on the host, confirmed, or reverted by the host (see <see cref="ConfirmedApply"/>).</summary>
    void Confirmation(string host, Target target, int index, string phase, string detail)
    {
    }

    void CheckEvaluated(Target target, CheckOutcome outcome);

    void StepEnded(Target target, StepResult result);

    void TargetEnded(TargetResult result);

    void RunEnded(RunSummary summary);
}

/// <summary>An observer that ignores everything; override what you need.</summary>
public class RunObserver : IRunObserver
{
    public virtual void RunStarted(RunMode mode, IReadOnlyList<Target> order)
    {
    }

    public virtual void TargetStarted(Target target)
    {
    }

    public virtual void StepStarted(Target target, int index, Step step)
    {
    }

    public virtual void StepProbed(Target target, int index, Step step, StepProbe probe, bool verifying)
    {
    }

    public virtual void CommandRan(string host, Command command, CommandResult result)
    {
    }

    public virtual void ActionStarted(string host, StepAction action)
    {
    }

    public virtual void CommandLost(string host, Command command, string detail)
    {
    }

    public virtual void CommandTimedOut(string host, Command command, string detail)
    {
    }

    public virtual void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left)
    {
    }

    public virtual void Confirmation(string host, Target target, int index, string phase, string detail)
    {
    }

    public virtual void CheckEvaluated(Target target, CheckOutcome outcome)
    {
    }

    public virtual void StepEnded(Target target, StepResult result)
    {
    }

    public virtual void TargetEnded(TargetResult result)
    {
    }

    public virtual void RunEnded(RunSummary summary)
    {
    }
}

internal sealed class NullObserver : RunObserver
{
    public static readonly NullObserver Instance = new();
}

/// <summary>Sends every event to several observers, in order; one observer is serialised by a lock.</summary>
public sealed class CompositeObserver(params IRunObserver[] observers) : IRunObserver
{
    private readonly Lock _gate = new();

    public void RunStarted(RunMode mode, IReadOnlyList<Target> order) => Each(o => o.RunStarted(mode, order));

    public void TargetStarted(Target target) => Each(o => o.TargetStarted(target));

    public void StepStarted(Target target, int index, Step step) => Each(o => o.StepStarted(target, index, step));

    public void StepProbed(Target target, int index, Step step, StepProbe probe, bool verifying) => Each(o => o.StepProbed(target, index, step, probe, verifying));

    public void CommandRan(string host, Command command, CommandResult result) => Each(o => o.CommandRan(host, command, result));

    public void ActionStarted(string host, StepAction action) => Each(o => o.ActionStarted(host, action));

    public void CommandLost(string host, Command command, string detail) => Each(o => o.CommandLost(host, command, detail));

    public void CommandTimedOut(string host, Command command, string detail) => Each(o => o.CommandTimedOut(host, command, detail));

    public void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left) => Each(o => o.ActionApplied(host, action, reversal, before, left));

    public void Confirmation(string host, Target target, int index, string phase, string detail) => Each(o => o.Confirmation(host, target, index, phase, detail));

    public void CheckEvaluated(Target target, CheckOutcome outcome) => Each(o => o.CheckEvaluated(target, outcome));

    public void StepEnded(Target target, StepResult result) => Each(o => o.StepEnded(target, result));

    public void TargetEnded(TargetResult result) => Each(o => o.TargetEnded(result));

    public void RunEnded(RunSummary summary) => Each(o => o.RunEnded(summary));

    private void Each(Action<IRunObserver> action)
    {
        lock (_gate)
        {
            foreach (var observer in observers)
            {
                action(observer);
            }
        }
    }
}
