// Refused on purpose: metrics and app-server both own tcp/8080 on server-a. `runbook plan` and `run` name both
// roles and the port, exit 2, and reach no machine.
Role("app-server", "roles/app-server.csx");
Role("metrics", "roles/metrics.csx");
Role("database", "roles/database.csx");

Machine("server-a").Runs("app-server").Runs("metrics");
Machine("server-b").Runs("database", ("mode", "primary"));
