// {{NAME}}: a supervised service someone stopped and nobody started again, so nothing accepts connections on
// 127.0.0.1:8080. The break defines the service under runit (its run script is files/run, beside this
// file), waits for the supervisor to pick it up, then stops it. Proved by {{NAME}}.csx:
//   runbook harness run {{NAME}}.scenario.csx
// Replace the break and the spec with your incident: the break is a runbook that breaks (same DSL, same
// engine), and every Spec must fail right after it and hold after the repair.

const string Dir = "/etc/sv/{{NAME}}";
const string Link = "/etc/service/{{NAME}}";

// runsvdir looks at /etc/service every 5 s; the service can be stopped only once its runsv answers.
const string LinkAndWait =
    "ln -sfn \"$1\" \"$2\" && i=0 && until sv status \"$2\" >/dev/null 2>&1; do " +
    "i=$((i + 1)); if [ \"$i\" -gt 150 ]; then echo \"runsvdir did not pick up $2 within 15 s\" >&2; exit 1; fi; sleep 0.1; done";

Services();
Proves("{{NAME}}.csx");

Target("defined", "the {{NAME}} service is defined under runit, with a logger, and supervised",
    File.Directory($"{Dir}/log/main"),
    File.Content($"{Dir}/run", FileBeside("files/run"), mode: "0755"),
    File.Content($"{Dir}/log/run", FileBeside("files/log-run"), mode: "0755"),
    Exec("link it into /etc/service and wait for its runsv", Shell.Script(LinkAndWait, Dir, Link))
        .Until(File.Exists($"{Dir}/supervise/ok")));

Target("stopped", "someone ran `sv down {{NAME}}`", DependsOn("defined"),
    Service.Named("{{NAME}}").Stopped());

Spec("{{NAME}}-accepts-connections", Probe.Tcp("127.0.0.1", 8080, TcpOutcome.Connected));
