#load "shared/paths.csx"
Target("dir", "a directory from a loaded file", File.Directory(DemoRoot));
await RunAsync(Args);
