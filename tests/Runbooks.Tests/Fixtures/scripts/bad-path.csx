Target("escape", "a path that climbs out",
    File.Content("/etc/../tmp/x", "nope"));
await RunAsync(Args);
