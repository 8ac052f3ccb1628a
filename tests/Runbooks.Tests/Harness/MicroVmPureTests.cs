using System.Text;
using Runbooks.Harness.Backends.MicroVm;

namespace Runbooks.Tests.Harness;

public class MicroVmPureTests
{
    private static readonly string[] AllModules = ["fs/9p/9p", "net/9p/9pnet_virtio", "fs/overlayfs/overlay", "drivers/md/dm-mod", "drivers/block/loop"];

    [Test]
    public void The_cloud_flavour_is_never_chosen_because_it_lacks_9p()
    {
        var kernel = KernelLocator.Choose(
            ["/boot/vmlinuz-6.1.0-9-cloud-amd64", "/boot/vmlinuz-6.1.0-8-amd64"],
            release => $"/lib/modules/{release}",
            (_, _) => true,
            "host");

        Assert.That(kernel?.Release, Is.EqualTo("6.1.0-8-amd64"));
    }

    [Test]
    public void The_highest_release_with_its_modules_and_every_required_module_wins()
    {
        var kernel = KernelLocator.Choose(
            ["/boot/vmlinuz-6.1.0-8-amd64", "/boot/vmlinuz-6.12.117+deb12-rt-amd64", "/boot/vmlinuz-6.18.0-1-amd64", "/boot/vmlinuz-6.10.0-1-amd64"],
            release => release == "6.18.0-1-amd64" ? null : $"/lib/modules/{release}",
            (dir, module) => !(dir.Contains("6.1.0-8") is false && dir.Contains("6.10.0") && module == "fs/9p/9p"),
            "host");

        Assert.That(kernel, Is.EqualTo(new GuestKernel("6.12.117+deb12-rt-amd64", "/boot/vmlinuz-6.12.117+deb12-rt-amd64", "/lib/modules/6.12.117+deb12-rt-amd64", "host")));
    }

    [Test]
    public void No_usable_kernel_means_fetching_one() =>
        Assert.That(KernelLocator.Choose(["/boot/vmlinuz-6.1.0-9-cloud-amd64"], r => $"/lib/modules/{r}", (_, _) => true, "host"), Is.Null);

    [Test]
    public void The_kernel_package_is_read_from_apt_cache_depends()
    {
        const string output = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";

        Assert.That(KernelLocator.PackageFromAptDepends(output), Is.EqualTo("linux-image-6.1.0-56-amd64"));
        Assert.That(KernelLocator.PackageFromAptDepends("linux-image-amd64\n"), Is.Null);
    }

    [Test]
    public void A_cached_kernel_is_bind_mounted_over_the_guest_module_directory()
    {
        var cached = new GuestKernel("6.1.0-56-amd64", "/var/cache/runbooks/kernel/x/boot/vmlinuz-6.1.0-56-amd64", "/var/cache/runbooks/kernel/x/lib/modules/6.1.0-56-amd64", "cache");
        var host = cached with { ModulesDirectory = "/lib/modules/6.1.0-56-amd64", Source = "host" };

        Assert.That(GuestScripts.Stage2(cached, "/w/id.pub", "/w/hostkey"), Does.Contain("mount --bind /var/cache/runbooks/kernel/x/lib/modules/6.1.0-56-amd64 /lib/modules/6.1.0-56-amd64"));
        Assert.That(GuestScripts.Stage2(host, "/w/id.pub", "/w/hostkey"), Does.Not.Contain("mount --bind"));
    }

    [Test]
    public void Host_media_is_mounted_read_write_over_9p_at_media_only_when_asked_for()
    {
        var kernel = new GuestKernel("6.1.0-56-amd64", "/boot/vmlinuz-6.1.0-56-amd64", "/lib/modules/6.1.0-56-amd64", "host");

        var shared = GuestScripts.Stage2(kernel, "/w/id.pub", "/w/hostkey", hostMedia: true);

        Assert.That(shared, Does.Contain($"mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 {GuestScripts.HostMediaTag} /media"));
        Assert.That(shared, Does.Not.Contain("cache="), "the guest must not cache the share: a killed qemu may lose only what a power cut loses, the guest page cache");
        Assert.That(GuestScripts.Stage2(kernel, "/w/id.pub", "/w/hostkey"), Does.Not.Contain(GuestScripts.HostMediaTag));
    }

    [Test]
    public void The_systemd_variant_hands_pid_1_to_systemd_with_a_target_that_starts_sshd_and_the_plain_one_runs_sshd_itself()
    {
        var kernel = new GuestKernel("6.1.0-56-amd64", "/boot/vmlinuz-6.1.0-56-amd64", "/lib/modules/6.1.0-56-amd64", "host");

        var systemd = GuestScripts.Stage2(kernel, "/w/id.pub", "/w/hostkey", systemd: true);
        var plain = GuestScripts.Stage2(kernel, "/w/id.pub", "/w/hostkey");

        Assert.That(systemd.TrimEnd(), Does.EndWith($"exec /lib/systemd/systemd --unit={GuestScripts.SystemdTarget}"));
        Assert.That(systemd, Does.Contain($"cat > /etc/systemd/system/{GuestScripts.SystemdTarget} <<'UNIT'\n[Unit]").And.Contain("Requires=runbooks-sshd.service"));
        Assert.That(systemd, Does.Contain("\nExecStart=/usr/sbin/sshd -D -e -f /dev/null ").And.Contain("DefaultEnvironment=DM_DISABLE_UDEV=1"));
        Assert.That(systemd, Does.Contain("log \"starting sshd under systemd\""), $"the boot wait reads the same console marker, '{GuestScripts.Stage2Marker}'");
        Assert.That(plain, Does.Contain("\nexec /usr/sbin/sshd -D -e -f /dev/null ").And.Not.Contain("systemd"));
    }

