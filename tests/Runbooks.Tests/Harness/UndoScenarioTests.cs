using Runbooks.Commands;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

/// <summary>
/// Undo of the connection converge on real hosts (network namespaces): after the runbook repaired the tunnel,
/// <c>runbook undo JOURNAL --apply</c> brings back every firewall rule, sysctl, route, address, MTU and peer the
/// incident had, newest first; run again it finds nothing left to undo; and a change made on a host after the run is
/// refused by name instead of overwritten.
/// </summary>
[Category("harness"), NonParallelizable]
public class UndoScenarioTests
{
    // What the converge changes and undo must put back, read on each host.
    private static readonly Command[] Snapshot =
    [
        new("iptables", ["-S"]),
        new("ip6tables", ["-S"]),
        new("sysctl", ["-n", "net.ipv4.icmp_echo_ignore_all"]),
        Shell.Script("ip -4 route show; ip -6 route show | grep -v '^fe80'"),
        Shell.Script("ip -o addr show dev wg0 | awk '{print $4}'; ip -o link show dev wg0 | grep -o 'mtu [0-9]*'"),
        // Endpoints are left out: the server learns the client's from its handshakes, and nothing can unlearn it.
        Shell.Script("wg show wg0 dump | awk 'NR == 1 {print $3; next} {print $1, $4, $8}'"),
        Shell.Script("ls /etc/sysctl.d; sha256sum /etc/wireguard/wg0.conf 2>&1 | cut -d' ' -f1"),
    ];

    [Test, CancelAfter(240_000)]
    public async Task Undo_of_the_connection_converge_restores_the_broken_hosts_and_refuses_what_changed_since(CancellationToken cancellationToken)
    {
        await using var scenario = await BrokenScenario.CreateAsync("connection", $"un{Environment.ProcessId % 1000}c", cancellationToken);
        var (environment, hosts, work) = (scenario.Environment, scenario.Hosts, scenario.Work);
        var broken = await SnapshotAsync(environment, cancellationToken);

        var journal = Path.Combine(work, "converge.jsonl");
        var (runExit, runOut, runError) = CliRunner.Run(["run", scenario.Runbook, .. hosts, "--journal", journal]);
        Assert.That(runExit, Is.EqualTo(0), runOut + runError);
        var repaired = await SnapshotAsync(environment, cancellationToken);
        Assert.That(repaired, Is.Not.EqualTo(broken), "the converge changed the hosts (else undo proves nothing)");

        // The plan is read-only: it shows the inverse and changes nothing.
        var (planExit, planOut, planError) = CliRunner.Run(["undo", journal, .. hosts]);
        Assert.That(planExit, Is.EqualTo(0), planOut + planError);
        Assert.That(planOut, Does.Contain("target undo-client").And.Contain("target undo-server").And.Contain("will change"));
        Assert.That(planOut, Does.Contain("sysctl net.ipv4.icmp_echo_ignore_all back to 1"));
        Assert.That(planOut.IndexOf("undo-client", StringComparison.Ordinal), Is.LessThan(planOut.IndexOf("undo-server", StringComparison.Ordinal)), "newest first: the client was repaired last");
        Assert.That(await SnapshotAsync(environment, cancellationToken), Is.EqualTo(repaired), "planning an undo changed nothing");

        var undoJournal = Path.Combine(work, "undo.jsonl");
        var (undoExit, undoOut, undoError) = CliRunner.Run(["undo", journal, .. hosts, "--apply", "--journal", undoJournal]);
        Assert.That(undoExit, Is.EqualTo(0), undoOut + undoError);
        var undone = await SnapshotAsync(environment, cancellationToken);
        Assert.Multiple(() =>
        {
            foreach (var (key, value) in broken)
            {
                Assert.That(undone[key], Is.EqualTo(value), $"after undo, `{key}` reads as it did on the broken host");
            }
        });
        Assert.That(File.ReadAllText(undoJournal), Does.Contain("\"undoOf\""));
        var endpoint = await environment.Inventory.Context("client").Transport.RunCheckedAsync(new Command("wg", ["show", "wg0", "endpoints"]), cancellationToken);
        Assert.That(endpoint.StandardOutput, Does.Contain("(none)"), "the client's peer has no endpoint again, as in the incident");

        // Nothing is left to undo: every step finds the host as before the run.
        var (againExit, againOut, againError) = CliRunner.Run(["undo", journal, .. hosts]);
        Assert.That(againExit, Is.EqualTo(0), againOut + againError);
        Assert.That(againOut, Does.Contain("0 step(s) would change"), againOut);

        // Converge again, then someone adds a rule to the server's INPUT chain by hand: undo reaches the firewall steps,
        // refuses the first of them by name, and leaves that chain exactly as it found it.
        var second = Path.Combine(work, "converge2.jsonl");
        Assert.That(CliRunner.Run(["run", scenario.Runbook, .. hosts, "--journal", second]).Exit, Is.EqualTo(0));
        var server = environment.Inventory.Context("server").Transport;
        await server.RunCheckedAsync(new Command("ip6tables", ["-A", "INPUT", "-p", "tcp", "--dport", "7", "-j", "DROP"]), cancellationToken);
        var tampered = (await server.RunCheckedAsync(new Command("ip6tables", ["-S", "INPUT"]), cancellationToken)).StandardOutput;
        var (refusedExit, refusedOut, refusedError) = CliRunner.Run(["undo", second, .. hosts, "--apply", "--journal", Path.Combine(work, "refused.jsonl")]);
        Assert.That(refusedExit, Is.EqualTo(1), refusedOut + refusedError);
        Assert.That(refusedOut + refusedError, Does.Contain("on host server: it changed since the run: `ip6tables -t filter -S INPUT` answered"));
        Assert.That((await server.RunCheckedAsync(new Command("ip6tables", ["-S", "INPUT"]), cancellationToken)).StandardOutput, Is.EqualTo(tampered),
            "the refused chain is left as the operator made it");
        Assert.That((await server.RunCheckedAsync(new Command("sysctl", ["-n", "net.ipv4.icmp_echo_ignore_all"]), cancellationToken)).StandardOutput.Trim(), Is.EqualTo("1"),
            "the newer changes before the refused one were undone");
    }

    private static async Task<Dictionary<string, string>> SnapshotAsync(IHarnessEnvironment environment, CancellationToken cancellationToken)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in new[] { "server", "client" })
        {
            foreach (var read in Snapshot)
            {
                var result = await environment.Inventory.Context(host).Transport.RunAsync(read, cancellationToken);
                snapshot[$"{host}: {read.Render()}"] = result.StandardOutput.Trim();
            }
        }

        return snapshot;
    }
}
