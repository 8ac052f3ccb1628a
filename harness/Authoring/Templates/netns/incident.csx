// {{NAME}}: makes the server answer ping again, now and after a reboot (the value is persisted in
// /etc/sysctl.d, so a reboot does not bring the incident back).
//   runbook plan {{NAME}}.csx --host server=ssh://root@server     # what would change
//   runbook run {{NAME}}.csx --host server=ssh://root@server
// Proved on disposable hosts by {{NAME}}.scenario.csx: `runbook harness run {{NAME}}.scenario.csx`.

Target("{{NAME}}", "the server answers ICMP echo, now and after a reboot",
    Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "0").Persisted())
    .On("server");

await RunAsync(Args);
