// The constellation of ../../shared notes' shape: a reverse proxy and an app server merged on one machine, a
// primary and a secondary database on two others. Addresses come from --host NAME=URI or --inventory, so the
// same file serves the lab and CI (the test gives netns hosts with their own sshd):
//   runbook plan runbooks/constellation/example.constellation.csx --inventory hosts.ini --format markdown
//   runbook run  runbooks/constellation/example.constellation.csx --inventory hosts.ini --serial 1 --max-fail 0%

Role("reverse-proxy", "roles/reverse-proxy.csx");
Role("app-server", "roles/app-server.csx");
Role("database", "roles/database.csx");

Var("domain", "example.tld");

Machine("server-a").Tags("web", "lab")
    .Runs("reverse-proxy")
    .Runs("app-server", ("port", "8080"));

Machine("server-b").Tags("db", "lab")
    .Runs("database", ("mode", "primary"));

Machine("server-c").Tags("db")
    .Runs("database", ("mode", "secondary"));
