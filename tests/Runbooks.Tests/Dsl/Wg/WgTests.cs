using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Wg;

public sealed class WgTests
{
    private const string ServerKey = "g9stvuZgnSYtvx+jbtpwfNEpmDf2NzrlZRHRvmBnk1s=";
    private const string ClientKey = "Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8=";
    private const string OwnPublic = "YKfDJYft+JVx55J4O/FpzOPh+MRNTWCunRZ3a3rT9Cw=";
    private const string PubkeyOfKeyFile = "sh -c wg pubkey < \"$1\" runbook-sh /etc/wireguard/wg0.key";

    [Test]
    public void Dump_parses_interface_and_peers_and_never_shows_the_private_key()
    {
        var state = WgDumpParser.Parse(Fixture.Read("network/wg-show-wg0-dump.txt"));

        Assert.That(state.PublicKey, Is.EqualTo(OwnPublic));
        Assert.That(state.ListenPort, Is.EqualTo(51820));
        Assert.That(state.Peers, Has.Length.EqualTo(2));
        var server = state.Peer(ClientKey)!;
        Assert.That(server.Endpoint, Is.EqualTo("[fdaa:3::2]:51820"));
        Assert.That(server.AllowedIps, Is.EqualTo(new[] { "192.168.0.1/32", "10.9.0.0/24" }));
        Assert.That(server.PersistentKeepalive, Is.EqualTo(25));
        Assert.That(server.LatestHandshake, Is.Null);
        Assert.That(server.SentBytes, Is.EqualTo(148));
        Assert.That(state.Peer(ServerKey)!.Endpoint, Is.Null);
        Assert.That(state.Render(), Does.Contain("private key ***").And.Not.Contain("PRIVATE-KEY"));
    }

    private static IEnumerable<TestCaseData> Keys()
    {
        yield return new TestCaseData(ServerKey, true).SetName("a key from wg pubkey is valid");
        yield return new TestCaseData(ServerKey[..43], false).SetName("43 characters is not a key");
        yield return new TestCaseData("not-a-key", false).SetName("free text is not a key");
        yield return new TestCaseData(Convert.ToBase64String(new byte[31]) + "==", false).SetName("31 bytes is not a key");
        yield return new TestCaseData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=", false).SetName("non-base64 is not a key");
    }

    [TestCaseSource(nameof(Keys))]
    public void Key_validation(string key, bool valid) => Assert.That(WgKey.IsValid(key), Is.EqualTo(valid));

    [Test]
    public void A_malformed_public_key_is_refused_when_the_runbook_is_built_naming_the_value()
    {
        var ex = Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Wg.Peer("Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8"));

