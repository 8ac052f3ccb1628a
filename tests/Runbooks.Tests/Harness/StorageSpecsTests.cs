using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

/// <summary>The specs of the shipped storage scenario file, against LVM output recorded in the microVM and a simulated /data.</summary>
public class StorageSpecsTests
{
    private const long MiB = 1024 * 1024;

    private static ScenarioDefinition _ci = null!;

    [OneTimeSetUp]
    public static async Task Load() => _ci = await HarnessCatalog.LoadAsync("storage", 0.1);

    private static Check SpecAt(ScenarioDefinition scenario, string name) => scenario.Specs.Single(s => s.Name == name).Check;

    /// <summary>Answers pvs/vgs/lvs from Fixtures/storage/STATE; no LVM fullreport, so each report is its own command.</summary>
    private sealed class RecordedHost(string state) : ITransport
    {
        public string Name => "recorded";

        public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
        {
            if (command.Program == "lvm")
            {
                return Task.FromResult(new CommandResult(3, "", "no recording of fullreport", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
            }

            var file = command.Program switch
            {
                "pvs" => "pvs.json",
                "vgs" => "vgs.json",
                "lvs" => "lvs.json",
                _ => throw new InvalidOperationException($"no recording for {command.Render()}"),
            };
            var text = System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "storage", state, file));
            return Task.FromResult(new CommandResult(0, text, "", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static Task<CheckResult> Evaluate(Check check, ITransport host) =>
        check.EvaluateAsync(new Inventory().Add("local", host).Context("local"), CancellationToken.None);

    [Test]
    public void The_scenario_has_the_incidents_six_specs_and_only_objects_intact_holds_when_broken()
    {
        Assert.That(_ci.Specs.Select(s => (s.Name, s.BrokenByIncident)), Is.EqualTo(new[]
        {
            ("data-writable", true), ("vg0-has-4-pvs", true), ("pvs-full-size", true), ("data0-size", true), ("objects-intact", false), ("data-grows", true),
        }));
        Assert.That(_ci.Runbook, Does.EndWith("storage-recovery.csx"));
    }

    [Test]
    public async Task Pv_sizes_fail_on_the_broken_vg_and_name_each_pv()
    {
        var result = await Evaluate(SpecAt(_ci, "pvs-full-size"), new RecordedHost("broken"));

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.Contain("/dev/loop1 76 MiB (pe_start 102 MiB)").And.Contain("/dev/loop2 100 MiB"));
    }

    [Test]
    public async Task Pv_sizes_hold_after_the_repair_within_one_extent() =>
        Assert.That((await Evaluate(SpecAt(_ci, "pvs-full-size"), new RecordedHost("repaired"))).Holds, Is.True);

    [TestCase("broken", false, "3 PVs")]
    [TestCase("repaired", true, "4 PVs")]
    public async Task Vg0_needs_four_pvs(string state, bool holds, string observed)
    {
        var result = await Evaluate(SpecAt(_ci, "vg0-has-4-pvs"), new RecordedHost(state));

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Does.StartWith(observed));
    }

    [TestCase("broken", false, "288 MiB")]
    [TestCase("repaired", true, "412 MiB")]
    public async Task Data0_must_be_4096_MiB_scaled_and_rounded_to_extents(string state, bool holds, string observed)
    {
        var result = await Evaluate(SpecAt(_ci, "data0-size"), new RecordedHost(state));

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Is.EqualTo(observed));
    }

