using System.Xml.Linq;
using Runbooks.Compiler;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Harness;

/// <summary>The lifecycle's own rules, on a throwaway directory as the "host".</summary>
[Category("process"), NonParallelizable]
public class LifecycleTests
{
    private string _root = "";

    [SetUp]
    public void Create()
    {
        _root = Directory.CreateTempSubdirectory("rb-life-").FullName;
        Environment.SetEnvironmentVariable("RB_LIFE_ROOT", _root);
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    private string Runbook(string body)
    {
        var path = Path.Combine(_root, "repair.csx");
        System.IO.File.WriteAllText(path, "var root = Environment.GetEnvironmentVariable(\"RB_LIFE_ROOT\")!;\n" + body + "\nawait RunAsync(Args);\n");
        return path;
    }

    private async Task<HarnessReport> Run(string runbook, bool specHoldsWhenBroken = false)
    {
        var runner = new HarnessRunner(source => RunbookCompiler.Compile(source), TextWriter.Null);
        var scenario = await ScenarioFile.LoadAsync(Scenario(specHoldsWhenBroken), 0.1, cache: null);
        return await runner.RunAsync(scenario, runbook, new HarnessRunOptions(Path.Combine(_root, "out")), CancellationToken.None, new DirectoryBackend(_root));
    }

    /// <summary>A scenario file whose one host is a scratch directory (the test substitutes <see cref="DirectoryBackend"/>).</summary>
    private string Scenario(bool specHoldsWhenBroken)
    {
        var path = Path.Combine(_root, "file.scenario.csx");
        System.IO.File.WriteAllText(path, $$"""
            Services();
            var root = Environment.GetEnvironmentVariable("RB_LIFE_ROOT")!;
            Target("break", File.Directory(root + "/state"), File.Content(root + "/state/config", "{{(specHoldsWhenBroken ? "good" : "broken")}}\n"));
            Spec("config is good", File.Content(root + "/state/config", "good\n"));
            Spec("state directory exists", File.Exists(root + "/state")).NotBroken();
            """);
        return path;
    }

    [Test, CancelAfter(60_000)]
    public async Task A_good_runbook_passes_every_phase_and_the_report_shows_specs_before_and_after()
    {
        var report = await Run(Runbook("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));"));

        Assert.That(report.Phases.Select(p => p.Name), Is.EqualTo(new[] { "compile", "create", "break", "verify-broken", "converge", "verify", "idempotence", "destroy" }));
        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Single(s => s.Name == "config is good"), Has.Property("HeldWhenBroken").EqualTo(false).And.Property("HeldAfter").EqualTo(true));
        var junit = XDocument.Load(Path.Combine(_root, "out", "junit.xml"));
        Assert.That(junit.Descendants("testcase").Count(), Is.GreaterThan(8));
        Assert.That(junit.Descendants("failure"), Is.Empty);
        Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "report.md")), Does.Contain("| config is good | local | yes | fails"));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_spec_that_passes_on_the_broken_host_fails_the_run_before_converge()
    {
        var report = await Run(Runbook("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));"), specHoldsWhenBroken: true);

        Assert.That(report.Passed, Is.False);
        Assert.That(report.Phases.Single(p => p.Name == "verify-broken").Detail, Does.Contain("prove nothing"));
        Assert.That(report.Phases.Select(p => p.Name), Does.Not.Contain("converge"));
        Assert.That(report.Phases.Last().Name, Is.EqualTo("destroy"), "hosts are destroyed even when a phase fails");
    }

    [Test, CancelAfter(60_000)]
    public async Task A_runbook_that_changes_something_on_every_run_fails_idempotence()
    {
        var report = await Run(Runbook("""
            Target("fix", File.Content(root + "/state/config", "good\n"));
            Target("stamp", Exec("touch a stamp", new Command("touch", [root + "/state/stamp"]))).Ensures(File.Exists(root + "/state/stamp"));
            """));

        var idempotence = report.Phases.Single(p => p.Name == "idempotence");
        Assert.That(idempotence.Passed, Is.False);
        Assert.That(idempotence.Detail, Does.Contain("touch"));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_runbook_that_does_not_compile_never_creates_hosts()
    {
        var report = await Run(Runbook("Target(\"fix\" File.Content(root, \"x\"));"));

        Assert.That(report.Phases.Select(p => p.Name), Is.EqualTo(new[] { "compile" }));
        Assert.That(report.Phases[0].Detail, Does.Contain("error CS1003"));
        Assert.That(Directory.Exists(Path.Combine(_root, "state")), Is.False);
    }
}
