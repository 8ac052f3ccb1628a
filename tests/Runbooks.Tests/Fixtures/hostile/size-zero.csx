Target("image", Loop.Image("/tmp/rb-hostile/disk.img").Create(0));
await RunAsync(Args);
