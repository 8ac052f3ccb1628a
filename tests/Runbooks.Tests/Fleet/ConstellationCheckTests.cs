using Runbooks.Fleet;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Fleet;

/// <summary>
/// A constellation is checked before any host is touched: every machine here points at a loopback port nothing
/// listens on, so a constellation that passes its checks ends "unreachable" (exit 1), one refused ends exit 2.
/// </summary>
[NonParallelizable]
public sealed class ConstellationCheckTests : TempFolderTest
{
    private const string Nowhere = "ssh://root@127.0.0.1:1";

    private string Write(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Two roles, each one step, on one machine.</summary>
    private string TwoRoles(string first, string second)
    {
        Write("one.csx", $"Target(\"default\", {first});\nawait RunAsync(Args);\n");
        Write("two.csx", $"Target(\"default\", {second});\nawait RunAsync(Args);\n");
        return Write("pair.constellation.csx", $"""
            Role("one", "one.csx");
            Role("two", "two.csx");
            Machine("box", "{Nowhere}").Runs("one").Runs("two");
            """);
    }

    public static IEnumerable<TestCaseData> Conflicting()
    {
        yield return new TestCaseData(
            "Exec(\"a\", new Command(\"true\", [])).Until(Probe.Tcp(\"127.0.0.1\", 9000, TcpOutcome.Connected)).Owns(ResourceClaim.Port(9000))",
            "Exec(\"b\", new Command(\"true\", [])).Until(Probe.Tcp(\"127.0.0.1\", 9000, TcpOutcome.Connected)).Owns(ResourceClaim.Port(9000))",
            "both own port tcp/9000").SetName("two roles on one port are refused");
        yield return new TestCaseData("File.Content(\"/srv/x.conf\", \"a\\n\")", "File.Content(\"/srv/x.conf\", \"b\\n\")",
            "want different things of file /srv/x.conf").SetName("one file with two contents is refused");
        yield return new TestCaseData("Sysctl.Value(\"net.core.somaxconn\", \"1024\")", "Sysctl.Value(\"net.core.somaxconn\", \"4096\")",
            "want different things of sysctl net.core.somaxconn").SetName("one sysctl with two values is refused");
        yield return new TestCaseData(
            "Firewall.Rule(IpFamily.V4, \"INPUT\").WithProtocol(\"tcp\").Port(22).Jump(\"DROP\").Present()",
            "Firewall.Rule(IpFamily.V4, \"INPUT\").WithProtocol(\"tcp\").Port(22).Jump(\"DROP\").Absent()",
            "want different things of firewall-rule `iptables -t filter -A INPUT -p tcp -m tcp --dport 22 -j DROP`").SetName("a rule one role wants present and another absent is refused");
        yield return new TestCaseData("Fs.Mount(\"/data\").Writable()", "Fs.Mount(\"/data\").ReadOnly()",
            "want different things of mount /data").SetName("one mount point read-write and read-only is refused");
    }

    [TestCaseSource(nameof(Conflicting))]
    public void Conflicting_roles_on_one_machine_are_refused_naming_both_and_the_resource(string first, string second, string expected)
    {
        var constellation = TwoRoles(first, second);
        foreach (var verb in new[] { "plan", "run" })
        {
            var (exit, output, error) = verb == "run" ? CliRunner.Run(verb, constellation, "--journal", Path.Combine(Folder, "j.jsonl")) : CliRunner.Run(verb, constellation);

            Assert.That(exit, Is.EqualTo(2), output + error);
            Assert.That(error, Does.Contain($"machine 'box': roles 'one' and 'two' {expected}"));
            Assert.That(error, Does.Contain("one: ").And.Contain("two: ").And.Contain("one.csx(1,1)").And.Contain("two.csx(1,1)"), "each side names its role, step and line");
            Assert.That(error, Does.Not.Contain("unreachable"), "no machine was reached");
        }

        Assert.That(System.IO.File.Exists(Path.Combine(Folder, "j.jsonl")), Is.False, "a refused run writes no journal");
    }

    [Test]
    public void Roles_that_want_the_same_thing_the_same_way_merge()
    {
        var constellation = TwoRoles("Sysctl.Value(\"net.core.somaxconn\", \"1024\")", "Sysctl.Value(\"net.core.somaxconn\", \"1024\")");

        var (exit, output, error) = CliRunner.Run("plan", constellation);

        Assert.That(exit, Is.EqualTo(1), "checks pass; the plan then finds the machine unreachable\n" + output + error);
        Assert.That(output, Does.Contain("one: unreachable").And.Contain("two: unreachable"));
    }

    [Test]
    public void Unknown_roles_tags_and_machines_are_refused_at_their_line()
    {
        Write("db.csx", "Target(\"default\", Sysctl.Value(\"net.core.somaxconn\", \"1024\"));\nawait RunAsync(Args);\n");
        var constellation = Write("typo.constellation.csx", $"""
            Role("database", "db.csx");
            Machine("server-b", "{Nowhere}").Tags("db").Runs("databse");
            """);

        var (exit, _, error) = CliRunner.Run("plan", constellation);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("typo.constellation.csx(2,").And.Contain("machine 'server-b' runs role 'databse', which is not declared (roles: database)"));

        var good = Write("good.constellation.csx", $"""
            Role("database", "db.csx");
            Machine("server-b", "{Nowhere}").Tags("db").Runs("database");
            """);
        (exit, _, error) = CliRunner.Run("plan", good, "--on", "@lab");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--on @lab: no machine in").And.Contain("(tags: @db)"));

        (exit, _, error) = CliRunner.Run("run", good, "--host", "server-z=ssh://root@127.0.0.1:1");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--host: no machine 'server-z'"));
    }