    [Test]
    public void The_newc_archive_has_aligned_headers_and_a_trailer()
    {
        var cpio = new NewcArchive().Directory("bin").File("init", "#!/bin/sh\n"u8.ToArray(), executable: true).ToCpio();
        var text = Encoding.ASCII.GetString(cpio);

        Assert.That(text, Does.StartWith("070701"));
        Assert.That(cpio.Length % 4, Is.Zero);
        Assert.That(text, Does.Contain("TRAILER!!!"));
        var init = text.IndexOf("init\0", StringComparison.Ordinal);
        var header = text.Substring(init - 110, 110);
        Assert.That(Convert.ToInt32(header.Substring(6 + (8 * 1), 8), 16), Is.EqualTo(0x81ED), "mode: regular file 0755");
        Assert.That(Convert.ToInt32(header.Substring(6 + (8 * 6), 8), 16), Is.EqualTo(10), "file size");
    }

    [Test]
    public void Archive_names_cannot_escape() =>
        Assert.Throws<ArgumentException>(() => new NewcArchive().File("../etc/passwd", []));

    [Test]
    public void Root_modules_come_with_their_dependencies_first_as_debian_12_modules_dep_names_them()
    {
        var modulesDep = System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "kernel", "modules.dep-6.1.0-57-amd64"));

        var order = ModuleOrder.Resolve(modulesDep, ["drivers/virtio/virtio_pci", "net/9p/9pnet_virtio", "fs/9p/9p", "fs/overlayfs/overlay"]).ToList();

        Assert.That(order, Is.Unique);
        Assert.That(order, Is.SupersetOf(new[] { "drivers/virtio/virtio_ring", "drivers/virtio/virtio", "fs/fscache/fscache", "fs/netfs/netfs", "net/9p/9pnet" }),
            "6.1 has these as modules; without them insmod of 9pnet_virtio and 9p fails with 'unknown symbol'");
        Assert.That(order[^1], Is.EqualTo("fs/overlayfs/overlay"));
        var dependencies = ModuleOrder.Parse(modulesDep);
        foreach (var (module, index) in order.Select((m, i) => (m, i)))
        {
            Assert.That(dependencies[module].Select(d => order.IndexOf(d)), Has.All.InRange(0, index - 1), $"{module} is loaded before one of its dependencies");
        }
    }

    [Test]
    public void A_module_the_kernel_builds_in_is_simply_not_loaded()
    {
        // A newer kernel with virtio built in lists no virtio modules at all.
        const string modulesDep = "kernel/net/9p/9pnet.ko.xz:\nkernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz\nkernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz\n";

        var order = ModuleOrder.Resolve(modulesDep, ["drivers/virtio/virtio_pci", "net/9p/9pnet_virtio", "fs/9p/9p"]);

        Assert.That(order, Is.EqualTo(new[] { "net/9p/9pnet", "net/9p/9pnet_virtio", "fs/9p/9p" }));
    }

    [Test, Category("process"), CancelAfter(30_000)]
    public async Task A_key_left_by_a_failed_up_is_replaced_not_asked_about(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("rb-keys-").FullName;
        try
        {
            var key = Path.Combine(dir, "id");
            var local = new Runbooks.Transport.LocalTransport();
            await MicroVmBackend.NewKeyAsync(local, key, "first", ct);
            var first = await System.IO.File.ReadAllTextAsync(key + ".pub", ct);

            await MicroVmBackend.NewKeyAsync(local, key, "second", ct);

            Assert.That(await System.IO.File.ReadAllTextAsync(key + ".pub", ct), Does.EndWith("second\n").And.Not.EqualTo(first));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void The_newest_generic_kernel_apt_offers_is_fetched_not_cloud_or_rt()
    {
        var search = System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "kernel", "apt-cache-search-linux-image.txt"));

        Assert.That(KernelLocator.NewestPackage(search), Is.EqualTo("linux-image-6.12.117+deb12-amd64"));
        Assert.That(KernelLocator.NewestPackage("linux-image-6.1.0-57-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)\n"), Is.Null);
    }
}

public sealed class MicroVmBootRetryTests
{
    [TestCase("[ 10.03] RIP: 0010:get_random_u32+0x2a/0xf0\n[ 10.04] Kernel panic - not syncing: Fatal exception in interrupt\n", "Kernel panic - not syncing: Fatal exception in interrupt")]
    [TestCase("[ 1.2] VFS: Unable to mount root fs on unknown-block(0,0)\n[ 1.3] Kernel panic - not syncing: VFS: Unable to mount root fs\n", null)]
    [TestCase("[ 2.0] Kernel panic - not syncing: No working init found.\n", null)]
    [TestCase("[ 3.0] Run /init as init process\n", null)]
    public void Only_a_panic_that_names_no_configuration_cause_is_worth_a_second_boot(string console, string? expected)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, console);
            var panic = Runbooks.Harness.Backends.MicroVm.MicroVmBackend.TransientPanic(file);
            Assert.That(panic is null ? null : panic[(panic.IndexOf("Kernel", StringComparison.Ordinal))..], Is.EqualTo(expected));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
