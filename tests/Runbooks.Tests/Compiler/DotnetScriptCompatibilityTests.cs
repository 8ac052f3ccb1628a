using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Compiler;

/// <summary>
/// One runbook file under <c>dotnet script</c> and under <c>runbook</c>. dotnet-script is not installable here, so it is
/// compiled the way dotnet-script compiles: Roslyn scripting with a globals object that has only <c>Args</c>, its
/// default imports (System.IO among them), the framework's references, and the DSL only through its
/// <c>#r "nuget: Runbooks, …"</c> line (resolved to the DSL assembly, as a NuGet restore would).
/// </summary>
[NonParallelizable]
public class DotnetScriptCompatibilityTests
{
    private static readonly string Banner = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "scripts", "dotnet-script", "banner.csx");

    // Dotnet.Script.Core's default usings.
    private static readonly string[] DotnetScriptImports =
        ["System", "System.IO", "System.Collections.Generic", "System.Diagnostics", "System.Dynamic", "System.Linq", "System.Linq.Expressions", "System.Text", "System.Threading.Tasks"];

    private string _folder = "";
    private string? _lock;

    [SetUp]
    public void Prepare()
    {
        _folder = Directory.CreateTempSubdirectory("rb-dotnet-script-").FullName;
        Environment.SetEnvironmentVariable("RB_BANNER_PATH", Path.Combine(_folder, "motd"));
        _lock = Environment.GetEnvironmentVariable("RUNBOOK_LOCK");
        Environment.SetEnvironmentVariable("RUNBOOK_LOCK", Path.Combine(_folder, "lock"));
    }

    [TearDown]
    public void CleanUp()
    {
        Environment.SetEnvironmentVariable("RB_BANNER_PATH", null);
        Environment.SetEnvironmentVariable("RUNBOOK_LOCK", _lock);
        Environment.ExitCode = 0;
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>dotnet-script's globals: the script's arguments and nothing else of ours.</summary>
    public sealed class DotnetScriptGlobals(IList<string> args)
    {
        public IList<string> Args { get; } = args;
    }

    [Test, CancelAfter(60_000)]
    public async Task Under_dotnet_script_RunAsync_reads_check_plan_and_run_from_the_scripts_own_arguments(CancellationToken cancellationToken)
    {
        var script = DotnetScript();
        Assert.That(script.Compile(cancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error), Is.Empty);

        var check = await RunAsync(script, ["check", "announced"], cancellationToken);
        var plan = await RunAsync(script, [], cancellationToken);
        var fileAfterPlan = File.Exists(Path.Combine(_folder, "motd"));
        var run = await RunAsync(script, ["run"], cancellationToken);
        var again = await RunAsync(script, ["plan"], cancellationToken);

        Assert.That(check.Exit, Is.Zero, check.Output);
        Assert.That(check.Output, Does.Contain("banner -> announced"));
        Assert.That(plan.Exit, Is.Zero, plan.Output);
        Assert.That(plan.Output, Does.Contain("banner on local (local): planned").And.Contain("[will change] "), "no verb plans");
        Assert.That(fileAfterPlan, Is.False, "a plan changed nothing");
        Assert.That(run.Exit, Is.Zero, run.Output);
        Assert.That(File.ReadAllLines(Path.Combine(_folder, "motd")), Is.EqualTo(new[] { "maintenance at 02:00", "ask #ops before rebooting" }));
        Assert.That(again.Output, Does.Not.Contain("[will change]"), again.Output);
    }

    [Test, CancelAfter(60_000)]
    public async Task Under_dotnet_script_a_missing_target_or_an_unknown_option_exits_2_before_anything_runs(CancellationToken cancellationToken)
    {
        var script = DotnetScript();

        var missing = await RunAsync(script, ["run", "nope"], cancellationToken);
        var option = await RunAsync(script, ["run", "--parallel"], cancellationToken);

        Assert.That(missing.Exit, Is.EqualTo(2));
        Assert.That(missing.Error, Does.Contain("nope"));
        Assert.That(option.Exit, Is.EqualTo(2));
        Assert.That(option.Error, Does.Contain("unknown option '--parallel'"));
        Assert.That(File.Exists(Path.Combine(_folder, "motd")), Is.False);
    }

    [Test]
    public void The_same_file_plans_and_runs_under_runbook_unchanged()
    {
        var check = CliRunner.Run("check", Banner);
        var plan = CliRunner.Run("plan", Banner);
        var run = CliRunner.Run("run", Banner);

        Assert.That(check.Exit, Is.Zero, check.Error);
        Assert.That(plan.Exit, Is.Zero, plan.Error);
        Assert.That(plan.Out, Does.Contain("banner"));
        Assert.That(run.Exit, Is.Zero, run.Out + run.Error);
        Assert.That(File.ReadAllLines(Path.Combine(_folder, "motd")), Is.EqualTo(new[] { "maintenance at 02:00", "ask #ops before rebooting" }));
    }

    [Test]
    public void Under_runbook_a_nuget_reference_to_another_package_is_an_error_on_its_line_that_says_what_to_do()
    {
        var path = Path.Combine(_folder, "other.csx");
        File.WriteAllText(path, "#r \"nuget: Newtonsoft.Json, 13.0.3\"\nawait RunAsync(Args);\n");

        var (exit, _, error) = CliRunner.Run("check", path);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"{path}(1,1)").And.Contain("CS0006").And.Contain("reference Newtonsoft.Json by the path of its DLL"));
    }

    private static Script<object> DotnetScript()
    {
        var framework = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("System.", StringComparison.Ordinal) || n is "netstandard.dll" or "mscorlib.dll" or "Microsoft.CSharp.dll" or "Microsoft.Win32.Primitives.dll"))
            .Select(f => MetadataReference.CreateFromFile(f));
        var options = ScriptOptions.Default
            .WithFilePath(Banner)
            .WithFileEncoding(System.Text.Encoding.UTF8)
            .WithReferences(framework)
            .WithImports(DotnetScriptImports)
            .WithMetadataResolver(new RestoredPackages(Path.GetDirectoryName(Banner)!))
            .WithEmitDebugInformation(true);
        return CSharpScript.Create(File.ReadAllText(Banner), options, typeof(DotnetScriptGlobals));
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(Script<object> script, string[] args, CancellationToken cancellationToken)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Environment.ExitCode = 0;
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            await script.RunAsync(new DotnetScriptGlobals(args), cancellationToken: cancellationToken);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }

        return (Environment.ExitCode, output.ToString(), error.ToString());
    }

    /// <summary>What dotnet-script's NuGet restore hands the compiler for <c>#r "nuget: Runbooks, …"</c>: the package's DLL; anything else is not there.</summary>
    private sealed class RestoredPackages(string directory) : MetadataReferenceResolver
    {
        private readonly ScriptMetadataResolver _files = ScriptMetadataResolver.Default.WithBaseDirectory(directory);

        public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties) =>
            reference.StartsWith("nuget: Runbooks,", StringComparison.Ordinal)
                ? [MetadataReference.CreateFromFile(Path.Combine(TestContext.CurrentContext.TestDirectory, "Runbooks.dll"), properties)]
                : _files.ResolveReference(reference, baseFilePath, properties);

        public override bool Equals(object? other) => ReferenceEquals(this, other);

        public override int GetHashCode() => directory.GetHashCode(StringComparison.Ordinal);
    }
}
