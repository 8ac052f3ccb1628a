// The webapp incident (README.md beside this file): a web host whose app no client can reach. Four faults at
// once — its log filesystem is full (logrotate names the log's old path), the app listens on 127.0.0.1 only,
// the firewall drops tcp/8080, and net.core.somaxconn is 128. Proved by webapp-repair.csx.
//   runbook harness run runbooks/webapp/webapp.scenario.csx
// The break and the specs are incident.csx, shared with webapp-container.scenario.csx.

#load "incident.csx"

// The log filesystem scales with the run: 32 MiB at CI scale (0.1), 320 MiB at 1.
var logMiB = Math.Max(8, (int)(320 * Scale));

var net = Netns();
net.Host("web")
    .Private("/etc/app", "/srv/app", "/etc/sv", "/etc/service", "/etc/logrotate.d")
    .SmallFilesystem("/var/log/app", logMiB);
net.Host("client");
net.Link("web", "client", $"{WebAddress}/24", "10.20.0.2/24");
Proves("webapp-repair.csx");

WebappIncident();
