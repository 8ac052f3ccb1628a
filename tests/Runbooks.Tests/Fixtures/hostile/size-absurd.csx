// 8 EiB: a unit mistake, not a disk.
Target("grow", Lvm.Lv("vg0/data0").GrowTo(long.MaxValue));
await RunAsync(Args);
