Target("restore", File.Directory("/tmp/rb-restore"));
Target("build", "needs restore", DependsOn("restor"), File.Directory("/tmp/rb-build"));
await RunAsync(Args);
