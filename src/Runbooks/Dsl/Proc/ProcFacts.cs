using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A file descriptor of a process pointing at a deleted file, and the bytes it keeps allocated.
/// <paramref name="Links"/> is the file's link count (0 when no name reaches it any more), null when not read.
/// </summary>
public sealed record DeletedFileFacts(int Pid, int Fd, long Size, string Path, int? Links = null)
{
    /// <summary>The fd as a path through /proc, which opens the deleted file itself.</summary>
    public string FdPath => $"/proc/{Pid}/fd/{Fd}";
}

/// <summary>From <c>/proc/PID/stat</c>: the parent, and the start time that tells a restarted PID apart.</summary>
public sealed record ProcessStatFacts(int Pid, string Comm, char State, int ParentPid, long StartTime);

public static class ProcParser
{
    /// <summary>
    /// Joins <see cref="ProcReads.DeletedLinks"/> output (<c>/proc/PID/fd/N TAB target (deleted)</c>) with
    /// <see cref="ProcReads.Sizes"/> output (<c>/proc/PID/fd/N TAB bytes TAB links</c>; older recordings lack
    /// the links column). An fd that closed between the two reads has no size and is dropped: it holds nothing any more.
    /// </summary>
    public static IReadOnlyList<DeletedFileFacts> ParseDeletedFiles(string links, string sizes)
    {
        var stats = sizes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')).Where(f => f.Length is 2 or 3).ToDictionary(
            f => f[0],
            f => (Size: long.Parse(f[1], CultureInfo.InvariantCulture), Links: f.Length == 3 ? Int(f[2]) : (int?)null),
            StringComparer.Ordinal);
        return Lines(links)
            .Where(f => f.Length == 2 && f[1].EndsWith(" (deleted)", StringComparison.Ordinal) && stats.ContainsKey(f[0]))
            .Select(f => (Parts: f[0].Split('/'), Fd: f[0], Target: f[1][..^" (deleted)".Length]))
            .Where(f => HoldsDiskSpace(f.Target))
            .Select(f => new DeletedFileFacts(Int(f.Parts[2]), Int(f.Parts[4]), stats[f.Fd].Size, f.Target, stats[f.Fd].Links))
            .ToList();
    }

    /// <summary>Paths of the fds in <see cref="ProcReads.DeletedLinks"/> output that can hold space on a disk.</summary>
    public static IReadOnlyList<string> DeletedLinkPaths(string links) => [.. DiskLinks(links).Select(f => f[0])];

    /// <summary>
    /// <see cref="ProcReads.DeletedLinks"/> output as decisions see it: only the fds that can hold space on a disk. Every
    /// SSH session into a host whose sshd logs to a console that was since replaced holds "/dev/console (deleted)"; a
    /// saved plan must not be refused because another session is open now.
    /// </summary>
    public static string DiskLinksView(string links) => string.Concat(DiskLinks(links).Select(f => $"{f[0]}\t{f[1]}\n"));

    private static IEnumerable<string[]> DiskLinks(string links) =>
        Lines(links).Where(f => f.Length == 2 && f[1].EndsWith(" (deleted)", StringComparison.Ordinal) && HoldsDiskSpace(f[1][..^" (deleted)".Length]));

    // memfd and shared-memory objects are "deleted" by design, and a device node or anything else under /dev lives in
    // memory: none of them holds space on a disk.
    private static bool HoldsDiskSpace(string target) =>
        target.StartsWith('/') && !target.StartsWith("/memfd:", StringComparison.Ordinal) && !target.StartsWith("/dev/", StringComparison.Ordinal);

    private static IEnumerable<string[]> Lines(string tsv) => tsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t', 2));

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
    /// <summary>
    /// Every fd whose link ends in " (deleted)", in one pass of find over /proc. Under emulation a shell loop
    /// forking readlink per fd took 11–16 s; this takes well under one. find exits 1 when a process exits
    /// while it walks /proc, which is normal here.
    /// </summary>
    public static readonly Command DeletedLinks = new Command(
            "find", ["/proc", "-mindepth", "3", "-maxdepth", "3", "-path", "/proc/[0-9]*/fd/*", "-lname", "* (deleted)", "-printf", "%p\\t%l\\n"])
        .WithSuccessExitCodes(0, 1).AsReadOnly().WithFactView(ProcParser.DiskLinksView);

    /// <summary>The size and link count of what each fd points to (stat follows the fd to the deleted inode).</summary>
    public static Command Sizes(IEnumerable<string> fds) =>
        new Command("stat", ["-L", "--printf", "%n\\t%s\\t%h\\n", "--", .. fds.Select(f => (Arg)f)]).WithSuccessExitCodes(0, 1).AsReadOnly();

    /// <summary>
    /// The fds of deleted files: <c>/proc/PID/fd/N</c>, a tab and the link's target, a line each. Read together with
    /// their sizes and their processes' command lines when this round has read none of them (one round trip, not three).
    /// </summary>
    /// <example><c>var links = await host.FactAsync(ProcReads.DeletedLinkList, ct);</c></example>
    public static readonly Fact<string> DeletedLinkList = new(DeletedLinks, r => r.StandardOutput) { Via = DeletedFilesRead.Read };

    /// <summary>What <see cref="Sizes"/> prints for the fds: name, size and link count, a line each.</summary>
    /// <example><c>var sizes = await host.FactAsync(ProcReads.SizesOf(["/proc/6019/fd/3"]), ct);</c></example>
    public static Fact<string> SizesOf(IEnumerable<string> fds) => new(Sizes(fds), r => r.StandardOutput);

    /// <summary>The process's stat, or null when it has exited.</summary>
    /// <example><c>var stat = await host.FactAsync(ProcReads.Stat(6019), ct);</c></example>
    public static Fact<ProcessStatFacts?> Stat(int pid) => new(
        HostContext.FileRead($"/proc/{pid}/stat"),
        r => r.ExitCode == 0 && r.StandardOutput.Contains(')', StringComparison.Ordinal) ? ProcParser.ParseStat(r.StandardOutput) : null,
        mustSucceed: false);

    /// <summary>The process's argv, or empty when it has exited.</summary>
    /// <example><c>var argv = await host.FactAsync(ProcReads.Cmdline(6019), ct);</c></example>
    public static Fact<IReadOnlyList<string>> Cmdline(int pid) => new(
        HostContext.FileRead($"/proc/{pid}/cmdline"), r => r.ExitCode == 0 ? ProcParser.ParseCmdline(r.StandardOutput) : [], mustSucceed: false);

    public static async Task<IReadOnlyList<DeletedFileFacts>> DeletedFilesAsync(HostContext host, CancellationToken ct)
    {
        var links = await host.FactAsync(DeletedLinkList, ct).ConfigureAwait(false);
        var paths = ProcParser.DeletedLinkPaths(links);
        if (paths.Count == 0)
        {
            return [];
        }

        return ProcParser.ParseDeletedFiles(links, await host.FactAsync(SizesOf(paths), ct).ConfigureAwait(false));
    }

    /// <summary>The process's stat, or null when it has exited.</summary>
    public static Task<ProcessStatFacts?> StatAsync(HostContext host, int pid, CancellationToken ct) => host.FactAsync(Stat(pid), ct);

    /// <summary>Reads the command lines of all <paramref name="pids"/> in one round trip; <see cref="CmdlineAsync"/> then answers from it.</summary>
    public static Task PrefetchCmdlinesAsync(HostContext host, IEnumerable<int> pids, CancellationToken ct) =>
        host.PrefetchFilesAsync(pids.Select(p => $"/proc/{p}/cmdline"), ct);

    public static Task<IReadOnlyList<string>> CmdlineAsync(HostContext host, int pid, CancellationToken ct) => host.FactAsync(Cmdline(pid), ct);
}
