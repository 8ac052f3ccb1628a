using Runbooks.Commands;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

/// <summary>
/// <c>Sysctl.Value(…).Persisted()</c> against the real boot order: a netns host keeps every sysctl configuration
/// path private, so <c>sysctl --system</c> inside it applies exactly the host's files, as a boot would — and the
/// step must agree with what it applies.
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class SysctlBootOrderTests
{
    private const string Key = "net.core.somaxconn";
    private const string Own = "/etc/sysctl.d/90-runbook-net.core.somaxconn.conf";

    [Test, CancelAfter(120_000)]
    public async Task Persisted_accounts_for_every_file_a_boot_reads_and_agrees_with_sysctl_system(CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("SYSCTL BOOT ORDER NOT RUN: namespaces need root; CI runs as root");
        }

        var dir = Directory.CreateTempSubdirectory("rb-sysctl-").FullName;
        var scenarioFile = Path.Combine(dir, "sysctl.scenario.csx");
        System.IO.File.WriteAllText(scenarioFile, """
            Netns().Host("web");
            Target("mark", File.Content("/etc/sysctl.d/00-mark.conf", "# a host of its own\n")).On("web");
            Spec("marked", File.Exists("/etc/sysctl.d/00-mark.conf")).On("web").NotBroken();
            """);
        var runbook = Path.Combine(dir, "somaxconn.csx");
        System.IO.File.WriteAllText(runbook, $$"""
            Target("somaxconn", Sysctl.Value("{{Key}}", "4096").Persisted());
            await RunAsync(Args);
            """);
        var scenario = await ScenarioFile.LoadAsync(scenarioFile, 0.1, cache: null);
        var environment = await scenario.CreateBackend().CreateAsync(new HarnessOptions($"sy{Environment.ProcessId % 10000}", Path.Combine(dir, "work")), cancellationToken);
        try
        {
            var web = (NetnsTransport)environment.Inventory.Context("web").Transport;
            var address = $"netns:{web.Netns}";
            async Task Write(string path, string text) =>
                await web.RunCheckedAsync(Shell.Script("mkdir -p -- \"${1%/*}\" && printf %s \"$2\" > \"$1\"", path, text), cancellationToken);
            async Task<string> Boot()
            {
                await web.RunCheckedAsync(new Command("sysctl", ["-w", $"{Key}=1000"]), cancellationToken);
                await web.RunCheckedAsync(new Command("sysctl", ["--system"]), cancellationToken);
                return (await web.RunCheckedAsync(new Command("sysctl", ["-n", Key]), cancellationToken)).StandardOutput.Trim();
            }

            // An earlier file (by name, whichever directory) loses to the step's own; a package's later file is
            // masked by an /etc/sysctl.d file of the same name.
            await Write("/run/sysctl.d/50-early.conf", $"{Key} = 256\n");
            await Write("/usr/lib/sysctl.d/95-vendor.conf", $"{Key} = 128\n");
            await Write("/etc/sysctl.d/95-vendor.conf", "# the vendor's queue length is not wanted here\n");
            var (planExit, plan, planError) = CliRunner.Run("plan", runbook, "--host", address);
            Assert.That(planExit, Is.EqualTo(0), plan + planError);
            Assert.That(plan, Does.Contain("at boot 256 from /run/sysctl.d/50-early.conf:1"), "the plan names the file that decides now");
            Assert.That(plan, Does.Contain($"decides at boot: {Own}, read after /run/sysctl.d/50-early.conf:1"));

            var (exit, output, error) = CliRunner.Run("run", runbook, "--host", address, "--journal", Path.Combine(dir, "a.jsonl"));
            Assert.That(exit, Is.EqualTo(0), output + error);
            Assert.That(await Boot(), Is.EqualTo("4096"), "sysctl --system applies the value the step persisted");

            // /etc/sysctl.conf is read after every sysctl.d file: its line is what a boot keeps, so it is rewritten.
            await Write("/etc/sysctl.conf", $"# hardening\n{Key} = 128\nnet.ipv4.tcp_syncookies = 1\n");
            Assert.That(await Boot(), Is.EqualTo("128"), "the real tool lets /etc/sysctl.conf win");
            (planExit, plan, planError) = CliRunner.Run("plan", runbook, "--host", address);
            Assert.That(plan, Does.Contain("at boot 128 from /etc/sysctl.conf:2"), plan + planError);
            Assert.That(plan, Does.Contain($"-{Key} = 128").And.Contain($"+{Key} = 4096"), "the rewrite is shown as a diff");
            (exit, output, error) = CliRunner.Run("run", runbook, "--host", address, "--journal", Path.Combine(dir, "b.jsonl"));
            Assert.That(exit, Is.EqualTo(0), output + error);
            Assert.That(await Boot(), Is.EqualTo("4096"), "after the step, sysctl --system applies 4096");
            var sysctlConf = await web.RunCheckedAsync(new Command("cat", ["/etc/sysctl.conf"]), cancellationToken);
            Assert.That(sysctlConf.StandardOutput, Is.EqualTo($"# hardening\n{Key} = 4096\nnet.ipv4.tcp_syncookies = 1\n"), "only that line changed");

            // A later-sorting volatile file is not the step's to rewrite: blocked, naming it, and the tool agrees it wins
            // (with /etc/sysctl.conf, read after it, no longer setting the key).
            await Write("/etc/sysctl.conf", "# hardening\n");
            await Write("/run/sysctl.d/99-late.conf", $"net.ipv4.tcp_syncookies = 1\n{Key}=128\n");
            (exit, output, error) = CliRunner.Run("run", runbook, "--host", address, "--journal", Path.Combine(dir, "c.jsonl"));
            Assert.That(exit, Is.EqualTo(1), "the step must not say persisted: " + output + error);
            Assert.That(output + error, Does.Contain($"/run/sysctl.d/99-late.conf:2 sets {Key} = 128 and is read after {Own}"));
            Assert.That(await Boot(), Is.EqualTo("128"), "the real tool lets 99-late.conf win");
        }
        finally
        {
            Assert.That(await environment.DestroyAsync(CancellationToken.None), Is.Empty);
            Directory.Delete(dir, recursive: true);
        }
    }
}
