// The smallest end-to-end runbook: files only, so it plans and runs on any machine, without root.
//   runbook plan runbooks/maintenance-banner.csx
//   runbook run  runbooks/maintenance-banner.csx
// BANNER_ROOT moves it (default /tmp/runbooks-demo).
var root = Environment.GetEnvironmentVariable("BANNER_ROOT") ?? "/tmp/runbooks-demo";

Target("directory", "the banner directory exists, readable by the group only",
    File.Directory(root, mode: "0750"));

Target("banner", "the maintenance banner is shown at login", DependsOn("directory"),
    File.Content($"{root}/motd", "Maintenance window: 02:00-03:00 UTC. Expect /data to be read-only.\n", mode: "0644"));

Target("contacts", "the escalation contact is listed", DependsOn("directory"),
    File.Line($"{root}/contacts", "storage: on-call SRE, #inc-storage", create: true));

Target("default", "everything", DependsOn("banner", "contacts"));

await RunAsync(Args);
