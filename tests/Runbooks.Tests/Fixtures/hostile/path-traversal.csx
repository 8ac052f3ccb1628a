// A path that climbs out of its directory through '..' in the middle.
Target("escape", File.Content("/tmp/rb-hostile/../../etc/rb-pwned", "x"));
await RunAsync(Args);
