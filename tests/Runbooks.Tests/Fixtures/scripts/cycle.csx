Target("a", "first", DependsOn("b"), File.Directory("/tmp/rb-cycle-a"));
Target("b", "second", DependsOn("a"), File.Directory("/tmp/rb-cycle-b"));
await RunAsync(Args);
