using Runbooks.Compiler;
using Runbooks.Scripting;

namespace Runbooks.Tests.Compiler;

public class CompilerTests
{
    private static string Script(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "scripts", name);

    private static IReadOnlyList<ScriptDiagnostic> Diagnostics(string name)
    {
        try
        {
            return RunbookCompiler.Compile(ScriptSource.Read(Script(name))).Warnings;
        }
        catch (CompilationFailedException ex)
        {
            return ex.Diagnostics;
        }
    }

    [Test]
    public void A_syntax_error_is_reported_with_file_line_and_column()
    {
        var error = Diagnostics("syntax-error.csx").Single(d => d.IsError);

        Assert.That(error.ToString(), Is.EqualTo($"{Script("syntax-error.csx")}(2,38): error CS1002: ; expected"));
    }

    public static IEnumerable<TestCaseData> AnalyzerCases()
    {
        yield return new TestCaseData("interpolated-shell.csx", "RB002", DiagnosticSeverity.Error, 3, 42).SetName("RB002 flags an interpolated Shell.Script");
        yield return new TestCaseData("private-key.csx", "RB003", DiagnosticSeverity.Error, 1, 18).SetName("RB003 flags a key given to a private variable");
        yield return new TestCaseData("private-key.csx", "RB003", DiagnosticSeverity.Error, 2, 14).SetName("RB003 flags a PrivateKey config line");
        yield return new TestCaseData("unknown-dependency.csx", "RB004", DiagnosticSeverity.Error, 2, 44).SetName("RB004 flags a dependency typo at its position");
        yield return new TestCaseData("no-postcondition.csx", "RB001", DiagnosticSeverity.Warning, 1, 1).SetName("RB001 warns on raw commands without a postcondition");
        yield return new TestCaseData("no-postcondition.csx", "RB001", DiagnosticSeverity.Warning, 3, 1).SetName("RB001 warns on an empty target");
        yield return new TestCaseData("no-postcondition.csx", "RB001", DiagnosticSeverity.Warning, 4, 1).SetName("RB001 warns on an Exec without Until even when the target Ensures its result");
    }

    [Test]
    public void Using_system_io_gets_a_hint_that_its_File_hides_the_dsls()
    {
        var error = Diagnostics("system-io.csx").First(d => d.IsError);

        Assert.That(error.Line, Is.EqualTo(2));
        Assert.That(error.Message, Does.Contain("'File' does not contain a definition for 'Content'").And.Contain("hint: `using System.IO;` brings System.IO.File"));
    }

    [Test]
    public void RB001_is_quiet_for_an_Exec_with_Until_and_for_a_target_that_only_checks()
    {
        var rb001 = Diagnostics("no-postcondition.csx").Where(d => d.Id == "RB001").ToList();

        Assert.That(rb001.Select(d => d.Line), Is.EqualTo(new[] { 1, 3, 4 }));
        Assert.That(rb001.Single(d => d.Line == 4).Message, Does.Contain("still run on every run").And.Contain("add .Until(check)"));
    }

    [TestCaseSource(nameof(AnalyzerCases))]
    public void Analyzers_report_at_the_offending_position(string script, string id, DiagnosticSeverity severity, int line, int column)
    {
        Assert.That(Diagnostics(script), Has.Some.Matches<ScriptDiagnostic>(d => d!.Id == id && d.Severity == severity && d.Line == line && d.Column == column));
    }

    [TestCase("ScriptBeside(\"files/break.sh\", \"/dev/loop0\")", false)]
    [TestCase("ScriptBeside(name, \"/dev/loop0\")", true)]
    [TestCase("Shell.Script(FileBeside(\"files/break.sh\"), \"/dev/loop0\")", true)]
    [TestCase("Shell.Script(FileBeside(\"files/break.sh\") + name)", true)]
    public void A_scenario_script_kept_in_a_file_beside_it_is_constant_but_a_chosen_file_is_not(string script, bool flagged)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rb002-{Guid.NewGuid():N}.scenario.csx");
        System.IO.File.WriteAllText(path, $"var name = Environment.GetEnvironmentVariable(\"X\") ?? \"x\";\nTarget(\"t\", Exec(\"break\", {script}).Until(File.Exists(\"/x\")));\n");
        IReadOnlyList<ScriptDiagnostic> diagnostics;
        try
        {
            diagnostics = RunbookCompiler.Compile(ScriptSource.Read(path), Runbooks.Harness.Lifecycle.ScenarioFile.Kind).Warnings;
        }
        catch (CompilationFailedException ex)
        {
            diagnostics = ex.Diagnostics;
        }
        finally
        {
            System.IO.File.Delete(path);
        }

