using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

/// <summary>
/// The connection incident on the kernel's WireGuard: this machine's kernel has no wireguard module (the netns
/// harness falls back to wireguard-go here), the Debian guest kernel has one. So the netns harness runs inside a
/// microVM — the same `runbook harness run connection`, built on this machine and seen by the guest through its
/// read-only root — and its hosts are network namespaces of the guest kernel.
/// </summary>
[Category("harness"), NonParallelizable]
public class KernelWireGuardReplayTests
{
    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    [Test, CancelAfter(1_500_000)]
    public async Task The_connection_incident_is_repaired_with_the_six_specs_on_the_guest_kernels_wireguard_module(CancellationToken ct)
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); the connection scenario on kernel WireGuard is untested");
        }

        var cli = Path.Combine(Repository, "src", "Runbooks.Cli", "bin", "Release", "net10.0", "runbook.dll");
        Assert.That(cli, Does.Exist, "the CLI is built with the solution (dotnet build Runbooks.sln -c Release)");
        var work = Path.Combine(Path.GetTempPath(), $"runbooks-kernel-wg-{Guid.NewGuid():N}");
        // Roslyn under TCG takes minutes to compile the scenario and its runbook: they are compiled here, into a cache
        // under this machine's /tmp, which the guest sees through its overlay (same paths, same tool: same cache keys).
        var cache = Path.Combine(work, "compile-cache");
        var local = new LocalTransport();
        foreach (var args in new[] { new Arg[] { "harness", "list", "connection" }, ["check", Path.Combine(Path.GetDirectoryName(cli)!, "runbooks", "connection", "wireguard-link.csx")] })
        {
            await local.RunCheckedAsync(new Command("dotnet", [cli, .. args]).WithEnvironment("RUNBOOK_CACHE_DIR", cache).WithTimeout(TimeSpan.FromMinutes(3)), ct);
        }

        var vm = await new MicroVmBackend(memoryMiB: 1536).CreateAsync(new HarnessOptions("kernel-wg", Path.Combine(work, "vm")), ct);
        IReadOnlyList<string> leaks;
        try
        {
            var guest = vm.Inventory.Context(Inventory.DefaultHost).Transport;
            var module = await guest.RunAsync(new Command("modprobe", ["wireguard"]), ct);
            if (module.ExitCode != 0)
            {
                Assert.Ignore($"KERNEL LACKS A FEATURE: the guest kernel {vm.Facts["kernel"]} has no wireguard module ({module.StderrTail(2).Trim()}); kernel WireGuard is untested");
            }

            // The guest's /tmp is an overlay on this machine's: the report directory stays in the guest.
            const string output = "/tmp/runbooks-kernel-wg-report";
            var watch = Stopwatch.StartNew();
            // The harness's progress goes to a file in the guest, so that a run that times out still says how far it got.
            const string log = "/tmp/runbooks-kernel-wg-run.log";
            CommandResult run;
            try
            {
                run = await guest.RunAsync(Shell.Script("log=$1; shift; \"$@\" > \"$log\" 2>&1", [log, "dotnet", cli, "harness", "run", "connection", "--output", output])
                    .WithEnvironment("NO_COLOR", "1").WithEnvironment("RUNBOOK_CACHE_DIR", cache).WithTimeout(TimeSpan.FromMinutes(15)), ct);
            }
            finally
            {
                var progress = await guest.RunAsync(new Command("cat", [log]), CancellationToken.None);
                TestContext.Out.WriteLine($"harness run in the guest, {watch.Elapsed.TotalSeconds:0.0} s:\n{progress.StandardOutput}");
            }

            var report = await guest.RunAsync(new Command("cat", [$"{output}/report.md"]), ct);
            var junit = await guest.RunAsync(new Command("cat", [$"{output}/junit.xml"]), ct);
            var links = await guest.RunAsync(new Command("ip", ["-br", "link"]), ct);

            Assert.That(run.ExitCode, Is.EqualTo(0), "`runbook harness run connection` in the guest passed");
            Assert.That(report.StandardOutput, Does.Contain("from the compile cache"), "the guest used what this machine compiled");
            Assert.That(report.StandardOutput, Does.Contain("\n- wireguard: kernel module\n"), "the report names the kernel module as the WireGuard in use");
            Assert.That(System.Text.RegularExpressions.Regex.Count(junit.StandardOutput, "<testcase "), Is.GreaterThanOrEqualTo(6));
            Assert.That(junit.StandardOutput, Does.Not.Contain("<failure"));
            foreach (var spec in new[] { "handshake", "ping" })
            {
                Assert.That(junit.StandardOutput, Does.Contain(spec), $"the junit report has the {spec} specs");
            }

            Assert.That(links.StandardOutput, Does.Not.Contain("wg0"), "the namespaces and their wg0 are gone from the guest after destroy");
        }
        finally
        {
            leaks = await vm.DestroyAsync(CancellationToken.None);
            Directory.Delete(work, recursive: true);
        }

        Assert.That(leaks, Is.Empty);
    }
}
