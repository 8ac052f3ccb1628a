using System.Text.Json;
using Runbooks.Harness;
using Runbooks.Harness.Authoring;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Runbooks.Tests.Harness.Authoring;

/// <summary>`runbook init`: what it writes, what it refuses, and that what it writes compiles as a runbook and a scenario.</summary>
[NonParallelizable]
public class IncidentScaffoldTests
{
    private string _root = "";

    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    public static IEnumerable<TestCaseData> EachBackend() => IncidentScaffold.Backends.Select(b => new TestCaseData(b).SetArgDisplayNames(b));

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), $"rb-init-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void RemoveRoot() => Directory.Delete(_root, recursive: true);

    [TestCaseSource(nameof(EachBackend))]
    public void Init_writes_an_incident_folder_named_after_the_folder(string backend)
    {
        var dir = Path.Combine(_root, "web-down");

        var (exit, output, error) = CliRunner.Run("init", dir, "--backend", backend);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("web-down.scenario.csx"));
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).ToList();
        Assert.That(files, Is.SupersetOf(new[]
        {
            "web-down.csx", "web-down.scenario.csx", "README.md", ".editorconfig", ".vscode/settings.json", ".nvim.lua", ".helix/languages.toml", ".github/workflows/runbooks.yml",
        }));
        foreach (var file in files)
        {
            var text = File.ReadAllText(Path.Combine(dir, file));
            Assert.That(text, Does.Not.Match(@"\{\{[A-Z_]+\}\}"), $"{file} keeps a placeholder");
            Assert.That(text, Does.Not.Contain("incident.csx"), $"{file} names the template instead of the incident");
        }

        var scenario = File.ReadAllText(Path.Combine(dir, "web-down.scenario.csx"));
        Assert.That(scenario, Does.Contain("Proves(\"web-down.csx\");"));
        Assert.That(scenario, Does.Contain(backend switch { "netns" => "Netns();", "services" => "Services();", _ => "MicroVm()" }));
        Assert.That(File.ReadAllText(Path.Combine(dir, "README.md")), Does.StartWith("# web-down\n").And.Contain($"**{backend}** backend").And.Contain("artifacts/harness/web-down/"));
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, ".vscode", "settings.json")));
        Assert.That(settings.RootElement.GetProperty("files.associations").GetProperty("*.csx").GetString(), Is.EqualTo("csharp"));
        Assert.That(File.ReadAllText(Path.Combine(dir, ".editorconfig")), Does.Contain("[*.{cs,csx}]"));
    }

    [Test]
    public void The_default_backend_is_netns()
    {
        var result = IncidentScaffold.Write(Path.Combine(_root, "ping-lost"), IncidentScaffold.Backends[0], force: false, "1.2.3");

        Assert.That(result.Backend, Is.EqualTo("netns"));
        Assert.That(CliRunner.Run("init", Path.Combine(_root, "other")).Exit, Is.EqualTo(0));
        Assert.That(File.ReadAllText(Path.Combine(_root, "other", "other.scenario.csx")), Does.Contain("Netns();"));
    }

    [Test]
    public void The_workflow_builds_a_matrix_from_harness_list_and_uploads_junit_and_the_report()
    {
        IncidentScaffold.Write(Path.Combine(_root, "web-down"), "services", force: false, "1.2.3+abcdef");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(_root, "web-down", ".github", "workflows", "runbooks.yml"))));

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var env = (YamlMappingNode)root["env"];
        Assert.That(env["RUNBOOKS_TOOL_VERSION"].ToString(), Is.EqualTo("1.2.3"), "the +commit suffix is not a NuGet version");
        var jobs = (YamlMappingNode)root["jobs"];
        var list = (YamlMappingNode)jobs["list"];
        Assert.That(Runs(list), Does.Contain("runbook harness list --format json .").And.Contain("dotnet tool install --global Runbooks.Tool"));
        Assert.That(list["outputs"]["scenarios"].ToString(), Is.EqualTo("${{ steps.list.outputs.scenarios }}"));

        var prove = (YamlMappingNode)jobs["prove"];
        Assert.That(prove["needs"].ToString(), Is.EqualTo("list"));
        Assert.That(prove["strategy"]["matrix"]["include"].ToString(), Is.EqualTo("${{ fromJSON(needs.list.outputs.scenarios) }}"));
        Assert.That(Runs(prove), Does.Contain("runbook harness prerequisites | sudo").And.Contain("runbook harness run \"$SCENARIO\" -o \"out/$NAME\""));
        var upload = ((YamlSequenceNode)prove["steps"]).Cast<YamlMappingNode>().Single(s => s.Children.ContainsKey("uses") && s["uses"].ToString().StartsWith("actions/upload-artifact@", StringComparison.Ordinal));
        Assert.That(upload["if"].ToString(), Is.EqualTo("always()"), "a failed run's report is the one most worth reading");
        Assert.That(upload["with"]["path"].ToString(), Does.Contain("out/${{ matrix.name }}/junit.xml").And.Contain("out/${{ matrix.name }}/report.md"));
    }

    private static string Runs(YamlMappingNode job) =>
        string.Join("\n", ((YamlSequenceNode)job["steps"]).Cast<YamlMappingNode>().Where(s => s.Children.ContainsKey("run")).Select(s => s["run"].ToString()));

    [Test]
    public void Init_refuses_a_folder_that_is_not_empty_and_names_it()
    {
        var dir = Path.Combine(_root, "web-down");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "web-down.csx"), "// mine\n");

        var (exit, _, error) = CliRunner.Run("init", dir);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(dir).And.Contain("--force"));
        Assert.That(File.ReadAllText(Path.Combine(dir, "web-down.csx")), Is.EqualTo("// mine\n"));
        Assert.That(Directory.EnumerateFileSystemEntries(dir), Has.Exactly(1).Items, "a refused init wrote something");
    }

    [Test]
    public void Init_with_force_overwrites_its_own_files_and_leaves_others_alone()
    {
        var dir = Path.Combine(_root, "web-down");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "web-down.csx"), "// mine\n");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "keep\n");

        var (exit, _, error) = CliRunner.Run("init", dir, "--force");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(File.ReadAllText(Path.Combine(dir, "web-down.csx")), Does.Contain("await RunAsync(Args);"));
        Assert.That(File.ReadAllText(Path.Combine(dir, "notes.txt")), Is.EqualTo("keep\n"));
    }

    [Test]
    public void Init_writes_into_an_empty_folder_that_exists()
    {
        var dir = Path.Combine(_root, "web-down");
        Directory.CreateDirectory(dir);

        Assert.That(CliRunner.Run("init", dir).Exit, Is.EqualTo(0));
        Assert.That(File.Exists(Path.Combine(dir, "web-down.scenario.csx")), Is.True);
    }

    [Test]
    public void Init_refuses_a_path_that_is_a_file()
    {
        var file = Path.Combine(_root, "web-down");
        File.WriteAllText(file, "x");

        var (exit, _, error) = CliRunner.Run("init", file, "--force");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"{file} is a file"));
    }

    [Test]
    public void Init_of_the_current_folder_names_the_incident_after_it()
    {
        var dir = Path.Combine(_root, "disk-full");
        Directory.CreateDirectory(dir);
        var before = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir;
        try
        {
            Assert.That(CliRunner.Run("init", ".", "--backend", "microvm").Exit, Is.EqualTo(0));
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }

        Assert.That(File.ReadAllText(Path.Combine(dir, "disk-full.scenario.csx")), Does.Contain("Proves(\"disk-full.csx\");"));
    }

    [TestCase("Web-Down")]
    [TestCase("web_down")]
    [TestCase("9lives")]
    [TestCase("web-")]
    [TestCase("web--down")]
    [TestCase("web.down")]
    [TestCase("a23456789012345678901234567890123456789012")]
    public void Init_refuses_a_name_that_is_not_lowercase_words_and_says_what_is_allowed(string name)
    {
        var dir = Path.Combine(_root, name);

        var (exit, _, error) = CliRunner.Run("init", dir);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"'{name}'").And.Contain("lowercase letters, digits and single dashes"));
        Assert.That(Directory.Exists(dir), Is.False, "a refused init created the folder");
    }

    [Test]
    public void Init_refuses_an_unknown_backend()
    {
        var (exit, _, error) = CliRunner.Run("init", Path.Combine(_root, "web-down"), "--backend", "docker");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("docker"));
        Assert.That(Directory.Exists(Path.Combine(_root, "web-down")), Is.False);
        Assert.That(() => IncidentScaffold.Write(Path.Combine(_root, "web-down"), "docker", false, "1.0.0"),
            Throws.TypeOf<InvalidRunbookException>().With.Message.Contains("netns, services, microvm"));
    }

    [TestCaseSource(nameof(EachBackend))]
    public async Task Each_scaffold_compiles_as_a_runbook_and_a_scenario(string backend)
    {
        var dir = Path.Combine(_root, $"demo-{backend}");
        IncidentScaffold.Write(dir, backend, force: false, "1.0.0");

        var (exit, output, error) = CliRunner.Run("check", Path.Combine(dir, $"demo-{backend}.csx"), "--no-cache");
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("ok, 1 target(s), 0 warning(s)"));

        var scenario = await ScenarioFile.LoadAsync(Path.Combine(dir, $"demo-{backend}.scenario.csx"), 0.1, cache: null);
        Assert.That(scenario.Name, Is.EqualTo($"demo-{backend}"));
        Assert.That(scenario.Backend.Name, Is.EqualTo(backend));
        Assert.That(scenario.Runbook, Is.EqualTo(Path.Combine(dir, $"demo-{backend}.csx")));
        Assert.That(scenario.Warnings, Is.Empty, string.Join("\n", scenario.Warnings));
        Assert.That(scenario.Specs, Has.Count.EqualTo(1));
        Assert.That(scenario.Specs[0].BrokenByIncident, Is.True, "the one spec must fail on the broken host, or it proves nothing");
        Assert.That(scenario.Break.Targets, Is.Not.Empty);
    }

    [Test]
    public void Harness_list_gives_the_matrix_rows_the_workflow_reads()
    {
        foreach (var backend in IncidentScaffold.Backends)
        {
            IncidentScaffold.Write(Path.Combine(_root, $"demo-{backend}"), backend, force: false, "1.0.0");
        }

        var (exit, output, error) = CliRunner.Run("harness", "list", "--format", "json", _root);

        Assert.That(exit, Is.EqualTo(0), error);
        using var rows = JsonDocument.Parse(output);
        Assert.That(rows.RootElement.EnumerateArray().Select(r => (r.GetProperty("name").GetString(), r.GetProperty("backend").GetString(), r.GetProperty("path").GetString())),
            Is.EquivalentTo(IncidentScaffold.Backends.Select(b => ((string?)$"demo-{b}", (string?)b, (string?)Path.Combine(_root, $"demo-{b}", $"demo-{b}.scenario.csx")))));
    }

    [Test]
    public void Harness_prerequisites_prints_the_installer_shipped_beside_the_tool()
    {
        var (exit, output, error) = CliRunner.Run("harness", "prerequisites");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Is.EqualTo(File.ReadAllText(Path.Combine(Repository, "harness", "prerequisites.sh"))));
        Assert.That(HarnessCatalog.PrerequisitesScript, Does.StartWith(AppContext.BaseDirectory));
    }
}
