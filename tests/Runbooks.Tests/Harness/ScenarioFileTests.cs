using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Harness;

/// <summary>
/// A scenario file a user wrote, rejected before anything boots: every mistake is exit 2 with the file, the line or
/// the name of what is wrong, and no host is created.
/// </summary>
[NonParallelizable]
public class ScenarioFileTests : TempFolderTest
{
    [SetUp]
    public void Create()
    {
        System.IO.File.WriteAllText(Path.Combine(Folder, "repair.csx"), "Target(\"fix\", File.Line(\"/tmp/rb-never/x\", \"y\", create: true)).On(\"web\");\nawait RunAsync(Args);\n");
    }

    private const string Good = """
        Netns().Host("web");
        Proves("repair.csx");
        Target("break", File.Line("/tmp/rb-never/x", "broken", create: true)).On("web");
        Spec("fixed", File.Exists("/tmp/rb-never/y")).On("web");
        """;

    public static IEnumerable<TestCaseData> Mistakes()
    {
        yield return new TestCaseData("Netns().Host(\"web\")\nSpec(\"x\", File.Exists(\"/a\")).On(\"web\");", "bad.scenario.csx(1,20): error CS1002")
            .SetName("A compile error is reported at file(line,col)");
        yield return new TestCaseData(Good.Replace("Spec(\"fixed\", File.Exists(\"/tmp/rb-never/y\")).On(\"web\");", "Spec(\"fixed\", File.Exists(\"/tmp/rb-never/y\")).On(\"db\");", StringComparison.Ordinal),
                "spec 'fixed' is bound to host 'db', which the scenario does not declare (hosts: web)")
            .SetName("A spec on an undeclared host is rejected naming spec, host and the hosts there are");
        yield return new TestCaseData(Good.Replace("\"broken\", create: true)).On(\"web\")", "\"broken\", create: true)).On(\"db\")", StringComparison.Ordinal),
                "break target 'break' is bound to host 'db', which the scenario does not declare")
            .SetName("A break target on an undeclared host is rejected");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "", StringComparison.Ordinal), "the scenario declares no hosts; start it with MicroVm(), Netns(), Services() or Containers()")
            .SetName("A scenario without a backend is rejected saying how to declare one");
        yield return new TestCaseData(Good + "\nServices();", "bad.scenario.csx(5,1): error RB100")
            .SetName("A second backend is rejected at its line");
        yield return new TestCaseData(Good + "\nSpec(\"fixed\", File.Exists(\"/b\")).On(\"web\");", "spec 'fixed' is defined twice")
            .SetName("A spec name used twice is rejected");
        yield return new TestCaseData(Good.Replace("Proves(\"repair.csx\");", "Proves(\"missing.csx\");", StringComparison.Ordinal), "missing.csx does not exist")
            .SetName("Proving a runbook that does not exist is rejected");
        yield return new TestCaseData(Good + "\nvar text = FileBeside(\"files/nope.sh\");", "FileBeside(\"files/nope.sh\")")
            .SetName("A missing file beside the scenario is rejected naming it");
        yield return new TestCaseData(Good + "\nvar text = FileBeside(\"../repair.csx\");", "is outside the scenario's folder")
            .SetName("A file outside the scenario's folder is refused");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "Netns().Host(\"web\").Private(\"/etc\");", StringComparison.Ordinal), "/etc holds the host's own programs")
            .SetName("A whole system directory cannot be made private");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "Netns().Host(\"web\").Private(\"/etc/app/../../root\");", StringComparison.Ordinal), "has a '.' or '..' segment")
            .SetName("A private path with .. is refused");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "Netns().Host(\"web\"); Netns().Host(\"web2\");", StringComparison.Ordinal), "already declared the netns backend")
            .SetName("Netns declared twice is rejected");
        yield return new TestCaseData(Good + "\nNetns();", "already declared")
            .SetName("Any second backend declaration is rejected");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "var n = Netns(); n.Host(\"web\"); n.Link(\"web\", \"db\");", StringComparison.Ordinal), "names host 'db', which is not declared")
            .SetName("A link to an undeclared host is rejected");
        yield return new TestCaseData(Good.Replace("Netns().Host(\"web\");", "var n = Netns(); n.Host(\"web\"); n.Host(\"db\"); n.Link(\"web\", \"db\", \"10.0.0.300/24\");", StringComparison.Ordinal), "'10.0.0.300/24' for host 'web' is not an address")
            .SetName("A malformed link address is rejected");
        yield return new TestCaseData(Good.Replace("Spec(\"fixed\", File.Exists(\"/tmp/rb-never/y\")).On(\"web\");", "", StringComparison.Ordinal), "the scenario has no specs")
            .SetName("A scenario without specs is rejected");
        string OnContainers(string declaration) => Good.Replace("Netns().Host(\"web\");", declaration, StringComparison.Ordinal);
        yield return new TestCaseData(OnContainers("Containers().Host(\"web\").Address(\"10.20.0.1\");"), "Address(\"10.20.0.1\") needs the network's subnet: add Containers().Network(")
            .SetName("A container address without the network's subnet is rejected");
        yield return new TestCaseData(OnContainers("Containers().Network(\"10.20.0.0/24\").Host(\"web\").Address(\"10.30.0.1\");"), "is not a host address of the network 10.20.0.0/24")
            .SetName("A container address outside its network is rejected");
        yield return new TestCaseData(OnContainers("Containers().Network(\"10.20.0.0/24\").Host(\"web\").Address(\"10.20.0.254\");"), "its last address, 10.20.0.254, is the gateway")
            .SetName("A container address on the network's gateway is rejected");
        yield return new TestCaseData(OnContainers("var c = Containers().Network(\"10.20.0.0/24\"); c.Host(\"web\").Address(\"10.20.0.5\"); c.Host(\"db\").Address(\"10.20.0.5\");"), "hosts 'web' and 'db' both have the address 10.20.0.5")
            .SetName("Two containers with one address are rejected");
        yield return new TestCaseData(OnContainers("Containers(image: \"My Image\").Host(\"web\");"), "Containers(image: \"My Image\"): not an image reference")
            .SetName("A malformed image reference is rejected");
        yield return new TestCaseData(OnContainers("Containers().Host(\"web\").SmallFilesystem(\"/etc\", 8);"), "/etc holds the host's own programs")
            .SetName("A container's small filesystem follows the private-path rule");
        yield return new TestCaseData(OnContainers("Containers().Host(\"web\").Runs(\"sleep 5\");"), "give the program alone and its arguments apart")
            .SetName("A container's main process given as one string is rejected");
    }

    [TestCaseSource(nameof(Mistakes))]
    public void A_bad_scenario_exits_2_and_nothing_boots(string text, string expected)
    {
        var scenario = Path.Combine(Folder, "bad.scenario.csx");
        System.IO.File.WriteAllText(scenario, text);

        var (exit, output, error) = CliRunner.Run("harness", "run", scenario, "-o", Path.Combine(Folder, "out"));

        Assert.That(exit, Is.EqualTo(2), output + error);
        Assert.That(error, Does.Contain(expected));
        Assert.That(output, Does.Not.Contain("[create]"), "a host was created for a scenario that should have been rejected");
        Assert.That(Directory.Exists("/tmp/rb-never"), Is.False);
    }

    [Test]
    public async Task A_good_scenario_defines_its_hosts_specs_break_and_runbook()
    {
        var path = Path.Combine(Folder, "good.scenario.csx");
        System.IO.File.WriteAllText(path, Good);

        var scenario = await ScenarioFile.LoadAsync(path, 0.1, cache: null);

        Assert.That(scenario.Name, Is.EqualTo("good"));
        Assert.That(scenario.Backend.Name, Is.EqualTo("netns"));
        Assert.That(scenario.Backend.HostNames, Is.EqualTo(new[] { "web" }));
        Assert.That(scenario.Specs.Select(s => (s.Name, s.Host, s.BrokenByIncident)), Is.EqualTo(new[] { ("fixed", "web", true) }));
        Assert.That(scenario.Break.Targets.Select(t => (t.Name, t.Host)), Is.EqualTo(new[] { ("break", "web") }));
        Assert.That(scenario.Runbook, Is.EqualTo(Path.Combine(Folder, "repair.csx")));
    }

    [Test]
    public void Check_of_a_scenario_file_compiles_it_against_the_scenario_globals()
    {
        var path = Path.Combine(Folder, "good.scenario.csx");
        System.IO.File.WriteAllText(path, Good);

        var (exit, output, error) = CliRunner.Run("check", path);
        System.IO.File.WriteAllText(path, Good.Replace("On(\"web\");\n", "On(\"db\");\n", StringComparison.Ordinal));
        var (badExit, _, badError) = CliRunner.Run("check", path);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("ok, scenario on netns (web), 1 break target(s), 1 spec(s)"));
        Assert.That(badExit, Is.EqualTo(2));
        Assert.That(badError, Does.Contain("bound to host 'db'"));
    }

    [Test]
    public async Task Scale_reaches_the_scenario()
    {
        var path = Path.Combine(Folder, "scaled.scenario.csx");
        System.IO.File.WriteAllText(path, Good.Replace("Target(\"break\"", "Target($\"break-{(int)(Scale * 100)}\"", StringComparison.Ordinal));

        Assert.That((await ScenarioFile.LoadAsync(path, 0.25, cache: null)).Break.Targets.Single().Name, Is.EqualTo("break-25"));
        Assert.That((await ScenarioFile.LoadAsync(path, 1, cache: null)).Break.Targets.Single().Name, Is.EqualTo("break-100"));
    }

    [Test]
    public void A_name_the_tool_does_not_ship_is_rejected_listing_the_shipped_ones()
    {
        var (exit, _, error) = CliRunner.Run("harness", "run", "no-such-incident");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("no scenario named 'no-such-incident'").And.Contain("connection").And.Contain("webapp"));
    }

    [Test]
    public void List_as_json_names_every_scenario_in_a_folder_for_a_ci_matrix()
    {
        System.IO.File.WriteAllText(Path.Combine(Folder, "one.scenario.csx"), Good);
        Directory.CreateDirectory(Path.Combine(Folder, "sub"));
        System.IO.File.Copy(Path.Combine(Folder, "repair.csx"), Path.Combine(Folder, "sub", "repair.csx"));
        System.IO.File.WriteAllText(Path.Combine(Folder, "sub", "two.scenario.csx"), Good);

        var (exit, output, error) = CliRunner.Run("harness", "list", "--format", "json", Folder);

        Assert.That(exit, Is.EqualTo(0), error);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.That(json.RootElement.EnumerateArray().Select(e => (e.GetProperty("name").GetString(), e.GetProperty("backend").GetString())),
            Is.EqualTo(new[] { ("one", "netns"), ("two", "netns") }));
        Assert.That(json.RootElement[1].GetProperty("runbook").GetString(), Is.EqualTo(Path.Combine(Folder, "sub", "repair.csx")));
    }

    [Test]
    public void The_shipped_scenarios_are_found_by_name()
    {
        var names = HarnessCatalog.ShippedScenarios.Select(ScenarioFile.NameOf).ToList();

        Assert.That(names, Does.Contain("connection").And.Contain("webapp"));
        Assert.That(HarnessCatalog.Resolve("webapp"), Does.EndWith(Path.Combine("runbooks", "webapp", "webapp.scenario.csx")));
    }
}
