using Runbooks.Commands;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Container;

/// <summary>The container transport's argv and error mapping, against the fake transport; no engine runs.</summary>
public sealed class ContainerTransportTests
{
    [Test]
    public void A_container_address_is_a_transport_into_that_container()
    {
        var transport = (ContainerTransport)TransportUri.Create("container:rb1a2b3c-web?engine=docker");

        Assert.That((transport.Name, transport.Container, transport.Engine), Is.EqualTo(("rb1a2b3c-web", "rb1a2b3c-web", "docker")));
    }

    [TestCase("container:")]
    [TestCase("container:-x")]
    [TestCase("container:a b")]
    [TestCase("container:web;reboot")]
    [TestCase("container:web?engine=lxc")]
    public void A_malformed_container_address_is_one_clear_inventory_error(string address) =>
        Assert.That(() => ContainerTransport.FromAddress(address), Throws.TypeOf<InvalidRunbookException>().With.Message.Contains(address));

    [Test]
    public void A_request_carries_argv_environment_and_stdin_base64_encoded_so_no_shell_parses_a_value()
    {
        var command = new Command("printf", ["%s", "a b; $(reboot)\n"]).WithStdin(Secret.Of("sEcReTkEyVaLuE")).WithEnvironment("LC_ALL", "C");

        var lines = ContainerTransport.Request(command).Split('\n');
        string Decode(string line) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(line));

        Assert.That(lines[0], Is.EqualTo("6"));
        Assert.That(lines.Skip(1).Take(6).Select(Decode), Is.EqualTo(new[] { "env", "LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "printf", "%s", "a b; $(reboot)\n" }));
        Assert.That(Decode(lines[7]), Is.EqualTo("sEcReTkEyVaLuE"));
        Assert.That(ContainerTransport.Request(new Command("true", [])).Split('\n')[^2], Is.EqualTo("-"), "no stdin is '-', not an empty one");
    }

    [TestCase("talus-container", "local")]
    [TestCase("webapp-container", "web,client")]
    public async Task The_shipped_container_scenarios_declare_their_hosts_on_the_containers_backend(string name, string hosts)
    {
        var scenario = await HarnessCatalog.LoadAsync(name, 0.1);

        Assert.That(scenario.Backend.Name, Is.EqualTo("containers"));
        Assert.That(scenario.Backend.HostNames, Is.EqualTo(hosts.Split(',')));
        Assert.That(scenario.Runbook, Is.Not.Null);
    }
}

/// <summary>The session protocol against its own server script run by a local sh, as the container runs it.</summary>
[Category("process")]
public sealed class ContainerSessionTests
{
    private static ContainerTransport Local(params string[] launch) =>
        new("web", "rb1-web", "podman", launch.Length > 0 ? launch : ["sh", "-c", ContainerTransport.Server]);

    [Test, CancelAfter(20_000)]
    public async Task Exit_codes_output_stdin_and_awkward_arguments_come_back_exactly(CancellationToken cancellationToken)
    {
        await using var transport = Local();

        var mixed = await transport.RunAsync(Shell.Script("printf '%s|' \"$@\"; echo err >&2; exit 3", "two words", "trailing\n\n", "ünï", ""), cancellationToken);
        var echoed = await transport.RunAsync(new Command("cat", []).WithStdin("line 1\nline 2 without newline"), cancellationToken);
        var environment = await transport.RunAsync(new Command("sh", ["-c", "echo \"$RB_X\""]).WithEnvironment("RB_X", "x y"), cancellationToken);
        var missing = await transport.RunAsync(new Command("no-such-tool-xyz", []), cancellationToken);

        Assert.That((mixed.ExitCode, mixed.StandardOutput, mixed.StandardError), Is.EqualTo((3, "two words|trailing\n\n|ünï||", "err\n")));
        Assert.That(echoed.StandardOutput, Is.EqualTo("line 1\nline 2 without newline"));
        Assert.That(environment.StandardOutput, Is.EqualTo("x y\n"));
        Assert.That(missing.ExitCode, Is.EqualTo(127), "a missing program is the shell's 127, as over SSH");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_command_past_its_timeout_ends_the_session_and_the_next_command_opens_another(CancellationToken cancellationToken)
    {
        await using var transport = Local();

        var ex = await Assert.ThrowsAsync<TransportException>(() => transport.RunAsync(new Command("sleep", ["30"]).WithTimeout(TimeSpan.FromMilliseconds(300)), cancellationToken));
        var after = await transport.RunAsync(new Command("echo", ["still here"]), cancellationToken);

        Assert.That(ex!.Message, Does.Contain("timed out after 0.3 s").And.Contain("sleep 30").And.Contain("container 'rb1-web'"));
        Assert.That(after.StandardOutput, Is.EqualTo("still here\n"));
    }

    [TestCase("Error: no container with name or ID \"rb1-web\" found: no such container", 125)]
    [TestCase("Error: can only create exec sessions on running containers: container state improper", 255)]
    public async Task The_engines_own_failure_is_a_transport_error_naming_the_host_and_container(string complaint, int exit)
    {
        await using var transport = Local("sh", "-c", "echo \"$0\" >&2; exit \"$1\"", complaint, exit.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var ex = await Assert.ThrowsAsync<TransportException>(() => transport.RunAsync(new Command("cat", ["/etc/app.conf"]), CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("web").And.Contain("cat /etc/app.conf").And.Contain("in container 'rb1-web'").And.Contain(complaint).And.Contain($"(exit {exit})"));
    }
}
