using Runbooks.Commands;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

public sealed class NetnsTransportTests
{
    [Test]
    public void An_inventory_address_finds_the_harness_mount_namespace()
    {
        var transport = (NetnsTransport)TransportUri.Create("netns:rb1a2b3c-server");

        Assert.That(transport.Netns, Is.EqualTo("rb1a2b3c-server"));
        Assert.That(transport.MountNamespaceFile, Is.EqualTo("/run/runbooks-netns/rb1a2b3c/server.mnt"));
    }

    [Test]
    public void An_explicit_mount_file_is_honoured() =>
        Assert.That(NetnsTransport.FromAddress("netns:blue?mount=/run/blue.mnt").MountNamespaceFile, Is.EqualTo("/run/blue.mnt"));

    [TestCase("netns:")]
    [TestCase("netns:nodash")]
    [TestCase("netns:../x-y")]
    public void A_malformed_address_is_one_clear_inventory_error(string address) =>
        Assert.That(() => NetnsTransport.FromAddress(address), Throws.TypeOf<InvalidRunbookException>().With.Message.Contains(address));

    [Test]
    public void Commands_are_wrapped_in_nsenter_keeping_stdin_timeout_and_secrets()
    {
        var transport = new NetnsTransport("client", "rb1-client", "/run/runbooks-netns/rb1/client.mnt");
        var command = new Command("wg", ["pubkey"]).WithStdin(Secret.Of("sEcReTkEyVaLuE")).WithTimeout(TimeSpan.FromSeconds(3)).AsReadOnly();

        var wrapped = transport.Wrap(command);

        Assert.That(wrapped.Render(), Does.StartWith("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin nsenter --net=/var/run/netns/rb1-client --mount=/run/runbooks-netns/rb1/client.mnt -- wg pubkey <<< ***"));
        Assert.That(wrapped.Timeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(wrapped.ReadOnly, Is.True);
    }

    [TestCase("4f1c2a9e", "rb1c2a9e")]
    [TestCase("ab", "rb0000ab")]
    [TestCase("Run_2026-11-23T09", "rb123t09")]
    public void The_prefix_is_short_and_safe_for_link_names(string runId, string expected) =>
        Assert.That(NetnsBackend.Prefix(runId), Is.EqualTo(expected));
}
