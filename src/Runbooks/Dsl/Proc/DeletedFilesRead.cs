using System.Globalization;
using System.Text;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// The deleted-file reads in one shell: <see cref="ProcReads.DeletedLinks"/>, then <see cref="ProcReads.Sizes"/> of the
/// fds it found that can hold disk space, then <c>cat -- /proc/PID/cmdline</c> of each of their processes. Each needs
/// the answer before it, so alone they are three round trips on every look at the step; here the shell picks the fds
/// and pids by the rule <see cref="ProcParser.DeletedLinkPaths"/> applies, and each answer is filed as its own command
/// would have given it. The stat is filed only when the fds the shell chose are exactly those the parser picks from the
/// same find output; otherwise the step reads it alone.
/// </summary>
internal static class DeletedFilesRead
{
    private static readonly Command[] Programs = [ProcReads.DeletedLinks, ProcReads.Sizes([]), HostContext.FileRead("/proc/1/cmdline")];

    private static readonly string Boundary = ReadFrames.Boundary(Programs);

    // $1 the boundary; then find's words, stat's words before the fds, and cat's before the path, by count: the
    // script holds their shapes only. The fd test is HoldsDiskSpace's: a target under / that is not memfd or /dev.
    private static readonly string Script = BuildScript();

    public static readonly CombinedRead Read = new(
        Shell.Script(Script, [Boundary, .. Words(ProcReads.DeletedLinks), .. Words(ProcReads.Sizes([])), .. CatWords]).WithTimeout(ProcReads.DeletedLinks.Timeout),
        [ProcReads.DeletedLinks],
        Split);

    private static IEnumerable<Arg> CatWords => Words(HostContext.FileRead("/proc/1/cmdline")).SkipLast(1);

    private static IEnumerable<Arg> Words(Command command) => [command.Program, .. command.Arguments];

    private static string BuildScript()
    {
        var find = Words(ProcReads.DeletedLinks).Count();
        var stat = Words(ProcReads.Sizes([])).Count();
        var cat = CatWords.Count();
        string Params(int from, int count) => string.Join(' ', Enumerable.Range(from, count).Select(ReadFrames.Positional));
        var script = new StringBuilder();
        // No pathname expansion: the pids and fds come from link text a process could have chosen.
        script.Append("set -f; b=$1; shift\n");
        script.Append(ReadFrames.Captured("find", "links", Params(1, find)));
        script.Append(CultureInfo.InvariantCulture, $"shift {find}\n");
        script.Append(CultureInfo.InvariantCulture, $"{string.Join(' ', Enumerable.Range(1, stat).Select(i => $"s{i}=\"${i}\""))}\n");
        script.Append(CultureInfo.InvariantCulture, $"{string.Join(' ', Enumerable.Range(1, cat).Select(i => $"c{i}=\"${i + stat}\""))}\n");
        script.Append("""
            set --
            pids=
            tab=$(printf '\t')
            while IFS= read -r line; do
              case $line in *"$tab"*) ;; *) continue ;; esac
              target=${line#*"$tab"}
              case $target in *" (deleted)") ;; *) continue ;; esac
              target=${target% (deleted)}
              case $target in /memfd:*|/dev/*) continue ;; /*) ;; *) continue ;; esac
              fd=${line%%"$tab"*}
              set -- "$@" "$fd"
              pid=${fd#/proc/}; pid=${pid%%/*}
              case " $pids " in *" $pid "*) ;; *) pids="$pids $pid" ;; esac
            done <<EOF
            $links
            EOF

            """);
        script.Append("if [ $# -gt 0 ]; then\n");
        script.Append(ReadFrames.Around("\"stat $*\"", $"{string.Join(' ', Enumerable.Range(1, stat).Select(i => $"\"$s{i}\""))} \"$@\""));
        script.Append("fi\nfor pid in $pids; do\n");
        script.Append(ReadFrames.Around("\"cmdline $pid\"", $"{string.Join(' ', Enumerable.Range(1, cat).Select(i => $"\"$c{i}\""))} \"/proc/$pid/cmdline\""));
        script.Append("done\n");
        script.Append(ReadFrames.End);
        return script.ToString();
    }

    /// <summary>find's answer, stat's when the shell chose the parser's fds, and each process's command line.</summary>
    public static IEnumerable<(Command Part, CommandResult Answer)>? Split(CommandResult combined)
    {
        if (ReadFrames.Split(Boundary, combined) is not { Count: > 0 } frames || frames[0].Key != "find")
        {
            return null;
        }

        var links = frames[0].Answer;
        var parts = new List<(Command, CommandResult)> { (ProcReads.DeletedLinks, links) };
        var fds = ProcParser.DeletedLinkPaths(links.StandardOutput);
        foreach (var (key, answer) in frames.Skip(1))
        {
            if (key.StartsWith("stat ", StringComparison.Ordinal))
            {
                if (key == "stat " + string.Join(' ', fds))
                {
                    parts.Add((ProcReads.Sizes(fds), answer));
                }
            }
            else if (key.StartsWith("cmdline ", StringComparison.Ordinal) && int.TryParse(key["cmdline ".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                parts.Add((HostContext.FileRead($"/proc/{pid}/cmdline"), answer));
            }
        }

        return parts;
    }
}
