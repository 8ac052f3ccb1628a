// {{NAME}}: a data filesystem found mounted read-only (ext4's errors=remount-ro did it after a disk hiccup),
// so nothing can be written to /srv/{{NAME}}. The break makes a small ext4 image on a loop device, mounts it and
// remounts it read-only, all inside a disposable microVM. Proved by {{NAME}}.csx:
//   runbook harness run {{NAME}}.scenario.csx
// Replace the break and the spec with your incident: the break is a runbook that breaks (same DSL, same
// engine), and every Spec must fail right after it and hold after the repair.

const string Image = "/var/tmp/{{NAME}}.img";
const string Data = "/srv/{{NAME}}";

// The image lives in the guest's RAM-backed overlay: a small VM is plenty.
MicroVm().MemoryMiB(1024);
Proves("{{NAME}}.csx");

var ext4 = new Check($"{Image} holds an ext4 filesystem", async (host, ct) =>
{
    var found = await host.TryReadAsync(new Command("blkid", ["-p", "-o", "value", "-s", "TYPE", "--", Image]), ct);
    return CheckResult.From(found.StandardOutput.Trim() == "ext4", $"blkid: {found.StandardOutput.Trim()}");
});
var mounted = new Check($"something is mounted at {Data}", async (host, ct) =>
{
    var found = await host.TryReadAsync(new Command("findmnt", ["-n", "-o", "SOURCE,OPTIONS", "--mountpoint", Data]), ct);
    return CheckResult.From(found.ExitCode == 0, found.ExitCode == 0 ? found.StandardOutput.Trim() : "not mounted");
});

Target("filesystem", "a 16 MiB ext4 image",
    Loop.Image(Image).Create("16M"),
    Exec("make an ext4 filesystem in it", new Command("mkfs.ext4", ["-q", "-F", Image])).Until(ext4));

Target("read-only", $"the image mounted at {Data}, then remounted read-only", DependsOn("filesystem"),
    File.Directory(Data),
    Exec("mount it on a loop device", new Command("mount", ["-o", "loop", "--", Image, Data])).Until(mounted),
    Fs.Mount(Data).ReadOnly());

Spec("data-writable", Fs.Mount(Data).CanWrite());
