using Runbooks.Commands;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

public sealed class NetnsTransportTests
{
    [Test]
    public void A_plain_named_namespace_keeps_this_machines_mount_namespace()
    {
        var transport = (NetnsTransport)TransportUri.Create("netns:blue");

        Assert.That(transport.Netns, Is.EqualTo("blue"));
        Assert.That(transport.MountNamespaceFile, Is.Null);
        Assert.That(transport.Wrap(new Command("ip", ["addr"])).Render(), Does.Contain("nsenter --net=/var/run/netns/blue -- ip addr"));
    }

    [Test]
    public void A_dash_in_a_name_is_not_taken_for_the_harness_layout_unless_its_mount_file_exists() =>
        Assert.That(NetnsTransport.FromAddress("netns:rb1a2b3c-server").MountNamespaceFile, Is.Null);

    [Test]
    public void An_explicit_mount_file_is_honoured() =>
        Assert.That(NetnsTransport.FromAddress("netns:blue?mount=/run/blue.mnt").MountNamespaceFile, Is.EqualTo("/run/blue.mnt"));

    [TestCase("netns:")]
    [TestCase("netns:../x-y")]
    [TestCase("netns:a b")]
    [TestCase("netns:.hidden")]
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
