using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl.Nouns.Proc;

/// <summary>A file descriptor of a process pointing at a deleted file, and the bytes it keeps allocated.</summary>
public sealed record DeletedFileFacts(int Pid, int Fd, long Size, string Path);

/// <summary>From <c>/proc/PID/stat</c>: the parent, and the start time that tells a restarted PID apart.</summary>
public sealed record ProcessStatFacts(int Pid, string Comm, char State, int ParentPid, long StartTime);

public static class ProcParser
{
    /// <summary>Parses the tab-separated <c>pid fd size path (deleted)</c> lines of <see cref="ProcReads.DeletedFilesScript"/>.</summary>
    public static IReadOnlyList<DeletedFileFacts> ParseDeletedFiles(string tsv) =>
        tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t', 4)).Where(f => f.Length == 4)
            .Select(f => new DeletedFileFacts(Int(f[0]), Int(f[1]), long.Parse(f[2], CultureInfo.InvariantCulture), f[3][..^" (deleted)".Length]))
            // memfd and shared-memory objects are "deleted" by design; they hold no space on a disk.
            .Where(d => d.Path.StartsWith('/') && !d.Path.StartsWith("/memfd:", StringComparison.Ordinal) && !d.Path.StartsWith("/dev/shm/", StringComparison.Ordinal))
            .ToList();

    /// <summary>Parses <c>/proc/PID/stat</c>; comm may hold spaces and parentheses, so fields count from the last ')'.</summary>
    public static ProcessStatFacts ParseStat(string stat)
    {
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        var rest = stat[(close + 2)..].Split(' ');
        return new ProcessStatFacts(Int(stat[..open].Trim()), stat[(open + 1)..close], rest[0][0], Int(rest[1]), long.Parse(rest[19], CultureInfo.InvariantCulture));
    }

    /// <summary>Splits <c>/proc/PID/cmdline</c> (NUL-separated argv).</summary>
    public static IReadOnlyList<string> ParseCmdline(string cmdline) => cmdline.Split('\0', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The program a person would name: argv[0]'s file name, or for an interpreter running a script
    /// (<c>python3 /usr/local/bin/server</c>) the script's file name too.
    /// </summary>
    public static bool IsProgram(IReadOnlyList<string> argv, string name) =>
        argv.Count > 0 && (FileName(argv[0]) == name || (argv.Count > 1 && !argv[1].StartsWith('-') && FileName(argv[1]) == name));

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}

public static class ProcReads
{
    /// <summary>Lists every fd whose link ends in " (deleted)" with the size of what it points to.</summary>
    public const string DeletedFilesScript = """
        for fd in /proc/[0-9]*/fd/*; do
          target=$(readlink -- "$fd" 2>/dev/null) || continue
          case $target in
            *' (deleted)') ;;
            *) continue ;;
          esac
          size=$(stat -L -c %s -- "$fd" 2>/dev/null) || continue
          pid=${fd#/proc/}
          printf '%s\t%s\t%s\t%s\n' "${pid%%/*}" "${fd##*/}" "$size" "$target"
        done
        """;

    public static readonly Command DeletedFiles = Shell.Script(DeletedFilesScript).AsReadOnly();

    public static async Task<IReadOnlyList<DeletedFileFacts>> DeletedFilesAsync(HostContext host, CancellationToken ct) =>
        ProcParser.ParseDeletedFiles((await host.ReadAsync(DeletedFiles, ct).ConfigureAwait(false)).StandardOutput);

    /// <summary>The process's stat, or null when it has exited.</summary>
    public static async Task<ProcessStatFacts?> StatAsync(HostContext host, int pid, CancellationToken ct)
    {
        var result = await host.TryReadAsync(new Command("cat", ["--", $"/proc/{pid}/stat"]), ct).ConfigureAwait(false);
        return result.ExitCode == 0 && result.StandardOutput.Contains(')', StringComparison.Ordinal) ? ProcParser.ParseStat(result.StandardOutput) : null;
    }

    public static async Task<IReadOnlyList<string>> CmdlineAsync(HostContext host, int pid, CancellationToken ct)
    {
        var result = await host.TryReadAsync(new Command("cat", ["--", $"/proc/{pid}/cmdline"]), ct).ConfigureAwait(false);
        return result.ExitCode == 0 ? ProcParser.ParseCmdline(result.StandardOutput) : [];
    }
}
