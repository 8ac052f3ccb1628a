using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

/// <summary><c>--host netns:NAME</c> on a namespace made by hand with <c>ip netns add</c>, as the README writes it.</summary>
[Category("harness"), NonParallelizable]
public sealed class PlainNetnsTests
{
    private readonly string _name = $"rbplain{Environment.ProcessId % 100000}";
    private string _dir = "";

    [SetUp]
    public async Task Create()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("PLAIN NETNS NOT RUN: `ip netns add` needs root; CI runs as root");
        }

        _dir = Directory.CreateTempSubdirectory("rb-plain-").FullName;
        await new LocalTransport().RunCheckedAsync(new Command("ip", ["netns", "add", _name]), CancellationToken.None);
    }

    [TearDown]
    public async Task Remove()
    {
        if (_dir.Length > 0)
        {
            await new LocalTransport().RunAsync(new Command("ip", ["netns", "del", _name]), CancellationToken.None);
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Test, CancelAfter(60_000)]
    public void A_runbook_runs_inside_a_plain_named_namespace_and_leaves_the_machine_alone()
    {
        var before = System.IO.File.ReadAllText("/proc/sys/net/ipv4/icmp_echo_ignore_all").Trim();
        var runbook = Path.Combine(_dir, "ping-off.csx");
        // A per-namespace sysctl: set inside, it must not move on this machine.
        System.IO.File.WriteAllText(runbook, $$"""
            Target("ping-off", Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "{{(before == "1" ? "0" : "1")}}"));
            await RunAsync(Args);
            """);

        var (exit, output, error) = CliRunner.Run("run", runbook, "--host", $"netns:{_name}", "--journal", Path.Combine(_dir, "j.jsonl"));
        var inside = new LocalTransport().RunCheckedAsync(new Command("ip", ["netns", "exec", _name, "cat", "/proc/sys/net/ipv4/icmp_echo_ignore_all"]), CancellationToken.None).GetAwaiter().GetResult();

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(inside.StandardOutput.Trim(), Is.EqualTo(before == "1" ? "0" : "1"), "the namespace's own value changed");
        Assert.That(System.IO.File.ReadAllText("/proc/sys/net/ipv4/icmp_echo_ignore_all").Trim(), Is.EqualTo(before), "the machine's own value moved");
        Assert.That(output, Does.Contain(_name), "the output names the host by its address");
    }

    [Test, CancelAfter(60_000)]
    public async Task Absent_of_a_drop_rule_fails_while_a_multiport_rule_still_drops_the_port(CancellationToken cancellationToken)
    {
        var local = new LocalTransport();
        await local.RunCheckedAsync(new Command("ip", ["netns", "exec", _name, "iptables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "8080,8443", "-j", "DROP"]), cancellationToken);
        var runbook = Path.Combine(_dir, "open-8080.csx");
        System.IO.File.WriteAllText(runbook, """
            Target("open", Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent());
            await RunAsync(Args);
            """);

        var (exit, output, error) = CliRunner.Run("run", runbook, "--host", $"netns:{_name}", "--journal", Path.Combine(_dir, "fw.jsonl"));
        var rules = await local.RunCheckedAsync(new Command("ip", ["netns", "exec", _name, "iptables-save", "-t", "filter"]), cancellationToken);

        Assert.That(exit, Is.EqualTo(1), "the step must not report the port open: " + output + error);
        Assert.That(output + error, Does.Contain("-A INPUT -p tcp -m multiport --dports 8080,8443 -j DROP`, also sends tcp/8080 to DROP"));
        Assert.That(rules.StandardOutput, Does.Contain("--dports 8080,8443 -j DROP"), "nothing was removed behind the author's back");
    }

    [Test, CancelAfter(60_000)]
    public async Task Tcp_answered_holds_for_a_refused_port_and_fails_once_a_drop_rule_silences_it(CancellationToken cancellationToken)
    {
        var local = new LocalTransport();
        await local.RunCheckedAsync(new Command("ip", ["netns", "exec", _name, "ip", "link", "set", "lo", "up"]), cancellationToken);
        var inventory = new Runbooks.Engine.Inventory().Add("ns", Runbooks.Transport.NetnsTransport.FromAddress($"netns:{_name}"));
        var answered = Runbooks.Dsl.Probe.TcpAnswered("127.0.0.1", 8080, TimeSpan.FromSeconds(1));

        // Nothing listens: the kernel answers with a RST — reachable, no DROP in the way.
        var open = await answered.EvaluateAsync(inventory.Context("ns"), cancellationToken);
        await local.RunCheckedAsync(new Command("ip", ["netns", "exec", _name, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP"]), cancellationToken);
        inventory.Context("ns").InvalidateFacts();
        var dropped = await answered.EvaluateAsync(inventory.Context("ns"), cancellationToken);

        Assert.That((open.Holds, open.Observed), Is.EqualTo((true, "Refused")));
        Assert.That((dropped.Holds, dropped.Observed), Is.EqualTo((false, "TimedOut")));
    }

    [Test, CancelAfter(60_000)]
    public async Task Saved_rules_follow_the_live_rules_and_iptables_restore_brings_them_back(CancellationToken cancellationToken)
    {
        var local = new LocalTransport();
        var saved = Path.Combine(_dir, "rules.v4");
        var runbook = Path.Combine(_dir, "saved.csx");
        System.IO.File.WriteAllText(runbook, $$"""
            Target("fw",
                Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8443).Jump("DROP").Present(),
                Firewall.Saved(IpFamily.V4, "{{saved}}"));
            await RunAsync(Args);
            """);
        string[] inside = ["netns", "exec", _name];

        var (exit, output, error) = CliRunner.Run("run", runbook, "--host", $"netns:{_name}", "--journal", Path.Combine(_dir, "s1.jsonl"));
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(System.IO.File.ReadAllText(saved), Does.Contain("-A INPUT -p tcp -m tcp --dport 8443 -j DROP"));

        // What was saved is what a boot restores: flushed, then loaded back by the real tool.
        await local.RunCheckedAsync(new Command("ip", [.. inside, "iptables", "-F", "INPUT"]), cancellationToken);
        await local.RunCheckedAsync(new Command("ip", [.. inside, "iptables-restore"]).WithStdin(System.IO.File.ReadAllText(saved)), cancellationToken);
        var restored = await local.RunCheckedAsync(new Command("ip", [.. inside, "iptables-save", "-t", "filter"]), cancellationToken);
        Assert.That(restored.StandardOutput, Does.Contain("-A INPUT -p tcp -m tcp --dport 8443 -j DROP"));

        // In step: a second run changes nothing; a live rule added by hand makes the saved file differ again.
        (exit, output, error) = CliRunner.Run("run", runbook, "--host", $"netns:{_name}", "--journal", Path.Combine(_dir, "s2.jsonl"));
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Not.Contain("write " + saved), "the saved rules were already the live ones");
        await local.RunCheckedAsync(new Command("ip", [.. inside, "iptables", "-A", "INPUT", "-p", "udp", "--dport", "53", "-j", "ACCEPT"]), cancellationToken);
        (exit, output, error) = CliRunner.Run("run", runbook, "--host", $"netns:{_name}", "--journal", Path.Combine(_dir, "s3.jsonl"));
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(System.IO.File.ReadAllText(saved), Does.Contain("-A INPUT -p udp -m udp --dport 53 -j ACCEPT"));
    }
}