    [Test]
    public async Task Sizes_and_guest_memory_scale_from_the_incident()
    {
        var real = await HarnessCatalog.LoadAsync("storage", 1);

        Assert.That(SpecAt(real, "pvs-full-size").Description, Is.EqualTo("every vg0 PV is 1800 MiB within one extent"));
        Assert.That(SpecAt(real, "data0-size").Description, Is.EqualTo("vg0/data0 is 4 GiB"));
        Assert.That(SpecAt(real, "data-grows").Description, Is.EqualTo("writing 100 MiB files grows /data to 6144 MiB without a failed write"));
        Assert.That(SpecAt(_ci, "pvs-full-size").Description, Is.EqualTo("every vg0 PV is 180 MiB within one extent"));
        Assert.That(SpecAt(_ci, "data0-size").Description, Is.EqualTo("vg0/data0 is 412 MiB"), "410 MiB rounded up to 4 MiB extents");
        Assert.That(SpecAt(_ci, "data-grows").Description, Is.EqualTo("writing 10 MiB files grows /data to 614 MiB without a failed write"));

        // The guest's RAM backs /media: 5.5 disk images, plus 1 GiB for the system and 256 MiB of headroom.
        var vm = (MicroVmDeclaration)_ci.Backend;
        Assert.That((vm.Memory, ((MicroVmDeclaration)real.Backend).Memory), Is.EqualTo((1024 + 990 + 256, 1024 + 9900 + 256)));
        Assert.That(vm.ForwardedPorts, Is.EqualTo(new[] { 8000 }), "the object service is watched from the harness machine");
    }

    [Test]
    public async Task Data_writable_writes_through_the_transport_and_names_the_error()
    {
        var host = new SimulatedData(readOnly: true);

        var result = await Evaluate(SpecAt(_ci, "data-writable"), host);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Is.EqualTo("cannot write /data: touch: cannot touch '/data/.runbooks-spec-writable': Read-only file system"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Data_grows_holds_when_autogrow_grows_the_filesystem_and_batches_writes_only_far_from_the_threshold()
    {
        var host = new SimulatedData(growBy: 50 * MiB);

        var result = await Evaluate(SpecAt(_ci, "data-grows"), host);

        Assert.That(result.Holds, Is.True, result.Observed);
        Assert.That(result.Observed, Does.StartWith("/data grew from 288 to "));
        Assert.That(host.FilesPerWrite[0], Is.EqualTo(8), "far from 90% used, eight files in one round trip");
        Assert.That(host.FilesPerWrite, Has.Some.EqualTo(1), "near the threshold, one at a time");
        Assert.That(host.Removed, Is.True, "the spec removes its files");
    }

    [Test, CancelAfter(30_000)]
    public async Task Data_grows_fails_on_a_failed_write_and_still_removes_its_files()
    {
        var host = new SimulatedData(growBy: 50 * MiB, failWrites: true);

        var result = await Evaluate(SpecAt(_ci, "data-grows"), host);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.StartWith("a write failed: write of file 1 failed"));
        Assert.That(host.Removed, Is.True);
    }

    /// <summary>
    /// /data as files/grow-data.sh reports it (filesystem bytes, df size, df avail), growing by a step whenever a write
    /// leaves it 90% used, as the runbook's autogrow does; or mounted read-only.
    /// </summary>
    private sealed class SimulatedData(bool readOnly = false, long growBy = 0, bool failWrites = false) : ITransport
    {
        private long _filesystem = 288 * MiB;
        private long _size = 260 * MiB;
        private long _avail = 181 * MiB;

        public string Name => "simulated";

        public List<int> FilesPerWrite { get; } = [];

        public bool Removed { get; private set; }

        public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
        {
            var argv = command.Arguments.Select(a => a.Reveal()).ToList();
            if (command.Program == "rm")
            {
                Removed = true;
                return Answer(0, "");
            }

            if (command.Program != "sh")
            {
                throw new InvalidOperationException($"unexpected {command.Render()}");
            }

            if (argv.Count == 4)
            {
                return readOnly
                    ? Answer(1, "", "touch: cannot touch '/data/.runbooks-spec-writable': Read-only file system")
                    : Answer(0, "");
            }

            var (first, count, mib) = (int.Parse(argv[4]), int.Parse(argv[5]), long.Parse(argv[6]));
            if (count > 0)
            {
                if (failWrites)
                {
                    return Answer(1, "", $"write of file {first} failed");
                }

                FilesPerWrite.Add(count);
                _avail -= count * mib * MiB;
                if ((_size - _avail) * 10 >= _size * 9)
                {
                    (_filesystem, _size, _avail) = (_filesystem + growBy, _size + growBy, _avail + growBy);
                }
            }

            return Answer(0, $"{_filesystem} {_size} {_avail}\n");
        }

        private static Task<CommandResult> Answer(int exit, string stdout, string stderr = "") =>
            Task.FromResult(new CommandResult(exit, stdout, stderr, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
