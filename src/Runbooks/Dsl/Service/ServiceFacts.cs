using System.Globalization;
using System.Text.RegularExpressions;

namespace Runbooks.Dsl;

/// <summary>What keeps a service running on a host.</summary>
public enum Supervisor
{
    /// <summary>Nothing on the host knows a service by that name.</summary>
    None,

    /// <summary>A systemd unit, with systemd as PID 1.</summary>
    Systemd,

    /// <summary>A runit service directory watched by runsv (<c>/etc/service/NAME</c>).</summary>
    Runit,

    /// <summary>A SysV/LSB init script (<c>/etc/init.d/NAME</c>).</summary>
    SysV,
}

/// <summary>Where the supervisor keeps the service: a unit name, a service directory, an init script.</summary>
public sealed record SupervisorLocation(Supervisor Supervisor, string Location);

/// <summary>
/// A service as its supervisor sees it. <see cref="MainPid"/>, <see cref="Since"/> and <see cref="Restarts"/> are null
/// where the supervisor does not know them (an LSB script knows only "running or not"; runit keeps no restart count).
/// <see cref="Supervised"/> is false for a runit directory no runsv has opened yet (just linked into the service
/// directory: runsvdir starts its runsv within 5 s), which cannot be told to start until then.
/// </summary>
public sealed record ServiceFacts(
    string Name,
    Supervisor Supervisor,
    string Location,
    bool Running,
    string State,
    int? MainPid,
    DateTimeOffset? Since,
    int? Restarts,
    bool WantsDown = false,
    bool Supervised = true)
{
    public string Describe() =>
        $"{Name} ({Supervisor.ToString().ToLowerInvariant()} {Location}): {State}" +
        (MainPid is { } pid ? $", pid {pid.ToString(CultureInfo.InvariantCulture)}" : "") +
        (Restarts is { } restarts ? $", {restarts.ToString(CultureInfo.InvariantCulture)} restarts" : "");
}

/// <summary>Pure parsers over what the supervisors print.</summary>
public static partial class ServiceParser
{
    // runit's sv(8): "run: DIR: (pid N) Ss[, normally down][, want down][, got TERM][; run: log: (pid N) Ss]"
    // and "down: DIR: Ss[, normally up][, want up]" and "finish: DIR: (pid N) Ss" and "fail: DIR: reason".
    [GeneratedRegex(@"^(?<state>run|down|finish|fail|warning): (?<dir>[^:]+): (?:\(pid (?<pid>\d+)\) )?(?:(?<secs>\d+)s)?(?<rest>[^;]*)")]
    private static partial Regex SvLine();

    /// <summary>
    /// Reads the output of the detection script (<see cref="ServiceReads.Detect"/>): one line
    /// <c>systemd UNIT</c>, <c>runit DIR</c>, <c>sysv SCRIPT</c> or <c>none</c>.
    /// </summary>
    public static SupervisorLocation ParseDetection(string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "none";
        var parts = line.Split(' ', 2);
        return parts[0] switch
        {
            "systemd" when parts.Length == 2 => new(Supervisor.Systemd, parts[1]),
            "runit" when parts.Length == 2 => new(Supervisor.Runit, parts[1]),
            "sysv" when parts.Length == 2 => new(Supervisor.SysV, parts[1]),
            _ => new(Supervisor.None, ""),
        };
    }

    /// <summary>
    /// Parses the first line of <c>sv status DIR</c> (the service; a "; run: log: …" tail is its logger).
    /// <paramref name="observedAt"/> is when sv ran: runit reports seconds in the state, so "since" is derived from it.
    /// </summary>
    public static ServiceFacts ParseSvStatus(string name, string output, DateTimeOffset observedAt)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        var match = SvLine().Match(line);
        if (!match.Success)
        {
            throw new RunbookException($"could not read `sv status` output for '{name}': '{line}'");
        }

        var state = match.Groups["state"].Value;
        var dir = match.Groups["dir"].Value;
        if (state == "warning" && line.EndsWith("unable to open supervise/ok: file does not exist", StringComparison.Ordinal))
        {
            // runsv creates supervise/ on start: without it, the directory is new and runsvdir has not rescanned yet.
            return new ServiceFacts(name, Supervisor.Runit, dir, false, "not supervised yet (no runsv has opened it; runsvdir starts one within 5 s)", null, null, null,
                Supervised: false);
        }

        if (state is "fail" or "warning")
        {
            // "unable to open supervise/ok" is what sv says when no runsv watches the directory.
            throw new RunbookException($"runit cannot report '{name}' ({dir}): {line[(match.Groups["dir"].Index + dir.Length + 2)..]}; is runsvdir running and watching its service directory?");
        }

        var rest = match.Groups["rest"].Value;
        int? pid = match.Groups["pid"].Success ? int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture) : null;
        DateTimeOffset? since = match.Groups["secs"].Success
            ? observedAt - TimeSpan.FromSeconds(int.Parse(match.Groups["secs"].Value, CultureInfo.InvariantCulture))
            : null;
        var shown = state + rest;
        return new ServiceFacts(name, Supervisor.Runit, dir, state == "run", shown.Trim(), state == "run" ? pid : null, since, null,
            WantsDown: rest.Contains("want down", StringComparison.Ordinal));
    }

    /// <summary>
    /// Parses <c>systemctl show --timestamp=unix -p Id,LoadState,ActiveState,SubState,MainPID,ExecMainStartTimestamp,NRestarts UNIT</c>
    /// (KEY=VALUE lines; timestamps as <c>@SECONDS</c>).
    /// </summary>
    public static ServiceFacts ParseSystemctlShow(string name, string output)
    {
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1].Trim(), StringComparer.Ordinal);
        string Get(string key) => values.GetValueOrDefault(key, "");

        var unit = Get("Id") is { Length: > 0 } id ? id : name;
        if (Get("LoadState") is "not-found" or "")
        {
            return new ServiceFacts(name, Supervisor.None, unit, false, "not-found", null, null, null);
        }

        var active = Get("ActiveState");
        var running = active is "active" or "reloading" or "deactivating";
        int? pid = int.TryParse(Get("MainPID"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : null;
        DateTimeOffset? since = Get("ExecMainStartTimestamp") is { Length: > 1 } stamp && stamp[0] == '@' &&
                                long.TryParse(stamp[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        int? restarts = int.TryParse(Get("NRestarts"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        return new ServiceFacts(name, Supervisor.Systemd, unit, running, $"{active}/{Get("SubState")}", running ? pid : null, running ? since : null, restarts,
            WantsDown: active == "deactivating");
    }

    /// <summary>
    /// An LSB init script's <c>status</c> exit code: 0 running, 1–2 dead with a stale pid or lock file, 3 not running,
    /// 4 unknown. The script knows no PID, start time or restart count.
    /// </summary>
    public static ServiceFacts ParseLsbStatus(string name, string script, int exitCode, string output) =>
        exitCode switch
        {
            0 => new ServiceFacts(name, Supervisor.SysV, script, true, "running", null, null, null),
            1 => new ServiceFacts(name, Supervisor.SysV, script, false, "dead, pid file exists", null, null, null),
            2 => new ServiceFacts(name, Supervisor.SysV, script, false, "dead, lock file exists", null, null, null),
            3 => new ServiceFacts(name, Supervisor.SysV, script, false, "not running", null, null, null),
            _ => throw new RunbookException($"'{script} status' exited {exitCode} (LSB: status unknown): {output.Trim()}"),
        };
}
