#load "specs.csx"

// The storage incident (../../../shared/incidents/storage-incident-notes.md): vg0 on three loop devices, each
// broken a different way, data0 mounted read-only, and an object server holding a deleted file so that there is
// no room for the fourth disk image. Proved by storage-recovery.csx.
//   runbook harness run runbooks/storage/storage.scenario.csx
//
// Every size is the incident's times Scale (the harness's --scale, 0.1 in CI; the runbook reads the same factor),
// rounded to whole MiB: scale 1 is 1800M disks, a 2.8G data0 to grow to 4G, at least 6G after growth.
// The break is three guest scripts (files/), one SSH round trip each, and two targets of DSL steps: under TCG every
// command costs a channel, a fork and an exec through the 9p root, and the break used to be 33 of them.

const int ExtentMiB = 4;
const string Manifest = "/var/lib/runbooks-scenario/objects.sha256";
int Scaled(double mib) => Math.Max(1, (int)Math.Round(mib * Scale, MidpointRounding.AwayFromZero));

var diskMiB = Scaled(1800);                                            // fallocate -l 1800M /media/diskN.img
var data0TargetMiB = (Scaled(4096) + ExtentMiB - 1) / ExtentMiB * ExtentMiB; // 4G, rounded up to extents as lvextend does
// /media holds the three images, the deleted file the server holds (about two disks, as the incident's 3.7 GB) and
// half a disk of slack: disk3.img fits only once the deleted file is released.
var mediaMiB = (int)Math.Ceiling(5.5 * diskMiB);
var mediaSlackMiB = diskMiB / 2;
// The objects /data serves: 32 files, about 600M in all (the incident's 628M used), sizes 1..32 parts.
var objectBytes = Enumerable.Range(1, 32).Select(i => Math.Max(1, Scaled(600) * MiB * i / 528)).ToList();

// Nothing but RAM backs the guest's tmpfs of disk images: 1 GiB for the system, /media, and some headroom.
MicroVm().MemoryMiB(1024 + mediaMiB + 256).ForwardPort(8000);
Proves("storage-recovery.csx");

// Each target's Until holds on the repaired VM as well as on the broken one, and the faults a repaired VM can take
// again (read-only /data, loop0 not allocatable) are DSL steps in targets of their own: `harness drill storage`
// re-applies exactly those. Rebuilding the disks, data0 or the deleted file on a repaired VM would destroy the data
// the specs check (and the deleted file only matters before disk3 exists), so their Untils say they are done. The
// object server's is its wrapper being installed (the script fails unless the server answers): a request to a busy
// emulated guest can time out, and must not make the drill start a second server.
Target("disks", "vg0 on loop0..2: loop1 with a ~1 GiB data offset, loop2's PV smaller than its device",
    Exec("images on their own tmpfs, loop devices, the three PVs and vg0",
            ScriptBeside("files/break-disks.sh", $"{mediaMiB}", $"{diskMiB}", $"{Scaled(1024)}", $"{Scaled(1020)}", $"{ExtentMiB}")
                .WithTimeout(TimeSpan.FromMinutes(5)))
        .Until(Lvm.Pv("/dev/loop2").IsIn("vg0")));

Target("data0", "data0 ends on loop1 and holds the objects; its fstab line is read-only", DependsOn("disks"),
    Exec("data0, its objects and their checksums",
            ScriptBeside("files/break-data.sh",
                [$"{Scaled(2.8 * 1024)}", $"{ExtentMiB}", Manifest, "/dev/mapper/vg0-data0 /data ext4 ro,relatime 0 0", .. objectBytes.Select(b => (Arg)$"{b}")])
                .WithTimeout(TimeSpan.FromMinutes(10)))
        .Until(File.Exists(Manifest)));

Target("data0-read-only", "/data is mounted read-only, and read-only in fstab so a reboot keeps it so", DependsOn("data0"),
    Fs.Mount("/data").ReadOnly(),
    Fs.Fstab("/data").Options("ro,relatime"));

Target("loop0-not-allocatable", "loop0 can hold no new extents (pvchange -x n)", DependsOn("data0"),
    Lvm.Pv("/dev/loop0").Allocatable(false));

Target("object-server", "the object server answers on port 8000 and holds a deleted file that eats disk3's room", DependsOn("data0"),
    Exec("install and start the wrapped object server",
            ScriptBeside("files/break-object-server.sh",
                "/usr/local/bin/server", FileBeside("files/object-server.py"), "/usr/local/bin/run.sh", FileBeside("files/run.sh"),
                "/media/.tempfile", $"{mediaSlackMiB}", $"{diskMiB}")
                .WithTimeout(TimeSpan.FromMinutes(2)))
        .Until(File.Exists("/usr/local/bin/run.sh")));

// test-storage.sh, every size scaled. data-grows comes last: it fills the volume.
Spec("data-writable", DataWritable("/data"));
Spec("vg0-has-4-pvs", Lvm.Vg("vg0").HasPvCount(4));
Spec("pvs-full-size", PvsFullSize("vg0", diskMiB, ExtentMiB));
Spec("data0-size", Lvm.Lv("vg0/data0").HasSize($"{data0TargetMiB}M"));
Spec("objects-intact", ObjectsIntact("/data/objects", Manifest)).NotBroken();
Spec("pvs-allocatable", PvsAllocatable("vg0"));
// A load test that grows data0 past data0-size's 4G: checked once after converge, never polled by a drill.
Spec("data-grows", DataGrows("/data/runbooks-growth", "/dev/vg0/data0", Scaled(100), Scaled(6 * 1024))).NotPolled();

// The object service must stay up, with every object's bytes intact, while the runbook repairs the disks under it.
// Whole objects only within 2 MiB/s: fetching them back to back kept a TCG guest's vCPU busy serving them and made
// the converge it watched three times slower (27.5 s without the monitor, 92 s with it, at scale 0.1).
Monitor(Monitors.Http("local", 8000, "/").Every(TimeSpan.FromMilliseconds(100)).ContentMatches(Manifest, bytesPerSecond: 2 * 1024 * 1024));
