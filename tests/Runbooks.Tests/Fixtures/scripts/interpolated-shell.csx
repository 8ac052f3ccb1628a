var device = Args.FirstOrDefault() ?? "loop1";
Target("wipe", "an unsafe shell line",
    Exec("show the device", Shell.Script($"lsblk /dev/{device}")).Until(File.Exists("/tmp/rb-never")));
await RunAsync(Args);
