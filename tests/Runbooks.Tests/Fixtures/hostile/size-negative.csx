Target("image", Loop.Image("/tmp/rb-hostile/disk.img").Create(-4096));
await RunAsync(Args);
