using Runbooks.Commands;
using Runbooks.Compiler;
using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
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
        // The shipped connection scenario plus one break target that copies each host's private key out of its
        // private /etc/wireguard, so the test knows what to look for; the copies live outside the output directory.
        var keys = Directory.CreateTempSubdirectory("rb-keys-").FullName;
        var incident = Directory.CreateTempSubdirectory("rb-secret-incident-").FullName;
        var shipped = Path.Combine(repository, "runbooks", "connection");
        System.IO.File.Copy(Path.Combine(shipped, "wireguard-link.csx"), Path.Combine(incident, "wireguard-link.csx"));
        Directory.CreateDirectory(Path.Combine(incident, "files"));
        foreach (var file in Directory.GetFiles(Path.Combine(shipped, "files")))
        {
            System.IO.File.Copy(file, Path.Combine(incident, "files", Path.GetFileName(file)));
        }

        var scenarioFile = Path.Combine(incident, "connection.scenario.csx");
        System.IO.File.WriteAllText(scenarioFile, System.IO.File.ReadAllText(Path.Combine(shipped, "connection.scenario.csx")) + $$"""

            foreach (var host in new[] { "server", "client" })
            {
                Target($"{host}-key-recorded", DependsOn("server-broken", "client-broken"),
                    Exec("copy the key out for the test", new Command("cp", ["--", KeyFile, $"{{keys}}/{host}.key"])).Until(File.Exists($"{{keys}}/{host}.key")))
                    .On(host);
            }
            """);
        var scenario = await ScenarioFile.LoadAsync(scenarioFile, 0.1, cache: null);
        var log = new StringWriter();

        var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log).RunAsync(scenario, null, new HarnessRunOptions(output), cancellationToken);
        var recorded = Directory.EnumerateFiles(keys).Select(f => System.IO.File.ReadAllText(f).Trim()).ToList();

        Assert.That(report.Passed, Is.True, log.ToString());
        Assert.That(recorded, Has.Count.EqualTo(2).And.All.Length.EqualTo(44), "both hosts' private keys were read");
        var written = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Select(f => (Name: Path.GetFileName(f), Text: System.IO.File.ReadAllText(f)))
            .Append((Name: "console log", Text: log.ToString()))
            .ToList();
        Assert.That(written.Select(w => w.Name), Has.Member("converge.jsonl").And.Member("report.md").And.Member("junit.xml"));
        foreach (var key in recorded)
        {
            Assert.That(written.Where(w => w.Text.Contains(key, StringComparison.Ordinal)).Select(w => w.Name), Is.Empty, "a private key leaked into these outputs");
        }

        Directory.Delete(output, recursive: true);
        Directory.Delete(keys, recursive: true);
        Directory.Delete(incident, recursive: true);
    }
}
