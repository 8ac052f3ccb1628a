using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// Confirmed apply against a real sshd in its own network namespace, reached through a veth from this process: a
/// firewall rule that drops the controller's SSH is reverted by the host itself and the run fails naming the step and
/// the revert; a rule that leaves SSH alone is confirmed over a fresh connection and stays.
/// </summary>
[Category("harness"), NonParallelizable]
public class ConfirmedApplyTests
{
    private static int _tests;
    private readonly LocalTransport _local = new();
    private string _netns = "";
    private string _veth = "";
    private string _work = "";
    private LoopbackSshd? _sshd;

    [SetUp]
    public async Task StartHost()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("CONFIRMED APPLY NOT RUN: a network namespace with its own firewall needs root; CI runs as root");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Names and the /30 carry this process's id: other test processes on the machine make namespaces too.
        // A counter as well: a deleted namespace's veth goes away asynchronously, so the next test must not reuse its name.
        var id = Environment.ProcessId % 10000;
        var n = Interlocked.Increment(ref _tests) % 10;
        _netns = $"rbca{id}{n}";
        var (outside, inside) = ($"rbca{id}{n}o", $"rbca{id}{n}i");
        _veth = outside;
        var subnet = $"10.213.{id % 250}";
        await Run(new Command("ip", ["netns", "add", _netns]), cts.Token);
        await Run(new Command("ip", ["link", "add", outside, "type", "veth", "peer", "name", inside]), cts.Token);
        await Run(new Command("ip", ["link", "set", inside, "netns", _netns]), cts.Token);
        await Run(new Command("ip", ["addr", "add", $"{subnet}.1/30", "dev", outside]), cts.Token);
        await Run(new Command("ip", ["link", "set", outside, "up"]), cts.Token);
        await Run(new Command("ip", ["netns", "exec", _netns, "ip", "addr", "add", $"{subnet}.2/30", "dev", inside]), cts.Token);
        await Run(new Command("ip", ["netns", "exec", _netns, "ip", "link", "set", inside, "up"]), cts.Token);
        await Run(new Command("ip", ["netns", "exec", _netns, "ip", "link", "set", "lo", "up"]), cts.Token);
        _sshd = await LoopbackSshd.StartAsync(cts.Token, _netns, $"{subnet}.2");
        _work = Directory.CreateTempSubdirectory("rb-confirm-").FullName;
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", _sshd.UserKey);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", _sshd.KnownHosts);
    }

    [TearDown]
    public async Task StopHost()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", null);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", null);
        _sshd?.Dispose();
        if (_netns.Length > 0)
        {
            // Deleting one end removes the pair at once; the namespace's own cleanup would do it later.
            await _local.RunAsync(new Command("ip", ["link", "del", _veth]), CancellationToken.None);
            await _local.RunAsync(new Command("ip", ["netns", "del", _netns]), CancellationToken.None);
        }

        if (_work.Length > 0)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task A_rule_that_drops_the_controllers_ssh_is_reverted_by_the_host_and_the_run_fails_naming_the_step_and_the_revert(CancellationToken cancellationToken)
    {
        var runbook = Runbook($"Firewall.Rule(IpFamily.V4, \"INPUT\").WithProtocol(\"tcp\").Port({_sshd!.Port}).Jump(\"DROP\").Present()");
        var journal = Path.Combine(_work, "lockout.jsonl");

        var (exit, output, error) = CliRunner.Run("run", runbook, "--host", _sshd.Uri, "--journal", journal, "--confirm-timeout", "6");

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output + error, Does.Contain("step 1 'rule `iptables -t filter -A INPUT -p tcp -m tcp --dport " + _sshd.Port));
        Assert.That(output + error, Does.Contain("this step cut the controller off: no fresh connection to root@").And.Contain("the host reverted it by itself: `iptables -t filter -D INPUT -p tcp -m tcp --dport " + _sshd.Port));
        Assert.That(output + error, Does.Contain("the host answers again"));
        var rules = await Run(new Command("ip", ["netns", "exec", _netns, "iptables", "-S", "INPUT"]), cancellationToken);
        Assert.That(rules.StandardOutput, Does.Not.Contain($"--dport {_sshd.Port}"), "the host put its firewall back by itself");
        await using (var fresh = new SshTransport(SshEndpoint.Parse(_sshd.Uri), _sshd.UserKey, _sshd.KnownHosts))
        {
            Assert.That((await fresh.RunAsync(new Command("true", []), cancellationToken)).ExitCode, Is.EqualTo(0), "reachable over SSH again");
        }

        var text = await File.ReadAllTextAsync(journal, cancellationToken);
        Assert.That(text, Does.Contain("\"phase\":\"armed\"").And.Contain("\"phase\":\"reverted\"").And.Not.Contain("\"phase\":\"confirmed\""));
        Assert.That(Runbooks.Journal.JournalMarkdown.Render(Runbooks.Journal.JournalReader.Read(journal)), Does.Contain("**confirmed apply, step 1: reverted** — no fresh connection"),
            "the retrospective's timeline shows the revert");
    }

    [Test, CancelAfter(120_000)]
    public async Task A_rule_that_leaves_ssh_alone_is_confirmed_over_a_fresh_connection_and_stays(CancellationToken cancellationToken)
    {
        var runbook = Runbook("Firewall.Rule(IpFamily.V4, \"INPUT\").WithProtocol(\"tcp\").Port(9).Jump(\"DROP\").Present()");
        var journal = Path.Combine(_work, "kept.jsonl");

        var (exit, output, error) = CliRunner.Run("run", runbook, "--host", _sshd!.Uri, "--journal", journal, "--confirm-timeout", "6");

        Assert.That(exit, Is.EqualTo(0), output + error);
        var text = await File.ReadAllTextAsync(journal, cancellationToken);
        Assert.That(text, Does.Contain("\"phase\":\"armed\"").And.Contain("\"phase\":\"confirmed\"").And.Not.Contain("\"phase\":\"reverted\""));

        // Past the timeout the rule is still there: the disarmed revert did not fire.
        await Task.Delay(TimeSpan.FromSeconds(8), cancellationToken);
        var rules = await Run(new Command("ip", ["netns", "exec", _netns, "iptables", "-S", "INPUT"]), cancellationToken);
        Assert.That(rules.StandardOutput, Does.Contain("-A INPUT -p tcp -m tcp --dport 9 -j DROP"));
    }

    private string Runbook(string step)
    {
        var path = Path.Combine(_work, "firewall.csx");
        File.WriteAllText(path, $"Target(\"default\", \"one firewall rule\", {step});\nawait RunAsync(Args);\n");
        return path;
    }

    private Task<CommandResult> Run(Command command, CancellationToken cancellationToken) => _local.RunCheckedAsync(command, cancellationToken);
}
