using Runbooks.Commands;
using Runbooks.Compiler;
using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Scenarios.Connection;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

/// <summary>
/// A whole connection replay handles both hosts' WireGuard private keys; not one byte the tool writes —
/// console log, journals, Markdown report, JUnit XML — may contain either of them.
/// </summary>
[Category("harness"), Category("reliability"), NonParallelizable]
public class SecretLeakTests
{
    [Test, CancelAfter(180_000)]
    public async Task No_private_key_appears_in_anything_a_full_replay_writes(CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("SECRET GREP NOT RUN: network namespaces need root; CI runs as root");
        }

        var output = Directory.CreateTempSubdirectory("rb-secrets-").FullName;
        var repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));
        var scenario = new KeyRecordingScenario(new ConnectionScenario());
        var log = new StringWriter();

        var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log).RunAsync(
            scenario, HarnessCatalog.BackendFor(scenario), Path.Combine(repository, "runbooks", "wireguard-link.csx"), new HarnessRunOptions(output), cancellationToken);

        Assert.That(report.Passed, Is.True, log.ToString());
        Assert.That(scenario.Keys, Has.Count.EqualTo(2), "both hosts' private keys were read");
        var written = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Select(f => (Name: Path.GetFileName(f), Text: System.IO.File.ReadAllText(f)))
            .Append((Name: "console log", Text: log.ToString()))
            .ToList();
        Assert.That(written.Select(w => w.Name), Has.Member("converge.jsonl").And.Member("report.md").And.Member("junit.xml"));
        foreach (var key in scenario.Keys)
        {
            Assert.That(written.Where(w => w.Text.Contains(key, StringComparison.Ordinal)).Select(w => w.Name), Is.Empty, "a private key leaked into these outputs");
        }

        Directory.Delete(output, recursive: true);
    }

    /// <summary>The connection scenario, reading each host's private key right after the break so the test knows what to look for.</summary>
    private sealed class KeyRecordingScenario(Scenario inner) : Scenario
    {
        public List<string> Keys { get; } = [];

        public override string Name => inner.Name;

        public override string Backend => inner.Backend;

        public override async Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken)
        {
            await inner.BreakAsync(inventory, options, cancellationToken);
            foreach (var host in new[] { "server", "client" })
            {
                var key = await inventory.Context(host).Transport.RunCheckedAsync(new Command("cat", ["--", ConnectionScenario.KeyFile]), cancellationToken);
                Keys.Add(key.StandardOutput.Trim());
            }
        }

        public override IReadOnlyList<Spec> Specs(HarnessOptions options) => inner.Specs(options);

        public override IConvergeMonitor? Monitor(Inventory inventory, HarnessOptions options) => inner.Monitor(inventory, options);
    }
}
