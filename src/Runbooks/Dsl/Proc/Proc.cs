using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Processes: deleted files they hold open, their supervisors, restarting them.</summary>
public static class Proc
{
    /// <summary>
    /// Frees the space that deleted files held open by <paramref name="program"/> (argv[0]'s name, or the script an
    /// interpreter runs) keep allocated. By default (<see cref="DeletedFileRelease.Truncate"/>) each such file is
    /// truncated through <c>/proc/PID/fd/N</c> while the process keeps running — only when its link count is 0 — and
    /// <paramref name="serviceUp"/> must still hold. With <see cref="DeletedFileRelease.Restart"/> (for a file the
    /// process still reads) each holder is ended and <paramref name="serviceUp"/> must hold again from its restarted
    /// successor; a holder whose parent is PID 1 is refused unless <paramref name="allowWithoutSupervisor"/>.
    /// </summary>
    /// <example><c>Proc.ReleaseDeletedFiles("server", Http.Get("http://127.0.0.1:8000/").Returns(200))</c></example>
    public static Step ReleaseDeletedFiles(string program, Check serviceUp, bool allowWithoutSupervisor = false, TimeSpan? timeout = null,
        DeletedFileRelease how = DeletedFileRelease.Truncate)
    {
        if (string.IsNullOrWhiteSpace(program) || program.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"program '{program}' must be a file name like 'server' or 'python3'", nameof(program));
        }

        ArgumentNullException.ThrowIfNull(serviceUp);
        var wait = DslArguments.PositiveTime(timeout ?? TimeSpan.FromSeconds(30), nameof(timeout));
        return how switch
        {
            DeletedFileRelease.Truncate => new TruncateDeletedFilesStep(program, serviceUp, wait),
            DeletedFileRelease.Restart => new ReleaseDeletedFilesStep(program, serviceUp, allowWithoutSupervisor, wait),
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, "use DeletedFileRelease.Truncate or DeletedFileRelease.Restart"),
        };
    }

    /// <summary>Holds when no process keeps more than <paramref name="bytes"/> of deleted files open.</summary>
    /// <example><c>.Ensures(Proc.DeletedFilesHeldBelow(1 &lt;&lt; 20))</c></example>
    public static Check DeletedFilesHeldBelow(long bytes) => new($"deleted files held open total less than {Bytes.Show(bytes)}", async (host, ct) =>
    {
        var held = (await ProcReads.DeletedFilesAsync(host, ct).ConfigureAwait(false)).DistinctBy(d => (d.Pid, d.Path)).Sum(d => d.Size);
        return new CheckResult(held < bytes, $"{Bytes.Show(held)} held");
    });
}

/// <summary>How <see cref="Proc.ReleaseDeletedFiles"/> gives the space of a deleted, still-open file back.</summary>
public enum DeletedFileRelease
{
    /// <summary>Truncate the file through the holder's fd; the process keeps running. For scratch and log files nobody needs.</summary>
    Truncate,

    /// <summary>End the holder and let its supervisor restart it. For a file the process still reads.</summary>
    Restart,
}
