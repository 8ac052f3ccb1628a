// The talus end state as the event log shows it (loaded by talus.scenario.csx, talus-systemd.scenario.csx and talus-container.scenario.csx). Each daemon appends
// "SECONDS NAME start|ready|refused|term|term-ignored|wedged PID" and its runit finish script "SECONDS NAME exit CODE SIGNAL",
// so these checks see what happened, in order, rather than only what is running now.
#nullable enable
using System.Globalization;

const string EventLog = "/var/log/talus/events.log";

/// <summary>A talus daemon: its port, what must answer before it starts, and its program's flags.</summary>
record TalusDaemon(string Name, int Port, string[] After, string Flags);

/// <summary>One line of the event log.</summary>
record TalusEvent(double Time, string Service, string Kind, IReadOnlyList<string> Detail);

/// <summary>A daemon's current run: its last start, the ready after it, and whether it ended since.</summary>
record CurrentRun(string Service, double Started, double? Ready, bool Ended);

// In the notes' start order. web answers HTTP (503 while db is down); master ignores SIGTERM.
static readonly TalusDaemon[] Daemons =
[
    new("db", 27017, [], ""),
    new("amqp", 5672, [], ""),
    new("web", 8001, ["db"], "--http"),
    new("master", 5000, ["amqp", "web"], "--ignore-term"),
    new("slave", 5001, ["master"], ""),
];

static TalusDaemon Daemon(string name) => Daemons.First(d => d.Name == name);

static IReadOnlyList<TalusEvent> ParseEvents(string log) =>
[
    .. log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => l.Trim().Split(' '))
        .Where(f => f.Length >= 3 && double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        .Select(f => new TalusEvent(double.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], f[3..])),
];

static CurrentRun? Current(IReadOnlyList<TalusEvent> events, string service)
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

static CheckResult StartOrder(IReadOnlyList<TalusEvent> events)
{
    var runs = Daemons.Select(d => (d.Name, Run: Current(events, d.Name))).ToList();
    var down = runs.Where(r => r.Run is not { Ready: not null, Ended: false }).Select(r => r.Name).ToList();
    var observed = string.Join(", ", runs.Where(r => r.Run is not null).OrderBy(r => r.Run!.Started).Select(r => r.Name));
    if (down.Count > 0)
    {
        return new CheckResult(false, $"not up: {string.Join(", ", down)}; last starts in order {observed}");
    }

    return new CheckResult(observed == string.Join(", ", Daemons.Select(d => d.Name)), $"last starts in order {observed}");
}

static CheckResult DependenciesReadyFirst(IReadOnlyList<TalusEvent> events)
{
    var problems = new List<string>();
    foreach (var daemon in Daemons)
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

// The last time master died of a signal: it was KILL, and master had been ignoring TERM for at least the grace.
static CheckResult MasterKilledAfterGrace(IReadOnlyList<TalusEvent> events, TimeSpan grace)
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
    var observed = string.Create(CultureInfo.InvariantCulture, $"TERM ignored at {term.Time:0.000}, KILLed {waited:0.00} s later");
    return new CheckResult(waited >= grace.TotalSeconds && waited < grace.TotalSeconds + 5, observed);
}

// A check over the event log as the host has it now (a log not written yet reads as no events).
static Check Timeline(string description, Func<IReadOnlyList<TalusEvent>, CheckResult> judge) =>
    new(description, async (host, ct) =>
    {
        var log = await host.TryReadAsync(HostContext.FileRead(EventLog), ct);
        return judge(ParseEvents(log.ExitCode == 0 ? log.StandardOutput : ""));
    });

// web is healthy when it answers 200 (it answers 503 without db); the others when they accept a connection.
static Check Healthy(TalusDaemon daemon) => daemon.Flags.Contains("--http")
    ? Probe.HttpGet($"http://127.0.0.1:{daemon.Port}/", 200)
    : Probe.Tcp("127.0.0.1", daemon.Port, TcpOutcome.Connected);

// What the break leaves, under either supervisor: db down, master wedged but running.
static readonly Check DbDownAndMasterWedged = new("db refuses connections and master, still running, no longer accepts", async (host, ct) =>
{
    var db = await Probe.Tcp("127.0.0.1", Daemon("db").Port, TcpOutcome.Refused).EvaluateAsync(host, ct);
    var master = await Probe.Tcp("127.0.0.1", Daemon("master").Port, TcpOutcome.Refused).EvaluateAsync(host, ct);
    var running = await Service.Named("master").Healthy().EvaluateAsync(host, ct);
    return new CheckResult(db.Holds && master.Holds && running.Holds, $"db: {db.Observed}; master: {master.Observed} ({running.Observed})");
});

// The eight specs, the same under runit (talus.scenario.csx, talus-container.scenario.csx) and systemd (talus-systemd.scenario.csx).
void TalusSpecs(TimeSpan masterGrace)
{
    foreach (var daemon in Daemons)
    {
        var spec = Spec($"{daemon.Name}-healthy", Healthy(daemon));
        if (daemon.Name is "amqp" or "slave")
        {
            // amqp needs nothing that broke; slave keeps its connection to the wedged master and still answers.
            spec.NotBroken();
        }
    }

    Spec("start-order", Timeline("the running daemons started in the order db, amqp, web, master, slave", StartOrder));
    Spec("dependencies-ready-first", Timeline("every daemon started after what it needs was ready, and that is still up", DependenciesReadyFirst));
    Spec("master-killed-after-grace", Timeline($"master was sent KILL only after ignoring TERM for {masterGrace.TotalSeconds:0} s",
        events => MasterKilledAfterGrace(events, masterGrace)));
}
