// A well-formed runbook used with broken arguments (unknown target, broken inventories).
Target("marker", File.Content("/tmp/rb-hostile/marker", "ran\n"));
await RunAsync(Args);
