Target("touch", "raw commands only",
    Exec("touch a marker", new Command("touch", ["/tmp/rb-marker"])));
Target("empty");
await RunAsync(Args);
