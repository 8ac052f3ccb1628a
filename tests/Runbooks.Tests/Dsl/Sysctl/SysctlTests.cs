using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Sysctl;

public sealed class SysctlTests
{
    private const string Key = "net.ipv4.icmp_echo_ignore_all";

    [Test]
    public async Task A_different_value_is_set_with_sysctl_w()
    {
        var host = new FakeTransport("server").On($"sysctl -n {Key}", "1\n");

        var probe = await Runbooks.Dsl.Sysctl.Value(Key, "0").ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(c => c.Render()), Is.EqualTo(new[] { $"sysctl -w {Key}=0" }));
        Assert.That(probe.Observed, Is.EqualTo($"{Key} = 1"));
    }

    [Test]
    public async Task Persisting_writes_a_sysctl_d_file_when_it_is_missing()
    {
        var host = new FakeTransport()
            .On($"sysctl -n {Key}", "0\n")
            .On(Runbooks.Dsl.SysctlBoot.List, "", 1, "find: '/run/sysctl.d': No such file or directory")
            .On("cat -- /etc/sysctl.conf", "", 1, "cat: /etc/sysctl.conf: No such file or directory")
            .On($"cat -- /etc/sysctl.d/90-runbook-{Key}.conf", "", 1, "cat: No such file or directory");

        var probe = await Runbooks.Dsl.Sysctl.Value(Key, "0").Persisted().ProbeAsync(host.Context(), CancellationToken.None);

        var write = probe.Actions.OfType<WriteFile>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(write.Path, Is.EqualTo($"/etc/sysctl.d/90-runbook-{Key}.conf"));
            Assert.That(write.Content.Reveal(), Is.EqualTo($"{Key} = 0\n"));
            Assert.That(write.ExpectedSha256, Is.Null, "the file was absent when probed, so a file that appears meanwhile is refused");
            Assert.That(write.Detail, Is.EqualTo(new[] { "--- /dev/null", $"+++ /etc/sysctl.d/90-runbook-{Key}.conf", "@@ -0,0 +1,1 @@", $"+{Key} = 0" }));
        });
    }

    [Test]
    public async Task A_failure_on_stderr_fails_the_step_even_when_sysctl_exits_0()
    {
        var host = new FakeTransport("server")
            .On($"sysctl -n {Key}", "1\n")
            .On($"sysctl -w {Key}=0", "", 0, $"sysctl: permission denied on key \"{Key}\"");
        var step = Runbooks.Dsl.Sysctl.Value(Key, "0");
        var context = host.Context();
        var probe = await step.ProbeAsync(context, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<CommandFailedException>(() => step.ApplyAsync(context, probe, CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("permission denied"));
    }

    [TestCase("net.ipv4.icmp_echo_ignore_all; reboot")]
    [TestCase("NET")]
    public void A_bad_key_is_refused(string key) =>
        Assert.That(() => Runbooks.Dsl.Sysctl.Value(key, "0"), Throws.ArgumentException.With.Message.Contains(key));
}
