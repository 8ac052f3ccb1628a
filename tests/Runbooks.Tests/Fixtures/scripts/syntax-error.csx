Target("a", "first",
    File.Directory("/tmp/rb-syntax"))
Target("b", "second");
await RunAsync(Args);
