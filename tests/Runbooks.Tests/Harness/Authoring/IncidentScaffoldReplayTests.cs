using Runbooks.Compiler;
using Runbooks.Harness.Authoring;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Tests.Harness.Authoring;

/// <summary>
/// What `runbook init` writes is green out of the box: each scaffold, run through the whole lifecycle on its backend,
/// breaks the host, its spec fails when broken and holds after the repair, and the repair is idempotent.
/// Reports land in artifacts/harness/init-BACKEND.
/// </summary>
[Category("harness"), NonParallelizable]
public class IncidentScaffoldReplayTests
{
    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    // netns and services take seconds; the microVM boots qemu (about a minute under TCG when the machine is shared).
    [TestCase("netns"), TestCase("services"), TestCase("microvm"), CancelAfter(600_000)]
    public async Task A_fresh_scaffold_proves_its_runbook(string backend, CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore($"SCAFFOLD REPLAY NOT RUN: the {backend} backend needs root (namespaces, loop devices, qemu); CI runs as root");
        }

        var name = $"init-{backend}";
        var folder = Path.Combine(Path.GetTempPath(), $"rb-scaffold-{Environment.ProcessId}", name);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var written = IncidentScaffold.Write(folder, backend, force: false, "0.1.0");
        var scenario = await ScenarioFile.LoadAsync(Path.Combine(written.Directory, $"{name}.scenario.csx"), 0.1, cache: null);
        var output = Path.Combine(Repository, "artifacts", "harness", name);
        var log = new StringWriter();
        var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log)
            .RunAsync(scenario, null, new HarnessRunOptions(output, Scale: 0.1), cancellationToken);
        TestContext.Out.WriteLine(log.ToString());
        TestContext.Out.WriteLine(ReportWriter.Markdown(report));

        Assert.That(report.Phases.Select(p => (p.Name, p.Passed)), Is.EqualTo(new[]
        {
            ("compile", true), ("create", true), ("break", true), ("verify-broken", true), ("converge", true), ("verify", true), ("idempotence", true), ("destroy", true),
        }), string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Runbook, Is.EqualTo(Path.Combine(written.Directory, $"{name}.csx")), "the scaffold's scenario names its runbook");
        Assert.That(report.Specs, Has.Count.EqualTo(1));
        Assert.That(report.Specs[0].HeldWhenBroken, Is.False, $"the spec held on the broken host: {report.Specs[0].ObservedWhenBroken}");
        Assert.That(report.Specs[0].HeldAfter, Is.True, $"the spec failed after the repair: {report.Specs[0].ObservedAfter}");
        Assert.That(report.Leaks, Is.Empty);
        Assert.That(File.Exists(Path.Combine(output, "junit.xml")) && File.Exists(Path.Combine(output, "report.md")), Is.True, "the files the CI workflow uploads");
        Directory.Delete(folder, recursive: true);
    }
}
