// Storage recovery: the repair of the storage incident (incidents/storage-incident-notes.md) as targets.
//
// Sizes follow Scale (RUNBOOK_SCALE, default 1 = the incident's real sizes). The harness sets it to shrink every
// size with one factor, the same one storage.scenario.csx breaks with: e.g. 0.1 → 180M disks, data0 to 410M,
// autogrow steps of 50M.
//
//   runbook plan runbooks/storage/storage-recovery.csx --host ssh://root@host
//   runbook run  runbooks/storage/storage-recovery.csx --host ssh://root@host

long Size(string size) => Bytes.Scaled(size, Scale);

var objects = Http.Get("http://127.0.0.1:8000/");

Target("data-writable", "/data is writable now and after a reboot",
        Fs.Mount("/data").Writable(),
        Fs.Fstab("/data").Writable())
    .Ensures(Fs.Mount("/data").CanWrite());

// The object server held a deleted 3 GB scratch file open. Truncating it through /proc/PID/fd frees the
// space while the server keeps serving; a restart (how: DeletedFileRelease.Restart) cost ~3 s of failed requests.
Target("release-deleted", "space held by deleted files is free again",
        Proc.ReleaseDeletedFiles("server", objects.Returns(200)))
    .Ensures(objects.Returns(200));

Target("pv-sizes", "every PV covers its whole device",
        Lvm.Pv("/dev/loop0").ResizeToDevice(),
        Lvm.Pv("/dev/loop1").ResizeToDevice(),
        Lvm.Pv("/dev/loop2").ResizeToDevice());

Target("loop0-allocatable", "loop0 can hold extents again",
        Lvm.Pv("/dev/loop0").Allocatable());

// loop1 was created with a ~1 GiB data offset; only rebuilding the PV gives that space back.
Target("rebuild-loop1", DependsOn("pv-sizes", "loop0-allocatable"),
        Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0", maxDataOffset: "8M"));

Target("disk3", "a fourth 1800M disk in vg0", DependsOn("release-deleted"),
        Loop.Image("/media/disk3.img").Create(Size("1800M")),
        Loop.Device("/dev/loop3").Attach("/media/disk3.img"),
        Lvm.Vg("vg0").Extend("/dev/loop3"))
    .Ensures(Lvm.Vg("vg0").HasPvCount(4));

Target("data0-4g", "data0 and its filesystem are at least 4 GiB", DependsOn("data-writable", "rebuild-loop1", "disk3"),
        Lvm.Lv("vg0/data0").GrowTo(Size("4G")));

Target("autogrow", "data0 grows by 500M whenever /data is 90% full", DependsOn("data0-4g"),
        Autogrow.Keep("data", "/data", "vg0/data0", thresholdPercent: 90, step: $"{Size("500M")}"));

Target("default", DependsOn("data-writable", "release-deleted", "pv-sizes", "loop0-allocatable", "rebuild-loop1", "disk3", "data0-4g", "autogrow"));

await RunAsync(Args);
