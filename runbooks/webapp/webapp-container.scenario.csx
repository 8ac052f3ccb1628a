// The webapp incident (README.md beside this file) on containers: the same two hosts, break, runbook and seven specs
// as webapp.scenario.csx, but `web` and `client` are containers of the harness's Debian image on one network. Each
// container has its own filesystem, so nothing needs to be declared private; /var/log/app is a small tmpfs.
//   runbook harness run runbooks/webapp/webapp-container.scenario.csx
#load "incident.csx"

// The log filesystem scales with the run: 32 MiB at CI scale (0.1), 320 MiB at 1.
var logMiB = Math.Max(8, (int)(320 * Scale));

// The runbook names the web host's address, so the network's subnet and the hosts' addresses are fixed.
var hosts = Containers().Network("10.20.0.0/24");
hosts.Host("web").Address(WebAddress).SmallFilesystem("/var/log/app", logMiB);
hosts.Host("client").Address("10.20.0.2");
Proves("webapp-repair.csx");

WebappIncident();
