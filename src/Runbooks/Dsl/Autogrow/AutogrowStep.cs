using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// Installs and starts the autogrow daemon: under systemd where it runs, otherwise under a respawn wrapper
/// started in its own session so it outlives the runbook (and the SSH connection) that started it.
/// Satisfied when the installed files match and the daemon runs — or stopped on purpose because the VG is
/// still full, which a rerun cannot change.
/// </summary>
public sealed class AutogrowStep(AutogrowSettings settings) : Step
{
    private const string StopGroup =
        "pid=$(cat -- \"$1\" 2>/dev/null) && [ -n \"$pid\" ] && kill -TERM -- \"-$pid\" 2>/dev/null\nrm -f -- \"$1\"\nexit 0\n";

    private const string StartDetached = "setsid -f \"$1\" </dev/null >/dev/null 2>&1\n";

    private const string SystemdState = "command -v systemctl >/dev/null 2>&1 && systemctl is-system-running 2>/dev/null; exit 0\n";

    public override string Description => $"autogrow '{settings.Name}' keeps {settings.Mount} below {settings.ThresholdPercent}% and {settings.Lead.TotalSeconds:0.#} s of writing free (step {Bytes.Show(settings.StepBytes)})";

    private static readonly Fact<bool> Systemd = new(Shell.Script(SystemdState), r => r.StandardOutput.Trim() is "running" or "degraded" or "starting");

    // The wrapper's files too: without systemd (the harness's guests, containers) they are what the probe reads next.
    public override IEnumerable<IFact> Reads =>
        [Systemd, .. new[] { settings.ScriptPath, settings.SupervisorPath, settings.PidFile, settings.StoppedFile }.Select(HostContext.FileContentIfReadable)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var systemd = await host.FactAsync(Systemd, cancellationToken).ConfigureAwait(false);
        var files = new List<(string Path, string Content, string Mode)> { (settings.ScriptPath, AutogrowScript.Daemon(settings), "0755") };
        files.Add(systemd ? (settings.UnitPath, AutogrowScript.Unit(settings), "0644") : (settings.SupervisorPath, AutogrowScript.Supervisor(settings), "0755"));
        await host.PrefetchFilesAsync([.. files.Select(f => f.Path), .. systemd ? Array.Empty<string>() : [settings.PidFile], settings.StoppedFile], cancellationToken).ConfigureAwait(false);
        // WriteFile renames over the old file, which keeps the old inode for a shell still reading the old
        // script line by line.
        var stale = new List<WriteFile>();
        foreach (var file in files)
        {
            var current = await host.FactAsync(HostContext.FileContentIfReadable(file.Path), cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                stale.Add(WriteFile.New(file.Path, file.Content, file.Mode));
            }
            else if (current != file.Content)
            {
                stale.Add(WriteFile.Replacing(file.Path, current, file.Content, file.Mode));
            }
        }

        var running = await IsRunningAsync(host, systemd, cancellationToken).ConfigureAwait(false);
        var stoppedFull = !running && await StoppedBecauseFullAsync(host, cancellationToken).ConfigureAwait(false);
        var observed = $"{(systemd ? "systemd" : "respawn wrapper")}; {(stale.Count == 0 ? "files current" : $"{stale.Count} file(s) to write")}; " +
                       (running ? "running" : stoppedFull ? $"stopped: {settings.VolumeGroup} is full" : "not running");
        if (stale.Count == 0 && (running || stoppedFull))
        {
            return StepProbe.Satisfied(observed);
        }

        var commands = new List<Command>();
        if (systemd)
        {
            commands.Add(new Command("systemctl", ["daemon-reload"]));
            commands.Add(new Command("systemctl", ["enable", settings.UnitName]));
            commands.Add(new Command("systemctl", ["restart", settings.UnitName]));
        }
        else
        {
            commands.Add(Shell.Script(StopGroup, settings.PidFile));
            commands.Add(Shell.Script(StartDetached, settings.SupervisorPath));
        }

        // The wrapper writes its pid file a moment after setsid returns: the wait gives it that moment.
        return StepProbe.Act(observed, [.. stale, .. commands.Select(c => new RunCommand(c)), new WaitUntil(Check.From(this), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100))])
            with { Notes = [$"logs to {settings.LogPath}"] };
    }

    private async Task<bool> IsRunningAsync(HostContext host, bool systemd, CancellationToken ct)
    {
        if (systemd)
        {
            return await host.FactAsync(new Fact<bool>(new Command("systemctl", ["is-active", settings.UnitName]), r => r.StandardOutput.Trim() == "active", mustSucceed: false), ct).ConfigureAwait(false);
        }

        var pidText = await host.FactAsync(HostContext.FileContentIfReadable(settings.PidFile), ct).ConfigureAwait(false);
        if (pidText is null || !int.TryParse(pidText.Trim(), out var pid) || pid <= 1)
        {
            return false;
        }

        var cmdline = await host.FactAsync(HostContext.FileContentIfReadable($"/proc/{pid}/cmdline"), ct).ConfigureAwait(false);
        return cmdline?.Contains(settings.SupervisorPath, StringComparison.Ordinal) == true;
    }

    private async Task<bool> StoppedBecauseFullAsync(HostContext host, CancellationToken ct)
    {
        if (await host.FactAsync(HostContext.FileContentIfReadable(settings.StoppedFile), ct).ConfigureAwait(false) is null)
        {
            return false;
        }

        var vg = (await LvmReads.VgsAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(v => v.Name == settings.VolumeGroup);
        return vg is { FreeExtents: 0 };
    }
}
