using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Firewall;

public sealed class FirewallTests
{
    private static FirewallState V6() => FirewallParser.Parse(IpFamily.V6, Fixture.Read("network/ip6tables-save.txt"));

    [Test]
    public void Save_output_parses_into_typed_rules_and_policies()
    {
        var v4 = FirewallParser.Parse(IpFamily.V4, Fixture.Read("network/iptables-save.txt"));
        var v6 = V6();

        Assert.That(v4.RulesIn("filter", "INPUT").First(), Is.EqualTo(v4.Rules[0]));
        Assert.That(v4.Rules[0].DestinationPort, Is.EqualTo(8080));
        Assert.That(v4.Rules[1].OtherMatches, Is.EqualTo(new[] { "-m", "comment", "--comment", "x y" }));
        Assert.That(v4.Rules[1].Source, Is.EqualTo("10.1.2.3/32"));
        Assert.That(v4.RulesIn("nat", "POSTROUTING").Single().Target, Is.EqualTo("MASQUERADE"));
        Assert.That(v6.Chain("filter", "FORWARD")!.Policy, Is.EqualTo("DROP"));
        Assert.That(v6.Rules[1].TargetOptions, Is.EqualTo(new[] { "--reject-with", "tcp-reset" }));
    }

    [Test]
    public void A_rule_from_the_dsl_equals_the_same_rule_read_back()
    {
        var wanted = Runbooks.Dsl.Firewall.Rule(IpFamily.V6, "INPUT").From("fdaa:3::3").WithProtocol("tcp").Jump("REJECT", "--reject-with", "tcp-reset");

        Assert.That(V6().Rules.Count(r => r.SameAs(wanted)), Is.EqualTo(1));
        Assert.That(wanted.Render(), Is.EqualTo("-A INPUT -s fdaa:3::3/128 -p tcp -j REJECT --reject-with tcp-reset"));
    }

    private static IEnumerable<TestCaseData> Plans()
    {
        var drop51820 = Runbooks.Dsl.Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP");
        yield return new TestCaseData(drop51820.Absent(), new[] { "ip6tables -t filter -D INPUT -p udp -m udp --dport 51820 -j DROP" })
            .SetName("the incident's udp 51820 DROP is removed by its exact spec");
        yield return new TestCaseData(drop51820.Present(), Array.Empty<string>()).SetName("a rule already there is satisfied");
        yield return new TestCaseData(Runbooks.Dsl.Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("ACCEPT").PresentAt(1),
                new[] { "ip6tables -t filter -I INPUT 1 -p udp -m udp --dport 51820 -j ACCEPT" })
            .SetName("a rule wanted first is inserted at position 1");
        yield return new TestCaseData(Runbooks.Dsl.Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51821).Jump("DROP").Absent(), Array.Empty<string>())
            .SetName("removing a rule that is not there changes nothing");
        yield return new TestCaseData(Runbooks.Dsl.Firewall.Chain(IpFamily.V6, "FORWARD").Policy("ACCEPT"), new[] { "ip6tables -t filter -P FORWARD ACCEPT" })
            .SetName("a chain policy is set");
    }

    [TestCaseSource(nameof(Plans))]
    public async Task Given_ip6tables_save_the_step_plans_these_commands(Step step, string[] expected)
    {
        var host = new FakeTransport("server").On("ip6tables-save -t filter", Fixture.Read("network/ip6tables-save.txt"));

        var probe = await step.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(c => c.Render()), Is.EqualTo(expected));
    }

    [Test]
    public async Task A_flush_is_destructive_and_its_plan_lists_every_rule_it_removes()
    {
        var host = new FakeTransport("server").On("ip6tables-save -t filter", Fixture.Read("network/ip6tables-save.txt"));
        var flush = Runbooks.Dsl.Firewall.Chain(IpFamily.V6, "INPUT").Flush();

        var probe = await flush.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(flush.Destroys, Does.Contain("every rule of ip6tables filter/INPUT"));
        Assert.That(probe.Commands.Single().Render(), Is.EqualTo("ip6tables -t filter -F INPUT"));
        Assert.That(probe.Notes, Is.EqualTo(new[]
        {
            "removes rule 1: -A INPUT -p udp -m udp --dport 51820 -j DROP",
            "removes rule 2: -A INPUT -s fdaa:3::3/128 -p tcp -j REJECT --reject-with tcp-reset",
        }));
    }

    [Test]
    public void An_ipv4_address_in_an_ip6tables_rule_is_refused() =>
        Assert.That(() => Runbooks.Dsl.Firewall.Rule(IpFamily.V6, "INPUT").From("10.0.0.1"), Throws.ArgumentException.With.Message.Contains("'10.0.0.1' is an IPv4 address in an ip6tables rule"));

    [Test]
    public void A_port_without_tcp_or_udp_is_refused() =>
        Assert.That(() => Runbooks.Dsl.Firewall.Rule(IpFamily.V4, "INPUT").Port(8080), Throws.ArgumentException.With.Message.Contains("needs protocol tcp or udp"));

    [Test]
    public void A_rule_without_a_target_is_refused() =>
        Assert.That(() => Runbooks.Dsl.Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Absent(), Throws.ArgumentException.With.Message.Contains("has no target"));
}

