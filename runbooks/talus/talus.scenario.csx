// The talus incident (README.md beside this file): five daemons that must come up in the
// order db → amqp → web → master → slave, found with db stopped and master wedged. master ignores SIGTERM, so only
// a KILL after a grace period stops it; web refuses to start while db is down, master while amqp or web is, slave
// while master is. Proved by talus-restart.csx.
//   runbook harness run runbooks/talus/talus.scenario.csx
//
// The daemons are one small python3 program (files/talus-service.py) under runit, each writing its start,
// readiness and signals to /var/log/talus/events.log; their finish script (files/finish.sh) adds how each exited.
// The break is runit-break.csx, shared with talus-container.scenario.csx; the timeline specs (specs.csx) read that log.
#load "specs.csx"
#load "runit-break.csx"

// How long after TERM the runbook waits for master before KILL (talus-restart.csx declares the same).
var masterGrace = TimeSpan.FromSeconds(3);

Services().Private("/opt/talus");
Proves("talus-restart.csx");

TalusUnderRunit();
TalusSpecs(masterGrace);
