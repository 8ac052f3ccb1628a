using Runbooks.Commands;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

[Category("harness")]
[NonParallelizable]
public class MicroVmBackendTests
{
    [Test]
    [CancelAfter(300_000)]
    public async Task A_microvm_boots_answers_over_ssh_with_lvm_and_is_destroyed_without_leaks(CancellationToken ct)
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); the microVM backend is untested");
        }

        var work = Path.Combine(Path.GetTempPath(), $"runbooks-microvm-test-{Guid.NewGuid():N}");
        var options = new HarnessOptions("test", work);
        var backend = new MicroVmBackend();
        var vm = await backend.CreateAsync(options, ct);
        IReadOnlyList<string> leaks;
        try
        {
            TestContext.Out.WriteLine(string.Join(", ", vm.Facts.Select(f => $"{f.Key}: {f.Value}")));
            var ssh = vm.Inventory.Context("local").Transport;

            var uname = await ssh.RunCheckedAsync(new Command("uname", ["-r"]), ct);
            var lvm = await ssh.RunCheckedAsync(new Command("lvm", ["version"]), ct);
            var env = await ssh.RunCheckedAsync(new Command("printenv", ["DM_DISABLE_UDEV"]), ct);
            var dm = await ssh.RunCheckedAsync(new Command("cat", ["/proc/misc"]), ct);

            Assert.That(uname.StandardOutput.Trim(), Is.EqualTo(vm.Facts["kernel"].Split(' ')[0]));
            Assert.That(lvm.StandardOutput, Does.Contain("LVM version"));
            Assert.That(env.StandardOutput.Trim(), Is.EqualTo("1"));
            Assert.That(dm.StandardOutput, Does.Contain("device-mapper"), "dm_mod is loaded in the guest");

            await using var attached = await backend.AttachAsync(options, ct);
            var again = await attached.Inventory.Context("local").Transport.RunCheckedAsync(new Command("hostname", []), ct);
            Assert.That(again.StandardOutput.Trim(), Is.EqualTo("runbooks-vm"), "a later process re-attaches from the saved state");
        }
        finally
        {
            leaks = await vm.DestroyAsync(CancellationToken.None);
        }

        Assert.That(leaks, Is.Empty);
        Assert.That(Directory.Exists(work), Is.False);
    }
}
