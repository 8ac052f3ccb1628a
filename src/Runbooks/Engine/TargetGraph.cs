namespace Runbooks.Engine;

/// <summary>
/// The whole target graph, checked before anything runs: duplicate names, missing dependencies, cycles
/// (named <c>a -> b -> a</c>), unknown requested targets, hosts missing from the inventory — all reported at once.
/// </summary>
public sealed class TargetGraph
{
    private readonly Dictionary<string, Target> _byName;

    public TargetGraph(IReadOnlyList<Target> targets)
    {
        Targets = targets;
        _byName = new Dictionary<string, Target>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var target in targets)
        {
            if (!_byName.TryAdd(target.Name, target))
            {
                problems.Add($"{At(target)}target '{target.Name}' is defined more than once");
            }
        }

        foreach (var target in targets)
        {
            problems.AddRange(target.Dependencies
                .Where(d => !_byName.ContainsKey(d))
                .Select(d => $"{At(target)}target '{target.Name}' depends on '{d}', which is not defined{Suggest(d)}"));
        }

        var cycles = DependencyOrder.Sort(Targets.Select(t => t.Name), DependenciesOf, StringComparer.Ordinal).Cycles;
        problems.AddRange(cycles.Select(c => $"{At(_byName[c[0]])}dependency cycle: {DependencyOrder.Chain(c)}"));
        if (cycles.Count == 0)
        {
            problems.AddRange(UnorderedTriggers());
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems);
        }
    }

    public IReadOnlyList<Target> Targets { get; }

    // A step triggered by another target's changes must run after it, or it would decide before they happened.
    private IEnumerable<string> UnorderedTriggers()
    {
        foreach (var target in Targets)
        {
            var before = Closure(target.Name);
            foreach (var (step, index) in target.Steps.Select((s, i) => (s, i)))
            {
                foreach (var trigger in (step as IChangeTriggered)?.Triggers ?? [])
                {
                    if (!_byName.ContainsKey(trigger))
                    {
                        yield return $"{At(target)}target '{target.Name}' step {index + 1} acts when target '{trigger}' changes, which is not defined{Suggest(trigger)}";
                    }
                    else if (!before.Contains(trigger))
                    {
                        yield return $"{At(target)}target '{target.Name}' step {index + 1} acts when target '{trigger}' changes, but does not depend on it; add DependsOn(\"{trigger}\")";
                    }
                }
            }
        }
    }

    // The target itself and everything it depends on, directly or not.
    private HashSet<string> Closure(string name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([name]);
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next) && _byName.TryGetValue(next, out var target))
            {
                foreach (var dependency in target.Dependencies)
                {
                    pending.Push(dependency);
                }
            }
        }

        return seen;
    }

    private static string At(Target target) => target.DefinedAt is null ? "" : $"{target.DefinedAt}: error RB005: ";

    public Target this[string name] => _byName[name];

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>
    /// The targets to run, dependencies first, each once. With no names: the target named <c>default</c>
    /// if there is one, else every target in definition order.
    /// </summary>
    public IReadOnlyList<Target> Order(IReadOnlyList<string> requested, bool skipDependencies)
    {
        var unknown = requested.Where(n => !_byName.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidRunbookException(unknown.Select(n => $"no target named '{n}'{Suggest(n)}; `runbook list` shows them"));
        }

        var roots = requested.Count > 0 ? requested.Select(n => _byName[n]).ToList()
            : _byName.TryGetValue("default", out var fallback) ? [fallback]
            : [.. Targets];
        if (skipDependencies)
        {
            return roots.Distinct().ToList();
        }

        return [.. DependencyOrder.Sort(roots.Select(r => r.Name), DependenciesOf, StringComparer.Ordinal).Order.Select(n => _byName[n])];
    }

    // Missing dependencies are reported on their own, so the walk leaves them out.
    private IEnumerable<string> DependenciesOf(string name) => _byName[name].Dependencies.Where(_byName.ContainsKey);

    private string Suggest(string name)
    {
        var close = _byName.Keys.FirstOrDefault(k => Distance(k, name) <= 2);
        return close is null ? "" : $" (did you mean '{close}'?)";
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}