public class FirewallFactViewTests
{
    [Test]
    public void The_same_rules_dumped_at_another_time_with_other_counters_are_the_same_fact()
    {
        const string Earlier = "# Generated by iptables-save v1.8.9 (nf_tables) on Tue Dec  1 09:49:20 2026\n*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 8080 -j DROP\nCOMMIT\n# Completed on Tue Dec  1 09:49:20 2026\n";
        var later = Earlier.Replace("09:49:20", "09:51:07", StringComparison.Ordinal).Replace(":INPUT ACCEPT [0:0]", ":INPUT ACCEPT [12:3456]", StringComparison.Ordinal);
        var changed = Earlier.Replace("--dport 8080", "--dport 8081", StringComparison.Ordinal);
        var policy = Earlier.Replace(":INPUT ACCEPT", ":INPUT DROP", StringComparison.Ordinal);

        Assert.That(Runbooks.Dsl.Firewall.WithoutClockAndCounters(later), Is.EqualTo(Runbooks.Dsl.Firewall.WithoutClockAndCounters(Earlier)));
        Assert.That(Runbooks.Dsl.Firewall.WithoutClockAndCounters(changed), Is.Not.EqualTo(Runbooks.Dsl.Firewall.WithoutClockAndCounters(Earlier)));
        Assert.That(Runbooks.Dsl.Firewall.WithoutClockAndCounters(policy), Is.Not.EqualTo(Runbooks.Dsl.Firewall.WithoutClockAndCounters(Earlier)));
    }
}

public class FirewallAbsentCoversTests
{
    private static string Save(string rule) => $"*filter\n:INPUT ACCEPT [0:0]\n{rule}\nCOMMIT\n";

    [TestCase("-A INPUT -p tcp -m multiport --dports 8080,8443 -j DROP", true, TestName = "a multiport rule holding the port blocks Absent")]
    [TestCase("-A INPUT -p tcp -m multiport --dports 8000:8090 -j DROP", true, TestName = "a port range holding the port blocks Absent")]
    [TestCase("-A INPUT -p tcp -j DROP", true, TestName = "a rule dropping all tcp blocks Absent")]
    [TestCase("-A INPUT -j DROP", true, TestName = "a rule dropping everything blocks Absent")]
    [TestCase("-A INPUT -p tcp -m multiport --dports 9000:9010 -j DROP", false, TestName = "a multiport rule for other ports does not")]
    [TestCase("-A INPUT -s 10.0.0.0/8 -p tcp -m multiport --dports 8080,8443 -j DROP", false, TestName = "a narrower rule (one source) is not the same traffic")]
    [TestCase("-A INPUT -p tcp -m multiport --dports 8080,8443 -j ACCEPT", false, TestName = "a rule with another target does not")]
    [TestCase("-A INPUT -p udp -m multiport --dports 8080 -j DROP", false, TestName = "a rule for another protocol does not")]
    public async Task Absent_is_not_satisfied_while_another_rule_still_does_the_same(string rule, bool blocked)
    {
        var host = new FakeTransport("server").On("iptables-save -t filter", Save(rule));
        var step = Runbooks.Dsl.Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent();

        var probe = await step.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(blocked ? StepDecision.Blocked : StepDecision.Satisfied));
        if (blocked)
        {
            Assert.That(probe.Unmet.Single(), Does.Contain($"rule 1 of INPUT, `{rule}`, also sends tcp/8080 to DROP").And.Contain("remove or narrow that rule"));
        }
    }
}
