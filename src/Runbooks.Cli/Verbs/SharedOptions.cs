using System.CommandLine;
using Runbooks.Compiler;
using Runbooks.Scripting;

namespace Runbooks.Cli.Verbs;

/// <summary>Options several verbs share, named as Bullseye names them where they apply.</summary>
internal static class SharedOptions
{
    public static Argument<FileInfo> Runbook() => new("runbook") { Description = "the .csx runbook" };

    public static Argument<string[]> Targets() => new("targets") { Description = "targets to run (default: 'default', else all)", Arity = ArgumentArity.ZeroOrMore };

    public static Option<bool> NoCache() => new("--no-cache") { Description = "compile even when the compile cache has this runbook" };

    public static Option<string[]> Hosts() => new("--host") { Description = "host address: URI for the default host, or NAME=URI (local, ssh://user@host:port, netns:NAME, container:NAME); repeatable", AllowMultipleArgumentsPerToken = false };

    public static Option<FileInfo?> Inventory() => new("--inventory") { Description = "file of NAME = URI lines" };

    public static Option<bool> SkipDependencies() => new("--skip-dependencies", "-s") { Description = "run only the named targets, not their dependencies" };

    public static Option<bool> Parallel() => new("--parallel", "-p") { Description = "run independent targets concurrently" };

    public static Option<bool> Verbose() => new("--verbose", "-v") { Description = "show every command, including read-only probes" };

    public static Option<bool> NoColor() => new("--no-color", "-N") { Description = "plain output (also when NO_COLOR is set or output is not a terminal)" };

    public static LoadedRunbook Load(FileInfo file, bool noCache, TextWriter diagnostics)
    {
        var runbook = LoadedRunbook.Load(file.FullName, source => RunbookCompiler.Compile(source), noCache ? null : CompileCache.Default());
        foreach (var warning in runbook.Compiled.Warnings)
        {
            diagnostics.WriteLine(warning);
        }

        return runbook;
    }
}
