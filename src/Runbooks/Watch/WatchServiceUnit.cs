using System.Text;
using Runbooks.Commands;

namespace Runbooks.Watch;

/// <summary>
/// The service definition that keeps <c>runbook watch</c> running under an init system.
/// One long-running service, not a service plus a timer: the loop holds what a timer would lose between
/// activations — the backoff after failing passes and one journal for the whole watch — and a stop is
/// a SIGTERM the loop already handles (it ends the current pass and writes the journal's end).
/// </summary>
public static class WatchServiceUnit
{
    /// <summary>The init systems <c>--install</c> knows.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["systemd", "runit"];

    /// <summary>The unit's name for a runbook: <c>runbook-watch-NAME</c>.</summary>
    public static string Name(string runbookPath) => $"runbook-watch-{System.IO.Path.GetFileNameWithoutExtension(runbookPath)}";

    /// <summary>
    /// The file name (relative to the install directory) and content for <paramref name="kind"/>;
    /// <paramref name="command"/> is the full argv of the watch, tool first.
    /// </summary>
    public static (string RelativePath, string Content, bool Executable) Render(string kind, string runbookPath, IReadOnlyList<string> command, string interval) => kind switch
    {
        "systemd" => ($"{Name(runbookPath)}.service", Systemd(runbookPath, command, interval), false),
        "runit" => (System.IO.Path.Combine(Name(runbookPath), "run"), Runit(runbookPath, command), true),
        _ => throw new InvalidRunbookException($"--install {kind}: unknown init system; use one of {string.Join(", ", Kinds)}"),
    };

    private static string Systemd(string runbookPath, IReadOnlyList<string> command, string interval)
    {
        var text = new StringBuilder();
        text.Append("[Unit]\n");
        text.Append($"Description=runbook watch {System.IO.Path.GetFileName(runbookPath)}: keep the hosts as the runbook describes them, every {interval}\n");
        text.Append("After=network-online.target\nWants=network-online.target\n\n");
        text.Append("[Service]\n");
        // simple, not oneshot + timer: see the type's summary.
        text.Append("Type=simple\n");
        text.Append($"WorkingDirectory={SystemdQuote(System.IO.Path.GetDirectoryName(runbookPath)!)}\n");
        text.Append($"ExecStart={string.Join(' ', command.Select(SystemdQuote))}\n");
        text.Append("Environment=NO_COLOR=1\n");
        // A watch that exits 1 (a usage error would be 2 and is not retried) is restarted; a clean stop is not.
        text.Append("Restart=on-failure\nRestartSec=30\nRestartPreventExitStatus=2\n");
        // SIGTERM ends the pass between commands; give a long apply time to finish before SIGKILL.
        text.Append("KillSignal=SIGTERM\nTimeoutStopSec=120\n\n");
        text.Append("[Install]\nWantedBy=multi-user.target\n");
        return text.ToString();
    }

    private static string Runit(string runbookPath, IReadOnlyList<string> command)
    {
        var text = new StringBuilder();
        text.Append("#!/bin/sh\n");
        text.Append($"# runit service: runbook watch {ShellQuote.Quote(System.IO.Path.GetFileName(runbookPath))}. `sv down` sends SIGTERM, which ends the current pass cleanly.\n");
        text.Append("exec 2>&1\n");
        text.Append("export NO_COLOR=1\n");
        text.Append($"cd {ShellQuote.Quote(System.IO.Path.GetDirectoryName(runbookPath)!)} || exit 1\n");
        text.Append($"exec {string.Join(' ', command.Select(ShellQuote.Quote))}\n");
        return text.ToString();
    }

    // systemd splits ExecStart on spaces and expands % and $; quote and escape so every word stays one word.
    private static string SystemdQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-=:,@+".Contains(c, StringComparison.Ordinal))
            ? word
            : $"\"{word.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal)}\"";
}
