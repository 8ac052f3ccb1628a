using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Net;

public sealed class NetTests
{
    [Test]
    public void Routes_parse_with_host_routes_given_their_prefix()
    {
        var routes = NetParser.Routes(Fixture.Read("network/ip-j-route.json"));

        Assert.That(routes.Select(r => r.Render()), Is.EqualTo(new[]
        {
            "172.19.0.0/24 dev eth0",
            "192.168.0.0/24 via 172.19.0.1 dev eth0",
            "192.168.0.1/32 dev wg0",
        }));
    }

    [Test]
    public void Addresses_and_links_parse_from_ip_json()
    {
        var addresses = NetParser.Addresses(Fixture.Read("network/ip-j-addr.json"));
        var links = NetParser.Links(Fixture.Read("network/ip-j-link.json"));

        Assert.That(addresses.Where(a => a.Device == "eth0" && a.Scope == "global").Select(a => a.Cidr), Is.EquivalentTo(new[] { "fdaa:3::3/64", "172.19.0.74/24" }));
        Assert.That(addresses.Single(a => a.Device == "wg0" && !a.IsIpv6).Cidr, Is.EqualTo("192.168.0.2/32"));
        Assert.That(links.Single(l => l.Name == "wg0"), Is.EqualTo(new NetLinkState("wg0", 1800, true, "UNKNOWN")));
    }

    [Test]
    public void Empty_output_means_no_routes() => Assert.That(NetParser.Routes(""), Is.Empty);

    private static IEnumerable<TestCaseData> Plans()
    {
        yield return new TestCaseData(Runbooks.Dsl.Net.Route("192.168.0.0/24").Absent(), "ip -4 -j route show to exact 192.168.0.0/24", "ip-j-route-exact.json",
            new[] { "ip route del 192.168.0.0/24 via 172.19.0.1 dev eth0" }).SetName("the incident's stale route is deleted by exactly its gateway and device");
        yield return new TestCaseData(Runbooks.Dsl.Net.Route("192.168.0.0/24").Via("172.19.0.9").Absent(), "ip -4 -j route show to exact 192.168.0.0/24", "ip-j-route-exact.json",
            Array.Empty<string>()).SetName("a route via another gateway is not the one to delete");
        yield return new TestCaseData(Runbooks.Dsl.Net.Route("192.168.0.1/32").Dev("wg0").Present(), "ip -4 -j route show to exact 192.168.0.1/32", null,
            new[] { "ip route replace 192.168.0.1/32 dev wg0" }).SetName("a missing tunnel route is added");
        yield return new TestCaseData(Runbooks.Dsl.Net.Link("wg0").Mtu(1280).Up(), "ip -j link show dev wg0", "ip-j-link-wg0.json",
            new[] { "ip link set dev wg0 mtu 1280" }).SetName("the client's MTU 1800 is brought to 1280");
        yield return new TestCaseData(Runbooks.Dsl.Net.Link("wg0").Mtu(1800).Up(), "ip -j link show dev wg0", "ip-j-link-wg0.json",
            Array.Empty<string>()).SetName("a link already at its MTU and up is satisfied");
    }

    [TestCaseSource(nameof(Plans))]
    public async Task Given_ip_json_the_step_plans_these_commands(Step step, string read, string? fixture, string[] expected)
    {
        var host = new FakeTransport("server").On(read, fixture is null ? "" : Fixture.Read("network/" + fixture));

        var probe = await step.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(c => c.Render()), Is.EqualTo(expected));
    }

    [Test]
    public void Deleting_a_route_is_declared_destructive() =>
        Assert.That(Runbooks.Dsl.Net.Route("192.168.0.0/24").Absent().Destroys, Does.Contain("192.168.0.0/24"));

    [Test]
    public async Task A_missing_link_blocks_the_step_and_says_so()
    {
        var host = new FakeTransport("server").On("ip -j link show dev wg0", "", 1, Fixture.Read("network/ip-j-link-missing.txt").Replace("nosuch", "wg0", StringComparison.Ordinal));

        var probe = await Runbooks.Dsl.Net.Link("wg0").Mtu(1280).ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked));
        Assert.That(probe.Unmet.Single(), Does.Contain("link wg0 does not exist"));
    }

    [Test]
    public async Task Exact_addresses_add_the_right_one_before_removing_the_wrong_subnet()
    {
        var host = new FakeTransport("server")
            .On("ip -j link show dev wg0", Fixture.Read("network/ip-j-link-wg0.json"))
            .On("ip -j addr show dev wg0", """[{"ifname":"wg0","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24,"scope":"global"}]}]""");

        var probe = await Runbooks.Dsl.Net.Addresses("wg0", "192.168.0.1/32").ProbeAsync(host.Context(), CancellationToken.None);

        // Adding first keeps an IPv4 address on the link throughout: removing its last one would flush its routes.
        Assert.That(probe.Commands.Select(c => c.Render()), Is.EqualTo(new[] { "ip addr add 192.168.0.1/32 dev wg0", "ip addr del 10.0.0.1/24 dev wg0" }));
    }

    [TestCase("192.168.0.0/33")]
    [TestCase("fdaa::/129")]
    [TestCase("not-a-cidr")]
    public void A_bad_destination_is_refused_at_dsl_call_time(string cidr) =>
        Assert.That(() => Runbooks.Dsl.Net.Route(cidr), Throws.ArgumentException.With.Message.Contains($"'{cidr}'"));
}
