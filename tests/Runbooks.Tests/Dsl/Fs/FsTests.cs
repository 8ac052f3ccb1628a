using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Fs;

public class FsTests
{
    private const string Data = "/tmp/rb-storage-dsl/data";

    [Test]
    public void Findmnt_gives_options_and_usage_as_df_counts_it()
    {
        var rw = FsParser.ParseMounts(Fixture.Read("fs/findmnt-data-rw.json")).Single();

        // df -B1 on the same mount printed 34%.
        Assert.That((rw.IsReadOnly, rw.Source, rw.UsedPercent), Is.EqualTo((false, "/dev/loop3", 34)));
    }

    [Test]
    public async Task Usage_of_the_filesystem_a_path_lives_on_names_that_mount()
    {
        // findmnt --target on a file below the mount reports the mount holding it (recorded: 34% used).
        var host = new FakeTransport().On(FsReads.Containing("/tmp/rb-storage-dsl/data/objects/a.bin"), Fixture.Read("fs/findmnt-data-rw.json"));

        var under40 = await Runbooks.Dsl.Fs.Of("/tmp/rb-storage-dsl/data/objects/a.bin").UsageBelow(40).EvaluateAsync(host.Context(), CancellationToken.None);
        var under30 = await Runbooks.Dsl.Fs.Of("/tmp/rb-storage-dsl/data/objects/a.bin").UsageBelow(30).EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That((under40.Holds, under30.Holds), Is.EqualTo((true, false)));
        Assert.That(under30.Observed, Does.StartWith("/tmp/rb-storage-dsl/data: 34% of"));
    }

    [Test]
    public void Tune2fs_size_is_block_count_times_block_size() =>
        Assert.That(FsParser.ParseTune2fsSize(Fixture.Read("fs/tune2fs-l-loop3.txt")), Is.EqualTo(184320L * 1024));

    [Test]
    public async Task Remount_rw_is_planned_for_a_read_only_mount_and_satisfied_once_rw()
    {
        var command = FsReads.Mount(Data);
        var host = new FakeTransport().On(command, Fixture.Read("fs/findmnt-data-ro.json"));
        var after = new FakeTransport().On(command, Fixture.Read("fs/findmnt-data-rw.json"));
        var step = Runbooks.Dsl.Fs.Mount(Data).Writable();

        var before = await step.ProbeAsync(host.Context(), CancellationToken.None);
        var done = await step.ProbeAsync(after.Context(), CancellationToken.None);

        Assert.That(before.Commands.Select(FakeTransport.Key), Is.EqualTo(new[] { $"mount -o remount,rw -- {Data}" }));
        Assert.That(done.Decision, Is.EqualTo(StepDecision.Satisfied));
    }

    [Test]
    public async Task Fstab_fix_rewrites_only_the_data_line_atomically_against_the_content_it_read()
    {
        var fstab = Fixture.Read("fs/fstab-incident");
        var host = new FakeTransport()
            .On(FsReads.Fstab("/etc/fstab"), Fixture.Read("fs/findmnt-fstab-incident.json"))
            .On("cat -- /etc/fstab", fstab);

        var probe = await Runbooks.Dsl.Fs.Fstab("/data").Writable().ProbeAsync(host.Context(), CancellationToken.None);

        var write = probe.Commands.Single();
        var written = write.Stdin!.Value.Reveal();
        var changed = fstab.Split('\n').Zip(written.Split('\n')).Where(p => p.First != p.Second).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange));
            Assert.That(changed, Has.Count.EqualTo(1));
            Assert.That(changed[0].Second, Is.EqualTo("/dev/mapper/vg0-data0\t/data\text4\trw,relatime\t0\t2"));
            Assert.That(write.Arguments[1].Reveal(), Does.Contain("mv -f --"));
            Assert.That(write.Arguments[4].Reveal(), Has.Length.EqualTo(64), "sha256 of the content the plan was made from");
        });
    }

    [TestCase("ro,relatime", "rw,relatime")]
    [TestCase("ro", "rw")]
    [TestCase("defaults,ro", "defaults")]
    [TestCase("rw,noatime", "rw,noatime")]
    public void Writable_options_drop_ro(string options, string expected) =>
        Assert.That(string.Join(',', FsParser.Writable(options.Split(','))), Is.EqualTo(expected));

    [Test]
    public void Relative_or_dotted_paths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Fs.Mount("data"));
        Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Fs.Mount("/data/../etc"));
    }
}

/// <summary>
/// A remount's undo reads <c>findmnt -n -o OPTIONS</c> later, while the run takes the same state from the findmnt
/// report its probe and verify read: both must give the same text for real mounts, or undo would refuse its own run.
/// </summary>
[Category("process")]
public class MountOptionsTests
{
    [TestCase("/")]
    [TestCase("/proc")]
    [TestCase("/tmp/rb-mount-options-nothing-here")]
    public async Task The_options_from_the_mount_report_are_what_findmnt_prints_for_them_alone(string target)
    {
        await using var inventory = Inventory.Local();
        var host = inventory.Context(Inventory.DefaultHost);

        var alone = await host.TryReadAsync(new Runbooks.Commands.Command("findmnt", ["-n", "-o", "OPTIONS", "--mountpoint", target]), CancellationToken.None);
        var fromReport = await host.FactAsync(FsReads.MountOptions(target), CancellationToken.None);

        Assert.That(Reversal.State(fromReport), Is.EqualTo(Reversal.State(alone.StandardOutput)));
        Assert.That(fromReport, target.Contains("nothing", StringComparison.Ordinal) ? Is.Empty : Is.Not.Empty, "a mounted target has options, an unmounted one none");
    }

    [Test, CancelAfter(20_000)]
    public async Task Stacked_mounts_give_one_line_each_in_findmnts_order(CancellationToken cancellationToken)
    {
        // Two tmpfs on one directory inside a private mount namespace, so nothing of the machine's mounts changes.
        var dir = Directory.CreateTempSubdirectory("rb-mount-options-").FullName;
        try
        {
            var script = "mount --make-rprivate / && mount -t tmpfs -o size=1m rb-under \"$1\" && mount -t tmpfs -o ro,size=2m rb-over \"$1\" && " +
                         "findmnt -n -o OPTIONS --mountpoint \"$1\"; echo '--'; findmnt -J -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED,AVAIL --mountpoint \"$1\"";
            await using var local = new Runbooks.Transport.LocalTransport();
            var result = await local.RunAsync(new Runbooks.Commands.Command("unshare", ["-m", "sh", "-c", script, "sh", dir]), cancellationToken);
            if (result.ExitCode != 0)
            {
                Assert.Ignore($"SKIPPED: a private mount namespace with two tmpfs needs root (unshare -m exited {result.ExitCode}: {result.StandardError.Trim()})");
            }

            var parts = result.StandardOutput.Split("--\n", 2);
            var options = FsParser.OptionsLines(parts[1]);

            Assert.That(options, Is.EqualTo(parts[0].TrimEnd('\n')));
            Assert.That(options.Split('\n'), Has.Length.EqualTo(2).And.Some.StartsWith("ro,"));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }
}
