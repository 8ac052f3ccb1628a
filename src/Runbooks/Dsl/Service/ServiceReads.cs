using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The read-only commands that find a service's supervisor and ask it about the service.</summary>
public static partial class ServiceReads
{
    // systemd only when it is PID 1 (its runtime directory says so); runit where a runsv-style directory
    // exists; an init script last, because Debian ships one beside most units and runit directories.
    private const string DetectScript = """
        n=$1
        if [ -d /run/systemd/system ] && systemctl cat -- "$n.service" >/dev/null 2>&1; then echo "systemd $n.service"; exit 0; fi
        for d in /etc/service /service /var/service; do
          if [ -f "$d/$n/run" ]; then echo "runit $d/$n"; exit 0; fi
        done
        if [ -x "/etc/init.d/$n" ]; then echo "sysv /etc/init.d/$n"; exit 0; fi
        echo none
        """;

    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);

    public static Command Detect(string name) => Shell.Script(DetectScript, name).AsReadOnly().WithTimeout(Quick);

    public static Command SvStatus(string directory) =>
        new Command("sv", ["status", directory]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1).WithFactView(WithoutUptime);

    /// <summary><c>run: /etc/service/web: (pid 42) 60s</c> without the seconds, which grow by themselves.</summary>
    public static string WithoutUptime(string status) => Seconds().Replace(status, "");

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[:)] )\d+s\b")]
    private static partial System.Text.RegularExpressions.Regex Seconds();

    public static Command SystemctlShow(string unit) =>
        new Command("systemctl", ["show", "--timestamp=unix", "-p", "Id,LoadState,ActiveState,SubState,MainPID,ExecMainStartTimestamp,NRestarts", "--", unit])
            .AsReadOnly().WithTimeout(Quick);

    public static Command LsbStatus(string script) => new Command(script, ["status"]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1, 2, 3, 4);

    /// <summary>The last lines the service wrote: its runit logger's file, the journal, or a log file the author named.</summary>
    public static Command LogTail(SupervisorLocation where, string? logFile, int lines = 8)
    {
        var count = lines.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (logFile is not null)
        {
            return new Command("tail", ["-n", count, "--", logFile]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1);
        }

        return where.Supervisor switch
        {
            Supervisor.Systemd => new Command("journalctl", ["-u", where.Location, "-n", count, "--no-pager", "-o", "cat"]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1),
            _ => new Command("tail", ["-n", count, "--", $"{where.Location}/log/main/current"]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1),
        };
    }

    /// <summary>Which supervisor runs the service, and where its unit, directory or script is.</summary>
    /// <example><c>var where = await host.FactAsync(ServiceReads.Location("db"), ct);</c></example>
    public static Fact<SupervisorLocation> Location(string name) => new(Detect(name), r => ServiceParser.ParseDetection(r.StandardOutput));

    /// <summary>The service's state as runit's <c>sv status</c> gives it, its uptime counted from when the read started.</summary>
    /// <example><c>var web = await host.FactAsync(ServiceReads.RunitState("web", "/etc/service/web"), ct);</c></example>
    public static Fact<ServiceFacts> RunitState(string name, string directory) =>
        new(SvStatus(directory), r => ServiceParser.ParseSvStatus(name, r.StandardOutput + r.StandardError, r.Started));

    /// <example><c>var web = await host.FactAsync(ServiceReads.SystemdState("web", "web.service"), ct);</c></example>
    public static Fact<ServiceFacts> SystemdState(string name, string unit) =>
        new(SystemctlShow(unit), r => ServiceParser.ParseSystemctlShow(name, r.StandardOutput));

    /// <example><c>var web = await host.FactAsync(ServiceReads.SysVState("web", "/etc/init.d/web"), ct);</c></example>
    public static Fact<ServiceFacts> SysVState(string name, string script) =>
        new(LsbStatus(script), r => ServiceParser.ParseLsbStatus(name, script, r.ExitCode, r.StandardOutput));

    public static Task<SupervisorLocation> LocateAsync(HostContext host, string name, CancellationToken ct) => host.FactAsync(Location(name), ct);

    /// <summary>The service's state; <see cref="Supervisor.None"/> when no supervisor knows it.</summary>
    public static async Task<ServiceFacts> ReadAsync(HostContext host, string name, CancellationToken ct)
    {
        var where = await LocateAsync(host, name, ct).ConfigureAwait(false);
        switch (where.Supervisor)
        {
            case Supervisor.Runit:
                try
                {
                    return await host.FactAsync(RunitState(name, where.Location), ct).ConfigureAwait(false);
                }
                catch (RunbookException ex) when (ex is not CommandFailedException)
                {
                    throw host.Failure($"{ex.Message}");
                }

            case Supervisor.Systemd:
                return await host.FactAsync(SystemdState(name, where.Location), ct).ConfigureAwait(false);
            case Supervisor.SysV:
                return await host.FactAsync(SysVState(name, where.Location), ct).ConfigureAwait(false);
            default:
                return new ServiceFacts(name, Supervisor.None, "", false, "unknown", null, null, null);
        }
    }

    /// <summary>
    /// When the main process started, in clock ticks since boot (<c>/proc/PID/stat</c>): finer than any supervisor's
    /// "since" (runit counts whole seconds), so it can tell which of two services started first.
    /// </summary>
    public static async Task<long?> StartTicksAsync(HostContext host, ServiceFacts facts, CancellationToken ct)
    {
        if (facts.MainPid is not { } pid)
        {
            return null;
        }

        var stat = await ProcReads.StatAsync(host, pid, ct).ConfigureAwait(false);
        return stat?.StartTime;
    }

    public static async Task<string> LastOutputAsync(HostContext host, SupervisorLocation where, string? logFile, CancellationToken ct)
    {
        if (where.Supervisor == Supervisor.None && logFile is null)
        {
            return "(no log known)";
        }

        return await host.FactAsync(new Fact<string>(LogTail(where, logFile), tail =>
        {
            var text = tail.ExitCode == 0 ? tail.StdoutTail(8) : "";
            return text.Trim().Length > 0 ? text : $"(nothing in the log: {tail.StderrTail(1).Trim()})";
        }, mustSucceed: false), ct).ConfigureAwait(false);
    }
}
