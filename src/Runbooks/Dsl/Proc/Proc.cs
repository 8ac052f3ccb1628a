using Runbooks.Dsl.Nouns.Proc;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Processes: deleted files they hold open, their supervisors, restarting them.</summary>
public static class Proc
{
    /// <summary>
    /// Ends every process of <paramref name="program"/> (argv[0]'s name, or the script an interpreter runs) that holds a
    /// deleted file, and waits until <paramref name="serviceUp"/> holds again from its restarted successor.
    /// Refuses a process whose parent is PID 1 unless <paramref name="allowWithoutSupervisor"/>.
    /// </summary>
    /// <example><c>Proc.ReleaseDeletedFiles("server", Http.Get("http://127.0.0.1:8000/").Returns(200))</c></example>
    public static Step ReleaseDeletedFiles(string program, Check serviceUp, bool allowWithoutSupervisor = false, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(program) || program.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"program '{program}' must be a file name like 'server' or 'python3'", nameof(program));
        }

        ArgumentNullException.ThrowIfNull(serviceUp);
        return new ReleaseDeletedFilesStep(program, serviceUp, allowWithoutSupervisor, DslArguments.PositiveTime(timeout ?? TimeSpan.FromSeconds(30), nameof(timeout)));
    }

    /// <summary>Holds when no process keeps more than <paramref name="bytes"/> of deleted files open.</summary>
    /// <example><c>.Ensures(Proc.DeletedFilesHeldBelow(1 &lt;&lt; 20))</c></example>
    public static Check DeletedFilesHeldBelow(long bytes) => new($"deleted files held open total less than {Bytes.Show(bytes)}", async (host, ct) =>
    {
        var held = (await ProcReads.DeletedFilesAsync(host, ct).ConfigureAwait(false)).DistinctBy(d => (d.Pid, d.Path)).Sum(d => d.Size);
        return new CheckResult(held < bytes, $"{Bytes.Show(held)} held");
    });
}