        Assert.That(diagnostics.Any(d => d.Id == "RB002"), Is.EqualTo(flagged), string.Join("\n", diagnostics));
    }

    [Test]
    public void A_public_key_literal_is_not_mistaken_for_a_private_key()
    {
        Assert.That(Diagnostics("private-key.csx").Where(d => d.Line == 3), Is.Empty);
    }

    [Test]
    public void A_clean_runbook_has_no_diagnostics()
    {
        var runbook = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "runbooks", "maintenance-banner.csx");

        Assert.That(RunbookCompiler.Compile(ScriptSource.Read(runbook)).Warnings, Is.Empty);
    }

    [Test]
    public async Task A_loaded_file_contributes_to_the_script_and_to_the_cache_key()
    {
        var directory = Directory.CreateTempSubdirectory("rb-load-");
        File.WriteAllText(Path.Combine(directory.FullName, "main.csx"), "#load \"lib.csx\"\nTarget(\"dir\", File.Directory(Root));\nawait RunAsync(Args);\n");
        File.WriteAllText(Path.Combine(directory.FullName, "lib.csx"), "var Root = \"/tmp/rb-a\";\n");
        var before = ScriptSource.Read(Path.Combine(directory.FullName, "main.csx"));
        File.WriteAllText(Path.Combine(directory.FullName, "lib.csx"), "var Root = \"/tmp/rb-b\";\n");
        var after = ScriptSource.Read(Path.Combine(directory.FullName, "main.csx"));

        var names = new List<string>();
        var loaded = LoadedRunbook.Load(after.Path, s => RunbookCompiler.Compile(s), cache: null);
        await loaded.ExecuteAsync([], (graph, _) =>
        {
            names.AddRange(graph.Targets.SelectMany(t => t.Steps).Select(s => s.Description));
            return Task.CompletedTask;
        });

        Assert.That(before.Key, Is.Not.EqualTo(after.Key));
        Assert.That(after.LoadedFiles, Has.Count.EqualTo(1));
        Assert.That(names, Is.EqualTo(new[] { "directory /tmp/rb-b exists, mode 0755" }));
        directory.Delete(recursive: true);
    }

    [Test]
    public void The_cache_skips_compilation_for_an_unchanged_runbook_and_recompiles_after_an_edit()
    {
        var directory = Directory.CreateTempSubdirectory("rb-cache-");
        var script = Path.Combine(directory.FullName, "r.csx");
        File.WriteAllText(script, "Target(\"a\", File.Directory(\"/tmp/rb-cache-a\"));\n");
        var cache = new CompileCache(Path.Combine(directory.FullName, "cache"));
        var compiles = 0;
        CompiledRunbook Compile(ScriptSource s)
        {
            compiles++;
            return RunbookCompiler.Compile(s);
        }

        var first = LoadedRunbook.Load(script, Compile, cache);
        var second = LoadedRunbook.Load(script, Compile, cache);
        File.AppendAllText(script, "// edited\n");
        var third = LoadedRunbook.Load(script, Compile, cache);

        Assert.That((first.Compiled.FromCache, second.Compiled.FromCache, third.Compiled.FromCache), Is.EqualTo((false, true, false)));
        Assert.That(compiles, Is.EqualTo(2));
        directory.Delete(recursive: true);
    }

    [Test]
    public void A_damaged_cache_entry_is_a_miss_not_a_crash()
    {
        var directory = Directory.CreateTempSubdirectory("rb-cache-bad-");
        var script = Path.Combine(directory.FullName, "r.csx");
        File.WriteAllText(script, "Target(\"a\", File.Directory(\"/tmp/rb-cache-b\"));\n");
        var cache = new CompileCache(Path.Combine(directory.FullName, "cache"));
        var source = ScriptSource.Read(script);
        Directory.CreateDirectory(Path.Combine(cache.Directory, source.Key));
        File.WriteAllText(Path.Combine(cache.Directory, source.Key, "runbook.json"), "{not json");

        Assert.That(cache.TryLoad(source), Is.Null);
        directory.Delete(recursive: true);
    }

    // The suffix of a scenario's cache key once held string.GetHashCode of the tool's version, which differs in every
    // process: a scenario was never found in the cache by the next run (minutes of Roslyn in a TCG guest).
    [Test, Category("process"), CancelAfter(120_000)]
    public async Task A_scenario_compiled_by_one_process_is_found_in_the_cache_by_the_next(CancellationToken ct)
    {
        var cli = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "src", "Runbooks.Cli", "bin", "Release", "net10.0", "runbook.dll"));
        Assert.That(cli, Does.Exist, "the CLI is built with the solution (dotnet build Runbooks.sln -c Release)");
        var directory = Directory.CreateTempSubdirectory("rb-cache-scenario-");
        var local = new Runbooks.Transport.LocalTransport();
        foreach (var run in new[] { 1, 2 })
        {
            await Runbooks.Transport.TransportExtensions.RunCheckedAsync(local,
                new Runbooks.Commands.Command("dotnet", [cli, "harness", "list", "connection"]).WithEnvironment("RUNBOOK_CACHE_DIR", directory.FullName).WithTimeout(TimeSpan.FromSeconds(90)), ct);
        }

        var entries = Directory.GetDirectories(directory.FullName).Select(Path.GetFileName).ToList();
        directory.Delete(recursive: true);

        Assert.That(entries.Count(e => e!.Contains("-scenario-", StringComparison.Ordinal)), Is.EqualTo(1), string.Join(", ", entries));
    }
}
