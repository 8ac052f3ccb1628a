using Runbooks.Commands;
using System.Diagnostics;
using Runbooks.Engine;

namespace Runbooks.Scripting;

/// <summary>
/// A runbook ready to run: its source and its compiled assembly, from the cache or freshly compiled.
/// The compile function is passed in so that a cached start never loads Roslyn.
/// </summary>
public sealed class LoadedRunbook
{
    private LoadedRunbook(ScriptSource source, CompiledRunbook compiled)
    {
        Source = source;
        Compiled = compiled;
    }

    public ScriptSource Source { get; }

    public CompiledRunbook Compiled { get; }

    public static LoadedRunbook Load(string path, Func<ScriptSource, CompiledRunbook> compile, CompileCache? cache, ScriptKind? kind = null)
    {
        var source = ScriptSource.Read(path);
        var compiled = cache?.TryLoad(source, kind);
        if (compiled is null)
        {
            compiled = compile(source);
            cache?.Store(source, compiled, kind);
        }

        return new LoadedRunbook(source, compiled);
    }

    /// <summary>
    /// Runs the script body. When it calls <c>RunAsync</c> (or, if it never does, when it returns), the
    /// checked target graph and the target names are handed to <paramref name="onRun"/>.
    /// A mistake found while the script defines its targets (a bad path, a malformed key) becomes an
    /// <see cref="InvalidRunbookException"/> naming the script line.
    /// </summary>
    public async Task ExecuteAsync(IReadOnlyList<string> targetNames, Func<TargetGraph, IReadOnlyList<string>, Task> onRun)
    {
        // Before the globals exist: reading Scale is already a read of RUNBOOK_SCALE.
        EnvironmentReads.Begin();
        var globals = new RunbookGlobals(targetNames, (g, names) => onRun(new TargetGraph(g.Targets), names));
        await DefineAsync(globals).ConfigureAwait(false);
        if (!globals.RanTargets)
        {
            await onRun(new TargetGraph(globals.Targets), targetNames).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the script body against <paramref name="globals"/> (a runbook's or a scenario's), mapping a mistake
    /// made while it defines its targets to an RB100 <see cref="InvalidRunbookException"/> at the script line.
    /// </summary>
    public async Task DefineAsync(RunbookGlobals globals)
    {
        // The static facade (using static Runbooks.Runbook) defines into these globals too, not a runbook of its own.
        Runbook.Use(globals);
        try
        {
            await Compiled.ExecuteAsync(globals).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RunbookException and not OperationCanceledException)
        {
            throw new InvalidRunbookException($"{Where(ex)}: error RB100: the {Kind} failed while defining its targets: {ex.Message}", ex);
        }
        catch (InvalidRunbookException ex) when (ScriptFrame(ex) is { } where && !ex.Message.Contains(": error RB", StringComparison.Ordinal))
        {
            // A DSL argument the script got wrong (a bad path, a second backend): the author needs the line.
            throw new InvalidRunbookException($"{where}: error RB100: {ex.Message}", ex);
        }
    }

    private string Kind => Source.Path.EndsWith(".scenario.csx", StringComparison.Ordinal) ? "scenario" : "runbook";

    private string Where(Exception ex) => ScriptFrame(ex) ?? Source.Path;

    /// <summary>The script line (<c>file(line,col)</c>) the exception came through, or null when it did not come from the script.</summary>
    private string? ScriptFrame(Exception ex)
    {
        var files = Source.LoadedFiles.Append(Source.Path).ToHashSet(StringComparer.Ordinal);
        var frame = new StackTrace(ex, fNeedFileInfo: true).GetFrames()
            .FirstOrDefault(f => f.GetFileName() is { } file && files.Contains(file));
        return frame is null ? null : $"{frame.GetFileName()}({frame.GetFileLineNumber()},{frame.GetFileColumnNumber()})";
    }
}
