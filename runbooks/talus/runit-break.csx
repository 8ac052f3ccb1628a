// The talus break under runit (loaded by talus.scenario.csx, on the services backend, and talus-container.scenario.csx,
// in a container whose main process is runsvdir): the program, one runit service directory per daemon, all five booted,
// then the incident. Either way runsvdir supervises /etc/service.

// Where the notes' jobs ran the code from (/home/talus/talus/src/…): a directory of its own on the host.
const string Program = "/opt/talus/bin/talus-service.py";

/// <summary>Defines the break targets: installed, booted, incident.</summary>
void TalusUnderRunit()
{
    string RunScript(TalusDaemon daemon) => FileBeside("files/run.sh")
        .Replace("{name}", daemon.Name)
        .Replace("{port}", daemon.Port.ToString())
        .Replace("{needs}", string.Join(",", daemon.After.Select(a => Daemon(a).Port)))
        .Replace("{flags}", daemon.Flags);

    Target("installed", "the talus program and one runit service directory per daemon",
    [
        File.Directory("/var/log/talus"),
        File.Directory("/opt/talus/bin"),
        File.Content(Program, FileBeside("files/talus-service.py")),
        .. Daemons.SelectMany(d => new[]
        {
            File.Directory($"/etc/sv/{d.Name}/log/main"),
            File.Content($"/etc/sv/{d.Name}/run", RunScript(d), mode: "0755"),
            File.Content($"/etc/sv/{d.Name}/finish", FileBeside("files/finish.sh"), mode: "0755"),
            File.Content($"/etc/sv/{d.Name}/log/run", FileBeside("files/log-run.sh"), mode: "0755"),
        }),
    ]);

    // All five at once, as a boot would: runsvdir notices them within 5 s; web, master and slave refuse and are
    // retried by runsv each second until what they need answers. Each Running() step waits until its daemon is healthy.
    Target("booted", "all five daemons supervised, running and healthy", DependsOn("installed"),
    [
        .. Daemons.Select(d => Exec($"link {d.Name} into /etc/service", new Command("ln", ["-sfn", $"/etc/sv/{d.Name}", $"/etc/service/{d.Name}"]))
            .Until(File.Exists($"/etc/service/{d.Name}/run"))),
        .. Daemons.Select(d => Service.Named(d.Name).HealthyWhen(Healthy(d)).Running()),
    ]);

    // The incident: master wedged (SIGUSR1: it stops accepting but keeps running), then db stopped; its dependants keep
    // running on a dead connection. `sv -v down` returns once db's finish script has logged its exit, so nothing lands
    // in the event log after the break (a test takes a "nothing was signalled" snapshot of it), and master has had
    // that long to act on its signal.
    Target("incident", "db stopped and master wedged", DependsOn("booted"),
        Exec("wedge master and stop db",
                new Command("sv", ["1", "/etc/service/master"]),
                new Command("sv", ["-w", "15", "-v", "down", "/etc/service/db"]))
            .Until(DbDownAndMasterWedged));
}
