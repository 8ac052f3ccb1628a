// The talus incident (README.md beside this file) with systemd as the supervisor: the same five daemons, break,
// runbook and eight specs as talus.scenario.csx, but each daemon is a systemd unit in a microVM whose PID 1 is
// systemd, as on the notes' hosts. Proved by talus-restart.csx, unchanged: the Service noun finds the units.
//   runbook harness run runbooks/talus/talus-systemd.scenario.csx
//
// Each unit (files/talus.service) runs files/talus-service.py; its ExecStopPost (files/stopped.sh) logs how the
// process ended in the line the runit finish script writes, so specs.csx reads both.
#load "specs.csx"

const string Program = "/opt/talus/bin/talus-service.py";
// How long after TERM the runbook waits for master before KILL (talus-restart.csx declares the same).
var masterGrace = TimeSpan.FromSeconds(3);

MicroVm().Systemd();
Proves("talus-restart.csx");

string Unit(TalusDaemon daemon) => FileBeside("files/talus.service")
    .Replace("{name}", daemon.Name)
    .Replace("{port}", daemon.Port.ToString())
    .Replace("{needs}", string.Join(",", daemon.After.Select(a => Daemon(a).Port)))
    .Replace("{flags}", daemon.Flags);

Target("installed", "the talus program and one systemd unit per daemon",
[
    File.Directory("/var/log/talus"),
    File.Directory("/opt/talus/bin"),
    File.Content(Program, FileBeside("files/talus-service.py")),
    File.Content("/opt/talus/bin/stopped.sh", FileBeside("files/stopped.sh"), mode: "0755"),
    .. Daemons.Select(d => File.Content($"/etc/systemd/system/{d.Name}.service", Unit(d))),
]);

// All five started at once, as a boot would: web, master and slave refuse and systemd starts them again each
// second (Restart=always) until what they need answers. Each Running() step waits until its daemon is healthy.
var unitsStarted = new Check("systemd knows the five talus units and has started them", async (host, ct) =>
{
    var show = await host.ReadAsync(new Command("systemctl", ["show", "-p", "LoadState,ActiveState", "--", .. Daemons.Select(d => $"{d.Name}.service")]), ct);
    var states = show.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var loaded = states.Count(s => s == "LoadState=loaded");
    var active = states.Count(s => s is "ActiveState=active" or "ActiveState=activating");
    return new CheckResult(loaded == Daemons.Length && active == Daemons.Length, $"{loaded} loaded, {active} active or activating");
});
Target("booted", "all five daemons started by systemd, running and healthy", DependsOn("installed"),
[
    Exec("load the units and start all five", new Command("systemctl", ["daemon-reload"]),
            new Command("systemctl", ["start", "--no-block", "--", .. Daemons.Select(d => $"{d.Name}.service")]))
        // A refused start passes through "deactivating" (ExecStopPost logs the exit) before systemd restarts it, so
        // one reading can catch a unit between tries: wait for a reading with all five started.
        .Until(unitsStarted).Within(TimeSpan.FromSeconds(30)),
    .. Daemons.Select(d => Service.Named(d.Name).HealthyWhen(Healthy(d)).Running()),
]);

// The incident, as in talus.scenario.csx: master wedged (SIGUSR1 to its main process), then db stopped.
// `systemctl stop` returns once db's ExecStopPost has logged its exit.
Target("incident", "db stopped and master wedged", DependsOn("booted"),
    Exec("wedge master and stop db",
            new Command("systemctl", ["kill", "--kill-who=main", "--signal=SIGUSR1", "--", "master.service"]),
            new Command("systemctl", ["stop", "--", "db.service"]))
        .Until(DbDownAndMasterWedged));

TalusSpecs(masterGrace);
