using System.Collections.Concurrent;

namespace Runbooks.Engine;

/// <summary>
/// What each target changed in the current run (or, in a plan, will change), step by step: a step that acts only
/// when another target changed something — a restart on a config change — reads it here.
/// </summary>
internal sealed class RunChanges
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _byTarget = new(StringComparer.Ordinal);

    public void Record(string target, string step) => _byTarget.GetOrAdd(target, _ => new ConcurrentQueue<string>()).Enqueue(step);

    public IReadOnlyList<string> Of(string target) => _byTarget.TryGetValue(target, out var steps) ? [.. steps] : [];
}

/// <summary>A step that acts only when one of the named targets changed something earlier in the same run.</summary>
public interface IChangeTriggered
{
    /// <summary>The targets whose changes trigger the step; each must be the step's own target or one it depends on.</summary>
    IReadOnlyList<string> Triggers { get; }
}
