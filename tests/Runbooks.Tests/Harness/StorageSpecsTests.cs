using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Scenarios.Storage;
using Runbooks.Harness.Specs;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

public class StorageSpecsTests
{
    private static readonly StorageSizes CiScale = new(0.1);

    private sealed class RecordedHost(string state) : ITransport
    {
        public string Name => "recorded";

        public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
        {
            var file = command.Program switch
            {
                "pvs" => "pvs.json",
                "lvs" => "lvs.json",
                _ => throw new InvalidOperationException($"no recording for {command.Render()}"),
            };
            var text = System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "storage", state, file));
            return Task.FromResult(new CommandResult(0, text, "", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static Task<CheckResult> Evaluate(Check check, string state) =>
        check.EvaluateAsync(new Inventory().Add("local", new RecordedHost(state)).Context("local"), CancellationToken.None);

    [Test]
    public async Task Pv_sizes_fail_on_the_broken_vg_and_name_each_pv()
    {
        var result = await Evaluate(StorageSpecs.PvsFullSize(CiScale), "broken");

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.Contain("/dev/loop1 76 MiB (pe_start 102 MiB)").And.Contain("/dev/loop2 100 MiB"));
    }

    [Test]
    public async Task Pv_sizes_hold_after_the_repair_within_one_extent() =>
        Assert.That((await Evaluate(StorageSpecs.PvsFullSize(CiScale), "repaired")).Holds, Is.True);

    [TestCase("broken", false, "3 PVs")]
    [TestCase("repaired", true, "4 PVs")]
    public async Task Vg0_needs_four_pvs(string state, bool holds, string observed)
    {
        var result = await Evaluate(StorageSpecs.Vg0HasFourPvs(), state);

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Does.StartWith(observed));
    }

    [TestCase("broken", false, "data0 is 288 MiB")]
    [TestCase("repaired", true, "data0 is 412 MiB")]
    public async Task Data0_must_be_4096_MiB_scaled_and_rounded_to_extents(string state, bool holds, string observed)
    {
        var result = await Evaluate(StorageSpecs.Data0Size(CiScale), state);

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Is.EqualTo(observed));
    }

    [Test]
    public void Sizes_scale_from_the_incident_and_round_to_whole_MiB()
    {
        var real = new StorageSizes(1);

        Assert.That((real.DiskMiB, real.Loop1DataOffsetMiB, real.Data0TargetMiB, real.GrownMiB), Is.EqualTo((1800, 1024, 4096, 6144)));
        Assert.That((CiScale.DiskMiB, CiScale.Loop1DataOffsetMiB, CiScale.Data0BrokenMiB, CiScale.Data0TargetMiB, CiScale.GrowthFileMiB), Is.EqualTo((180, 102, 287, 412, 10)));
        Assert.That(CiScale.MediaMiB - (3 * CiScale.DiskMiB) - CiScale.MediaSlackMiB, Is.GreaterThanOrEqualTo(CiScale.DiskMiB),
            "once the held file is released there is room for disk3.img");
    }

    [Test]
    public void The_growth_spec_reads_the_filesystems_own_size_and_dfs_free_space()
    {
        var output = System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "storage", "growth-usage.txt"));

        var usage = DataGrowthSpec.Usage.Parse(output);

        Assert.That(usage.FilesystemBytes, Is.EqualTo(294912L * 1024), "block count × block size, 288 MiB as data0 was broken");
        Assert.That(usage.Size, Is.EqualTo(272522240L), "df's size is smaller: it leaves out ext4's metadata");
        Assert.That(usage.Avail, Is.EqualTo(190283776L));
    }

    [TestCase(400, 300, 10, 8)]  // 300 MiB free of 400: far from 90%, a full batch
    [TestCase(400, 100, 10, 2)]  // 60 MiB above the threshold: six files of room, four kept back
    [TestCase(400, 45, 10, 1)]   // at the threshold: one at a time
    [TestCase(400, 300, 10, 3, 3)] // never more than the files left
    public void The_growth_spec_batches_writes_only_far_from_the_threshold(long sizeMiB, long availMiB, long fileMiB, int expected, int left = 80)
    {
        const long MiB = 1024 * 1024;
        var usage = new DataGrowthSpec.Usage(sizeMiB * MiB, sizeMiB * MiB, availMiB * MiB);

        Assert.That(DataGrowthSpec.FilesToWrite(usage, fileMiB * MiB, left), Is.EqualTo(expected));
    }
}
