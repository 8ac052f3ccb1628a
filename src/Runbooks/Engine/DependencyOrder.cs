namespace Runbooks.Engine;

/// <summary>
/// The one dependency order: targets, services in an ordered restart and kernel modules all sort through it.
/// Depth first from the roots, each node after what it depends on and once; every cycle is kept as its chain so
/// the caller can name it in its own words (<c>a -> b -> a</c>) instead of looping or dropping a node.
/// </summary>
public static class DependencyOrder
{
    /// <summary>
    /// Everything reachable from <paramref name="roots"/>, dependencies first, in the roots' order otherwise.
    /// <paramref name="dependsOn"/> gives a node's direct dependencies; a caller leaves out the ones it reports as
    /// missing. Nodes on a cycle are still ordered (as the walk met them), so a caller can report all problems at once.
    /// </summary>
    public static DependencySort<T> Sort<T>(IEnumerable<T> roots, Func<T, IEnumerable<T>> dependsOn, IEqualityComparer<T>? comparer = null)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentNullException.ThrowIfNull(dependsOn);
        var order = new List<T>();
        var cycles = new List<IReadOnlyList<T>>();
        var done = new HashSet<T>(comparer);
        var path = new List<T>();
        var onPath = new HashSet<T>(comparer);
        var equal = comparer ?? EqualityComparer<T>.Default;

        void Visit(T node)
        {
            if (done.Contains(node))
            {
                return;
            }

            if (onPath.Contains(node))
            {
                // The chain from where the walk first met this node back to it: a -> b -> a.
                var at = path.FindIndex(n => equal.Equals(n, node));
                cycles.Add([.. path.Skip(at), node]);
                return;
            }

            path.Add(node);
            onPath.Add(node);
            foreach (var dependency in dependsOn(node))
            {
                Visit(dependency);
            }

            path.RemoveAt(path.Count - 1);
            onPath.Remove(node);
            done.Add(node);
            order.Add(node);
        }

        foreach (var root in roots)
        {
            Visit(root);
        }

        return new DependencySort<T>(order, cycles);
    }

    /// <summary>A cycle as people read it: <c>a -> b -> a</c>.</summary>
    public static string Chain(IEnumerable<string> cycle) => string.Join(" -> ", cycle);
}

/// <summary>A dependency order and the cycles met while making it, each a chain whose first and last node are the same.</summary>
public sealed record DependencySort<T>(IReadOnlyList<T> Order, IReadOnlyList<IReadOnlyList<T>> Cycles);
