// {{NAME}}: starts the {{NAME}} service again and waits until it accepts connections on 127.0.0.1:8080.
// The supervisor is found on the host: a systemd unit, a runit directory or an init script.
//   runbook plan {{NAME}}.csx      # what would be started, and the wait
//   runbook run {{NAME}}.csx
// Proved on a disposable host by {{NAME}}.scenario.csx: `runbook harness run {{NAME}}.scenario.csx`.

var service = Service.Named("{{NAME}}")
    .HealthyWhen(Probe.Tcp("127.0.0.1", 8080, TcpOutcome.Connected))
    .HealthyWithin(TimeSpan.FromSeconds(20));

Target("{{NAME}}", "the {{NAME}} service runs and accepts connections on 127.0.0.1:8080",
    service.Running());

await RunAsync(Args);
