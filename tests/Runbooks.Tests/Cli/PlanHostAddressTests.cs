using System.Text.Json.Nodes;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Cli;

/// <summary>
/// A reviewer reads a plan to know which machine it was made on: with <c>--host ssh://…</c> the default host is
/// still named <c>local</c> in the inventory, so the plan must also say where that host was reached.
/// </summary>
[Category("process"), NonParallelizable]
public class PlanHostAddressTests
{
    private LoopbackSshd? _sshd;
    private string _root = "";
    private string _runbook = "";

    [OneTimeSetUp]
    public async Task StartSshd()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _sshd = await LoopbackSshd.StartAsync(cts.Token);
        _root = Directory.CreateTempSubdirectory("rb-plan-host-").FullName;
        _runbook = Path.Combine(_root, "files.csx");
        await System.IO.File.WriteAllTextAsync(_runbook, $$"""
            Target("dir", File.Directory("{{_root}}/state", mode: "0750"));
            await RunAsync(Args);
            """, cts.Token);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _sshd?.Dispose();
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", null);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", null);
        Directory.Delete(_root, recursive: true);
    }

    [Test, CancelAfter(60_000)]
    public void A_json_plan_over_ssh_names_the_address_the_default_host_was_reached_at()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", _sshd!.UserKey);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", _sshd.KnownHosts);

        var (exit, output, error) = CliRunner.Run("plan", _runbook, "--host", _sshd.Uri, "--format", "json");

        Assert.That(exit, Is.EqualTo(0), error);
        var host = JsonNode.Parse(output)!["hosts"]![0]!;
        Assert.That((string?)host["host"], Is.EqualTo("local"));
        Assert.That((string?)host["address"], Is.EqualTo($"root@127.0.0.1:{_sshd.Port}"));
    }

    [Test, CancelAfter(60_000)]
    public void A_text_plan_over_ssh_shows_the_address_beside_the_host_name_and_a_local_plan_does_not()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", _sshd!.UserKey);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", _sshd.KnownHosts);

        var (_, remote, remoteError) = CliRunner.Run("plan", _runbook, "--host", _sshd.Uri);
        var (_, local, localError) = CliRunner.Run("plan", _runbook);

        Assert.That(remote, Does.Contain($"host local (root@127.0.0.1:{_sshd.Port})"), remoteError);
        Assert.That(local, Does.Contain("host local\n").And.Not.Contain("host local ("), localError);
    }
}
