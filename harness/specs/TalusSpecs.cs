using System.Globalization;
using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Scenarios.Talus;

namespace Runbooks.Harness.Specs;

/// <summary>One line of the talus event log: <c>SECONDS SERVICE EVENT [DETAIL…]</c>.</summary>
public sealed record TalusEvent(double Time, string Service, string Kind, IReadOnlyList<string> Detail);

/// <summary>
/// The talus end state: every daemon answers, and the event log shows the last restart happened in dependency
/// order, each daemon started only once what it needs was ready, and master was killed only after its grace.
/// </summary>
public static class TalusSpecs
{
    public static IReadOnlyList<Spec> All() =>
    [
        .. Healthy(),
        new("start-order", RunitBackend.HostName, Timeline("the running daemons started in the order db, amqp, web, master, slave", StartOrder)),
        new("dependencies-ready-first", RunitBackend.HostName, Timeline("every daemon started after what it needs was ready, and that is still up", DependenciesReadyFirst)),
        new("master-killed-after-grace", RunitBackend.HostName,
            Timeline($"master was sent KILL only after ignoring TERM for {TalusServices.MasterGrace.TotalSeconds:0} s", events => MasterKilledAfterGrace(events, TalusServices.MasterGrace))),
    ];

    /// <summary>One spec per daemon: web by HTTP 200 (it answers 503 without db), the others by a TCP connect.</summary>
    public static IReadOnlyList<Spec> Healthy() =>
    [
        .. TalusServices.All.Select(d => new Spec($"{d.Name}-healthy", RunitBackend.HostName,
            d.Flags.Contains("--http", StringComparison.Ordinal)
                ? Probe.HttpGet($"http://127.0.0.1:{d.Port}/", 200)
                : Probe.Tcp("127.0.0.1", d.Port, TcpOutcome.Connected),
            BrokenByIncident: d.Name is "db" or "web" or "master")),
    ];

    public static IReadOnlyList<TalusEvent> Parse(string log) =>
    [
        .. log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().Split(' '))
            .Where(f => f.Length >= 3 && double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .Select(f => new TalusEvent(double.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], f[3..])),
    ];

    /// <summary>The daemon's current run: its last start, the ready after it, and whether it ended since.</summary>
    public sealed record CurrentRun(string Service, double Started, double? Ready, bool Ended);

    public static CurrentRun? Current(IReadOnlyList<TalusEvent> events, string service)
    {
        var mine = events.Where(e => e.Service == service).ToList();
        var start = mine.FindLastIndex(e => e.Kind == "start");
        if (start < 0)
        {
            return null;
        }

        var after = mine.Skip(start + 1).ToList();
        var ready = after.FirstOrDefault(e => e.Kind == "ready");
        return new CurrentRun(service, mine[start].Time, ready?.Time, after.Any(e => e.Kind is "exit" or "term" or "refused"));
    }

    public static CheckResult StartOrder(IReadOnlyList<TalusEvent> events)
    {
        var runs = TalusServices.All.Select(d => (d.Name, Run: Current(events, d.Name))).ToList();
        var down = runs.Where(r => r.Run is not { Ready: not null, Ended: false }).Select(r => r.Name).ToList();
        var observed = string.Join(", ", runs.Where(r => r.Run is not null).OrderBy(r => r.Run!.Started).Select(r => r.Name));
        if (down.Count > 0)
        {
            return new CheckResult(false, $"not up: {string.Join(", ", down)}; last starts in order {observed}");
        }

        return new CheckResult(observed == string.Join(", ", TalusServices.All.Select(d => d.Name)), $"last starts in order {observed}");
    }

    public static CheckResult DependenciesReadyFirst(IReadOnlyList<TalusEvent> events)
    {
        var problems = new List<string>();
        foreach (var daemon in TalusServices.All)
        {
            var run = Current(events, daemon.Name);
            foreach (var dependency in daemon.After)
            {
                var needed = Current(events, dependency);
                if (run is null || needed is not { Ready: not null, Ended: false })
                {
                    problems.Add($"{daemon.Name} needs {dependency}, which is not up");
                }
                else if (run.Started < needed.Ready)
                {
                    problems.Add($"{daemon.Name} started {needed.Ready - run.Started:0.000} s before {dependency} was ready");
                }
            }
        }

        return problems.Count == 0 ? new CheckResult(true, "each daemon's current run started after its dependencies were ready") : new CheckResult(false, string.Join("; ", problems));
    }

    /// <summary>The last time master died of a signal: it was KILL, and master had been ignoring TERM for at least the grace.</summary>
    public static CheckResult MasterKilledAfterGrace(IReadOnlyList<TalusEvent> events, TimeSpan grace)
    {
        var master = events.Where(e => e.Service == "master").ToList();
        var killed = master.FindLastIndex(e => e.Kind == "exit" && e.Detail.Count >= 2 && e.Detail[0] == "-1");
        if (killed < 0)
        {
            return new CheckResult(false, "master has not been killed by a signal");
        }

        var signal = master[killed].Detail[1];
        var started = master.FindLastIndex(killed, e => e.Kind == "start");
        var term = master.Skip(started + 1).Take(killed - started - 1).FirstOrDefault(e => e.Kind == "term-ignored");
        if (signal != "9" || term is null)
        {
            return new CheckResult(false, $"master's last death was signal {signal}{(term is null ? " with no TERM ignored before it" : "")}");
        }

        var waited = master[killed].Time - term.Time;
        var observed = $"TERM ignored at {term.Time:0.000}, KILLed {waited:0.00} s later";
        return new CheckResult(waited >= grace.TotalSeconds && waited < grace.TotalSeconds + 5, observed);
    }

    private static Check Timeline(string description, Func<IReadOnlyList<TalusEvent>, CheckResult> judge) =>
        new(description, async (host, ct) =>
        {
            var log = await host.ReadAsync(new Command("cat", ["--", TalusServices.EventLog]).AsReadOnly().WithSuccessExitCodes(0, 1), ct);
            return judge(Parse(log.StandardOutput));
        });
}