    [Test]
    public void A_role_that_looks_up_a_placement_nobody_plays_is_refused()
    {
        Write("app.csx", """
            var db = Constellation.MachineWith("database", ("mode", "primary")).Address;
            Target("default", File.Content("/srv/app.conf", $"db = {db}\n"));
            await RunAsync(Args);
            """);
        Write("db.csx", "Target(\"default\", Sysctl.Value(\"net.core.somaxconn\", \"1024\"));\nawait RunAsync(Args);\n");
        var constellation = Write("lookup.constellation.csx", $"""
            Role("app", "app.csx");
            Role("database", "db.csx");
            Machine("a", "{Nowhere}").Runs("app");
            Machine("b", "{Nowhere}").Runs("database", ("mode", "secondary"));
            """);

        var (exit, _, error) = CliRunner.Run("plan", constellation);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("machine 'a', role 'app'").And.Contain("no machine in").And.Contain("plays role 'database' with mode = primary").And.Contain("placements of 'database': b (mode = secondary)"));
        Assert.That(error, Does.Contain("app.csx(1,"), "the role's line that looked it up");
    }

    [Test]
    public void Fleet_options_on_a_plain_runbook_are_refused()
    {
        var runbook = Write("plain.csx", "Target(\"default\", Sysctl.Value(\"net.core.somaxconn\", \"1024\"));\nawait RunAsync(Args);\n");

        var (exit, _, error) = CliRunner.Run("run", runbook, "--serial", "2");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--serial: for a constellation"));
    }

    [TestCase("3", 10, 3)]
    [TestCase("25%", 10, 3)]
    [TestCase("100%", 7, 7)]
    [TestCase("1%", 7, 1)]
    [TestCase("50", 7, 7)]
    public void Serial_batches_are_a_count_or_a_percentage_rounded_up(string serial, int machines, int perBatch)
    {
        Assert.That(RolloutOptions.Parse(10, serial, null).Serial!.Value.For(machines), Is.EqualTo(perBatch));
    }

    [TestCase(0, null, null, "--limit 0")]
    [TestCase(10, "0", null, "--serial 0")]
    [TestCase(10, "150%", null, "--serial 150%")]
    [TestCase(10, null, "120%", "--max-fail 120%")]
    [TestCase(10, null, "-1%", "--max-fail -1%")]
    public void Bad_rollout_options_are_usage_errors_naming_the_option(int limit, string? serial, string? maxFail, string expected)
    {
        var ex = Assert.Throws<InvalidRunbookException>(() => RolloutOptions.Parse(limit, serial, maxFail));
        Assert.That(ex!.Message, Does.StartWith(expected));
    }
}
