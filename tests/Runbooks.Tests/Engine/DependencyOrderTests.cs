using Runbooks.Engine;

namespace Runbooks.Tests.Engine;

public class DependencyOrderTests
{
    private static DependencySort<string> Sort(Dictionary<string, string[]> graph, params string[] roots) =>
        DependencyOrder.Sort<string>(roots.Length > 0 ? roots : graph.Keys, n => graph.GetValueOrDefault(n) ?? [], StringComparer.Ordinal);

    [Test]
    public void Dependencies_come_first_each_node_once_and_otherwise_in_the_roots_order()
    {
        var sort = Sort(new() { ["web"] = ["db", "cache"], ["cache"] = ["db"], ["db"] = [], ["cron"] = [] }, "cron", "web", "cache");

        Assert.That(sort.Order, Is.EqualTo(new[] { "cron", "db", "cache", "web" }));
        Assert.That(sort.Cycles, Is.Empty);
    }

    [Test]
    public void Only_what_the_roots_reach_is_ordered()
    {
        var sort = Sort(new() { ["a"] = ["b"], ["b"] = [], ["c"] = ["a"] }, "a");

        Assert.That(sort.Order, Is.EqualTo(new[] { "b", "a" }));
    }

    [Test]
    public void A_cycle_is_kept_as_its_chain_from_where_the_walk_met_it()
    {
        var sort = Sort(new() { ["start"] = ["a"], ["a"] = ["b"], ["b"] = ["c"], ["c"] = ["a"] });

        Assert.That(sort.Cycles.Select(DependencyOrder.Chain), Is.EqualTo(new[] { "a -> b -> c -> a" }));
        Assert.That(sort.Order, Is.EquivalentTo(new[] { "start", "a", "b", "c" }), "nodes on a cycle are still ordered, so every other problem can be reported too");
    }

    [Test]
    public void Separate_cycles_and_a_node_depending_on_itself_are_each_reported_once()
    {
        var sort = Sort(new() { ["a"] = ["b"], ["b"] = ["a"], ["self"] = ["self"], ["x"] = ["y"], ["y"] = ["x", "a"] });

        Assert.That(sort.Cycles.Select(DependencyOrder.Chain), Is.EqualTo(new[] { "a -> b -> a", "self -> self", "x -> y -> x" }));
    }

    [Test]
    public void The_comparer_decides_what_is_the_same_node()
    {
        var graph = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["A"] = ["b"], ["B"] = ["a"] };

        var sort = DependencyOrder.Sort(["A"], n => graph[n], StringComparer.OrdinalIgnoreCase);

        Assert.That(sort.Cycles.Select(DependencyOrder.Chain), Is.EqualTo(new[] { "A -> b -> a" }));
    }
}
