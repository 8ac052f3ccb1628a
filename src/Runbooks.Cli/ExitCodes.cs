using Runbooks.Scripting;

namespace Runbooks.Cli;

/// <summary>
/// The one place errors become exit codes: 0 done, 1 a target failed, 2 usage, compile or graph error, for
/// <c>plan --detailed-exitcode</c> 3 when changes are pending, and for <c>run --plan</c> 4 when the plan's stage is
/// done but steps it left blocked remain: plan the next stage.
/// </summary>
internal static class ExitCodes
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int Invalid = 2;
    public const int ChangesPending = 3;
    public const int StageDone = 4;

    public static async Task<int> GuardAsync(Func<Task<int>> action, TextWriter error)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CompilationFailedException ex)
        {
            foreach (var diagnostic in ex.Diagnostics)
            {
                error.WriteLine(diagnostic);
            }

            error.WriteLine($"{ex.Diagnostics.Count(d => d.IsError)} error(s): nothing was run.");
            return Invalid;
        }
        catch (InvalidRunbookException ex)
        {
            error.WriteLine(ex.Message);
            error.WriteLine("Nothing was run.");
            return Invalid;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Cancelled.");
            return Failed;
        }
        catch (RunbookException ex)
        {
            error.WriteLine(ex.Message);
            return Failed;
        }
    }
}