        Assert.That(ex!.Message, Does.Contain("'Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8' is not a WireGuard key"));
    }

    private static IEnumerable<TestCaseData> BadArguments()
    {
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Interface("wg0 ; rm"); }), "interface name 'wg0 ; rm'").SetName("interface name with spaces");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Interface("averyveryverylongname"); }), "not valid").SetName("interface name over 15 chars");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Interface("wg0").ListenPort(70000); }), "port 70000").SetName("listen port out of range");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Interface("wg0").Address("192.168.0.300/32"); }), "'192.168.0.300/32'").SetName("address that does not parse");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Peer(ServerKey).Endpoint("fdaa:3::2:51820"); }), "in brackets").SetName("IPv6 endpoint without brackets");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Peer(ServerKey).Endpoint("[fdaa:3::2]:0"); }), "port 1-65535").SetName("endpoint port 0");
        yield return new TestCaseData((Action)(() => { _ = Runbooks.Dsl.Wg.Interface("wg0").PrivateKeyFile("wg0.key"); }), "absolute path").SetName("relative key file");
    }

    [TestCaseSource(nameof(BadArguments))]
    public void Bad_arguments_fail_at_dsl_call_time(Action call, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => call());
        Assert.That(ex!.Message, Does.Contain(message));
    }

    private static WgInterface Client() =>
        Runbooks.Dsl.Wg.Interface("wg0").PrivateKeyFile("/etc/wireguard/wg0.key").Address("192.168.0.2/32").ListenPort(51820).Mtu(1280)
            .Peer(Runbooks.Dsl.Wg.Peer(ClientKey).AllowedIps("192.168.0.1/32").Endpoint("[fdaa:3::2]:51820").PersistentKeepalive(25));

    private static IEnumerable<TestCaseData> Configure()
    {
        yield return new TestCaseData("wg-show-wg0-dump-no-peers.txt", OwnPublic, Client(),
                new[] { $"wg set wg0 peer {ClientKey} allowed-ips 192.168.0.1/32 endpoint [fdaa:3::2]:51820 persistent-keepalive 25" })
            .SetName("a missing peer is added with wg set");
        yield return new TestCaseData("wg-show-wg0-dump.txt", OwnPublic, Client(),
                new[] { $"wg set wg0 peer {ClientKey} allowed-ips 192.168.0.1/32" })
            .SetName("a peer with extra allowed ips gets exactly the wanted list, the unrelated peer stays");
        yield return new TestCaseData("wg-show-wg0-dump.txt", ServerKey, Client().ListenPort(51821),
                new[] { $"wg set wg0 private-key /etc/wireguard/wg0.key listen-port 51821 peer {ClientKey} allowed-ips 192.168.0.1/32" })
            .SetName("a different key file and port are set from the file, never a literal key");
        yield return new TestCaseData("wg-show-wg0-dump.txt", OwnPublic,
                Runbooks.Dsl.Wg.Interface("wg0").Peer(Runbooks.Dsl.Wg.Peer(ClientKey).AllowedIps("10.9.0.0/24", "192.168.0.1").Endpoint("[fdaa:3::2]:51820").PersistentKeepalive(25)),
                Array.Empty<string>())
            .SetName("matching peer in another order is satisfied");
    }

    [TestCaseSource(nameof(Configure))]
    public async Task Configured_plans_wg_set_from_the_live_dump(string dump, string derivedPublic, WgInterface wanted, string[] expected)
    {
        var host = new FakeTransport("client")
            .On("wg show wg0 dump", Fixture.Read("network/" + dump))
            .On(PubkeyOfKeyFile, derivedPublic + "\n");

        var probe = await wanted.Configured().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(c => c.Render()), Is.EqualTo(expected));
        Assert.That(probe.Decision, Is.EqualTo(expected.Length == 0 ? StepDecision.Satisfied : StepDecision.WillChange));
        Assert.That(probe.Observed, Does.Not.Contain("PRIVATE-KEY"));
    }

    [Test]
    public async Task The_peer_key_is_derived_on_the_other_host_from_its_key_file()
    {
        var inventory = new Inventory();
        var server = new FakeTransport("server").On(PubkeyOfKeyFile, ServerKey + "\n");
        var client = new FakeTransport("client").On("wg show wg0 dump", Fixture.Read("network/wg-show-wg0-dump-no-peers.txt"));
        inventory.Add("server", server);
        var wanted = Runbooks.Dsl.Wg.Interface("wg0").Peer(Runbooks.Dsl.Wg.Peer(WgPublicKey.DerivedOn("server", "/etc/wireguard/wg0.key")).AllowedIps("192.168.0.1/32"));

        var probe = await wanted.Configured().ProbeAsync(client.Context(inventory), CancellationToken.None);

        Assert.That(probe.Commands.Single().Render(), Is.EqualTo($"wg set wg0 peer {ServerKey} allowed-ips 192.168.0.1/32"));
        Assert.That(server.Ran.Single().ReadOnly, Is.True);
    }

    [Test]
    public async Task A_peer_key_from_a_host_missing_in_the_inventory_fails_with_one_clear_error()
    {
        var client = new FakeTransport("client").On("wg show wg0 dump", Fixture.Read("network/wg-show-wg0-dump-no-peers.txt"));
        var target = new Target("client", "", [], Runbooks.Dsl.Wg.Interface("wg0")
            .Peer(Runbooks.Dsl.Wg.Peer(WgPublicKey.DerivedOn("srever", "/etc/wireguard/wg0.key")).AllowedIps("192.168.0.1/32")).Configured().Yield()).On("client");
        var inventory = new Inventory().Add("client", client);

        var summary = await new Runner(new TargetGraph([target]), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(summary.Targets.Single().Error, Does.Contain("host 'srever' is not in the inventory (known: client)"));
        Assert.That(client.Changes.Select(c => c.Render()), Is.Empty, "nothing may change when the error comes first");
    }

    [TestCase(0, "ip link add dev wg0 type wireguard")]
    [TestCase(1, "wireguard-go wg0")]
    public async Task A_missing_link_is_made_by_the_kernel_module_or_else_by_wireguard_go_as_the_plan_shows(int kernelModule, string expected)
    {
        var host = new FakeTransport("server")
            .On("ip -j link show dev wg0", "", 1, "Device \"wg0\" does not exist.\n")
            .When(c => c.Program == "sh" && c.Arguments[1].Reveal().Contains("modprobe -n", StringComparison.Ordinal), "", kernelModule)
            .On(expected, "");
        var step = Runbooks.Dsl.Wg.Interface("wg0").Exists();
        var context = host.Context();

        var probe = await step.ProbeAsync(context, CancellationToken.None);
        await step.ApplyAsync(context, probe, CancellationToken.None);

        Assert.That(probe.Actions.Select(a => a.Summary), Is.EqualTo(new[] { "$ " + expected }), "the plan names the one implementation that runs");
        Assert.That(host.Changes.Select(c => c.Render()), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Config_file_round_trips_and_holds_no_private_key()
    {
        var config = new WgConfig(["192.168.0.1/32"], 51820, 1280, null, "/etc/wireguard/wg0.key",
            [new WgPeerConfig(ClientKey, ["192.168.0.2/32"], "[fdaa:3::3]:51820", 25)]);

        var text = config.Render();
        var parsed = WgConfig.Parse(text);

        Assert.That(text, Does.Contain("PostUp = wg set %i private-key /etc/wireguard/wg0.key").And.Not.Contain("PrivateKey"));
        Assert.That(parsed.Render(), Is.EqualTo(text));
        Assert.That(parsed.Peers.Single().Endpoint, Is.EqualTo("[fdaa:3::3]:51820"));
    }

    [Test]
    public void The_incidents_config_parses_with_the_private_key_as_a_secret()
    {
        const string incident = "[Interface]\nPrivateKey = 4A08znaNK3mRR3LQJPx6/BumVuLYrNrseK5ORUnbXn8=\nAddress = 192.168.0.1/32\nListenPort = 51820\nMTU = 1280\n\n" +
                                "[Peer]\nPublicKey = Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8=\nAllowedIPs = 192.168.0.2/32\n";

        var config = WgConfig.Parse(incident);

        Assert.That(config.PrivateKey!.ToString(), Is.EqualTo("***"));
        Assert.That(config.Mtu, Is.EqualTo(1280));
        Assert.That(config.Peers.Single().AllowedIps, Is.EqualTo(new[] { "192.168.0.2/32" }));
        Assert.That(Runbooks.Commands.SecretRedactor.Redact(incident), Does.Not.Contain("4A08znaNK3mRR3LQJPx6"));
    }

    [Test]
    public async Task The_config_file_is_compared_by_hash_and_written_with_mode_600()
    {
        var host = new FakeTransport("server")
            .On("stat -c %a /etc/wireguard/wg0.conf", "644\n")
            .On("sha256sum /etc/wireguard/wg0.conf", "0000  /etc/wireguard/wg0.conf\n");

        var probe = await Runbooks.Dsl.Wg.Interface("wg0").Address("192.168.0.1/32").ConfigFileInStep().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange));
        var write = probe.Actions.OfType<WriteFile>().Single();
        Assert.That((write.Path, write.Mode, write.ExpectedSha256), Is.EqualTo(("/etc/wireguard/wg0.conf", "0600", "0000")), "written only over the file whose hash was probed");
        Assert.That(write.Content.Reveal(), Does.Contain("Address = 192.168.0.1/32"));
        Assert.That(host.Ran.Select(FakeTransport.Key), Has.None.Contains("cat /etc/wireguard"));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_handshake_that_never_comes_fails_naming_host_peer_and_endpoint_after_an_awaited_ping(CancellationToken cancellationToken)
    {
        const string Peer = "Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8=";
        var host = new FakeTransport("server")
            .On("wg show wg0 dump", Fixture.Read("network/wg-show-wg0-dump.txt"))
            .On("ping -c 1 -W 1 192.168.0.1", "", 1);
        var step = Runbooks.Dsl.Wg.Interface("wg0").Handshake(WgPublicKey.Of(Peer), TimeSpan.FromMilliseconds(300));
        var context = host.Context();

        var probe = await step.ProbeAsync(context, cancellationToken);
        var error = await Assert.ThrowsAsync<RunbookException>(() => step.ApplyAsync(context, probe, cancellationToken));

        Assert.That(probe.Actions.Select(a => a.Kind), Is.EqualTo(new[] { "run", "wait-until" }), "the nudge is an action the plan shows, then the wait");
        Assert.That(host.Changes.Select(c => c.Render()), Is.EqualTo(new[] { "ping -c 1 -W 1 192.168.0.1" }));
        Assert.That(error!.Message, Does.StartWith($"on host server: no WireGuard handshake on wg0 with peer {Peer} (endpoint [fdaa:3::2]:51820) within 0.3 s")
            .And.Contain("wg show wg0 (private key hidden)"));
    }
}

internal static class StepExtensions
{
    public static IEnumerable<Step> Yield(this Step step) => [step];
}
