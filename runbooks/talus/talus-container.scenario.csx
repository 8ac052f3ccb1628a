// The talus incident (README.md beside this file) in a container, as on the notes' hosts: the same five daemons under
// runit, break, runbook and eight specs as talus.scenario.csx, but the host is a container of the harness's Debian
// image whose main process is runsvdir (under the engine's init). Proved by talus-restart.csx, unchanged.
//   runbook harness run runbooks/talus/talus-container.scenario.csx
#load "specs.csx"
#load "runit-break.csx"

// How long after TERM the runbook waits for master before KILL (talus-restart.csx declares the same).
var masterGrace = TimeSpan.FromSeconds(3);

Containers().Host("local").Runs("runsvdir", "-P", "/etc/service");
Proves("talus-restart.csx");

TalusUnderRunit();
TalusSpecs(masterGrace);
