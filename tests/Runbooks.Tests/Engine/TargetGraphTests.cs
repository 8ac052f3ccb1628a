using Runbooks.Engine;

namespace Runbooks.Tests.Engine;

public class TargetGraphTests
{
    private static Target T(string name, params string[] deps) => new(name, "", deps, []);

    [Test]
    public void Dependencies_come_first_and_each_target_once()
    {
        var graph = new TargetGraph([T("c", "a", "b"), T("b", "a"), T("a")]);

        var order = graph.Order(["c", "b"], skipDependencies: false).Select(t => t.Name);

        Assert.That(order, Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void A_cycle_is_named_with_its_chain()
    {
        var ex = Assert.Throws<InvalidRunbookException>(() => new TargetGraph([T("a", "b"), T("b", "a")]));

        Assert.That(ex!.Message, Does.Contain("a -> b -> a"));
    }

    [Test]
    public void Missing_dependencies_are_all_reported_at_once_with_a_suggestion()
    {
        var ex = Assert.Throws<InvalidRunbookException>(() => new TargetGraph([T("build", "restor"), T("restore"), T("test", "nope")]));

        Assert.That(ex!.Message, Does.Contain("'restor', which is not defined (did you mean 'restore'?)"));
        Assert.That(ex.Message, Does.Contain("'nope'"));
    }

    [Test]
    public void An_unknown_requested_target_is_a_usage_error()
    {
        var graph = new TargetGraph([T("a")]);

        Assert.Throws<InvalidRunbookException>(() => graph.Order(["b"], skipDependencies: false));
    }

    [Test]
    public void Skip_dependencies_runs_only_the_named_targets()
    {
        var graph = new TargetGraph([T("a"), T("b", "a")]);

        Assert.That(graph.Order(["b"], skipDependencies: true).Select(t => t.Name), Is.EqualTo(new[] { "b" }));
    }

    [Test]
    public void With_no_names_the_default_target_runs()
    {
        var graph = new TargetGraph([T("a"), T("b"), T("default", "b")]);

        Assert.That(graph.Order([], skipDependencies: false).Select(t => t.Name), Is.EqualTo(new[] { "b", "default" }));
    }
}
