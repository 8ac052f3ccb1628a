Target("touch", "raw commands only",
    Exec("touch a marker", new Command("touch", ["/tmp/rb-marker"])));
Target("empty");
Target("truncate-every-run", "verified, yet the command runs every time",
    Exec("truncate the log", new Command("truncate", ["-s", "0", "/tmp/rb-log"]))).Ensures(File.Exists("/tmp/rb-log"));
Target("idempotent", "the Until makes it skip once done",
    Exec("create the log", new Command("touch", ["/tmp/rb-log"])).Until(File.Exists("/tmp/rb-log"))).Ensures(File.Exists("/tmp/rb-log"));
Target("check-only").Ensures(File.Exists("/tmp/rb-log"));
await RunAsync(Args);
