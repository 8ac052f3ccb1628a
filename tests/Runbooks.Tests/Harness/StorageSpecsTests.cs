using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Tests.Support;
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
    private static FakeTransport RecordedHost(string state)
    {
        var host = new FakeTransport("recorded");
        foreach (var report in new[] { "pvs", "vgs", "lvs" })
        {
            host.WhenProgram(report, Fixture.Read($"storage/{state}/{report}.json"));
        }

        return host;
    }

    private static Task<CheckResult> Evaluate(Check check, ITransport host) =>
        check.EvaluateAsync(new Inventory().Add("local", host).Context("local"), CancellationToken.None);

    [Test]
    public void The_scenario_has_the_incidents_specs_and_only_objects_intact_holds_when_broken()
    {
        Assert.That(_ci.Specs.Select(s => (s.Name, s.BrokenByIncident)), Is.EqualTo(new[]
        {
            ("data-writable", true), ("vg0-has-4-pvs", true), ("pvs-full-size", true), ("data0-size", true), ("objects-intact", false), ("pvs-allocatable", true), ("data-grows", true),
        }));
        Assert.That(_ci.Runbook, Does.EndWith("storage-recovery.csx"));
    }

    [Test]
    public void A_drill_polls_every_spec_but_the_growth_load_test()
    {
        // data-grows grows data0 past data0-size's 4G: polled again and again, it would fail data0-size for good.
        Assert.That(_ci.Specs.Where(s => !s.Polled).Select(s => s.Name), Is.EqualTo(new[] { "data-grows" }));
    }

    [TestCase("broken", false, "not allocatable: /dev/loop0")]
    [TestCase("repaired", true, "4 PV(s), all allocatable")]
    public async Task Pvs_allocatable_names_the_pv_left_with_allocation_off(string state, bool holds, string observed)
    {
        var result = await Evaluate(SpecAt(_ci, "pvs-allocatable"), RecordedHost(state));

        Assert.That((result.Holds, result.Observed), Is.EqualTo((holds, observed)));
    }

    [Test]
    public async Task Pv_sizes_fail_on_the_broken_vg_and_name_each_pv()
    {
        var result = await Evaluate(SpecAt(_ci, "pvs-full-size"), RecordedHost("broken"));

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.Contain("/dev/loop1 76 MiB (pe_start 102 MiB)").And.Contain("/dev/loop2 100 MiB"));
    }

    [Test]
    public async Task Pv_sizes_hold_after_the_repair_within_one_extent() =>
        Assert.That((await Evaluate(SpecAt(_ci, "pvs-full-size"), RecordedHost("repaired"))).Holds, Is.True);

    [TestCase("broken", false, "3 PVs")]
    [TestCase("repaired", true, "4 PVs")]
    public async Task Vg0_needs_four_pvs(string state, bool holds, string observed)
    {
        var result = await Evaluate(SpecAt(_ci, "vg0-has-4-pvs"), RecordedHost(state));

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Does.StartWith(observed));
    }

    [TestCase("broken", false, "288 MiB")]
    [TestCase("repaired", true, "412 MiB")]
    public async Task Data0_must_be_4096_MiB_scaled_and_rounded_to_extents(string state, bool holds, string observed)
    {
        var result = await Evaluate(SpecAt(_ci, "data0-size"), RecordedHost(state));

        Assert.That(result.Holds, Is.EqualTo(holds));
        Assert.That(result.Observed, Is.EqualTo(observed));
    }

    [Test]
    public async Task Sizes_and_guest_memory_scale_from_the_incident()
    {
        var real = await HarnessCatalog.LoadAsync("storage", 1);

        Assert.That(SpecAt(real, "pvs-full-size").Description, Is.EqualTo("every vg0 PV is 1800 MiB within one extent"));
        Assert.That(SpecAt(real, "data0-size").Description, Is.EqualTo("vg0/data0 is 4 GiB"));
        Assert.That(SpecAt(real, "data-grows").Description, Is.EqualTo("writing 100 MiB files back to back grows /data to 6144 MiB without a failed write"));
        Assert.That(SpecAt(_ci, "pvs-full-size").Description, Is.EqualTo("every vg0 PV is 180 MiB within one extent"));
        Assert.That(SpecAt(_ci, "data0-size").Description, Is.EqualTo("vg0/data0 is 412 MiB"), "410 MiB rounded up to 4 MiB extents");
        Assert.That(SpecAt(_ci, "data-grows").Description, Is.EqualTo("writing 10 MiB files back to back grows /data to 614 MiB without a failed write"));

        // The guest's RAM backs /media: 5.5 disk images, plus 1 GiB for the system and 256 MiB of headroom.
        var vm = (MicroVmDeclaration)_ci.Backend;
        Assert.That((vm.Memory, ((MicroVmDeclaration)real.Backend).Memory), Is.EqualTo((1024 + 990 + 256, 1024 + 9900 + 256)));
        Assert.That(vm.ForwardedPorts, Is.EqualTo(new[] { 8000 }), "the object service is watched from the harness machine");
    }

    [Test]
    public async Task Data_writable_writes_through_the_transport_and_names_the_error()
    {
        var host = new SimulatedData(readOnly: true);

        var result = await Evaluate(SpecAt(_ci, "data-writable"), host.Transport);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Is.EqualTo("cannot write /data: touch: cannot touch '/data/.runbooks-spec-writable': Read-only file system"));
    }

    [Test, CancelAfter(30_000)]
    public async Task Data_grows_writes_in_one_round_trip_without_waiting_and_reports_the_fill_rate_and_the_smallest_headroom()
    {
        var host = new SimulatedData(growBy: 50 * MiB);

        var result = await Evaluate(SpecAt(_ci, "data-grows"), host.Transport);

        Assert.That(result.Holds, Is.True, result.Observed);
        Assert.That(host.WriterRuns, Is.EqualTo(1), "every file in one round trip: the spec never stops to wait for autogrow");
        // 181 MiB free at 288 MiB; autogrow adds 50 MiB at 90% used, so the goal of 614 MiB takes 7 growths.
        Assert.That(result.Observed, Does.StartWith($"{host.Files} files of 10 MiB back to back in {host.Files * 0.1:0.0} s: fill rate 100.0 MiB/s, smallest headroom {host.SmallestAvail / (double)MiB:0.0} MiB, /data grew from 288 to 638 MiB in 7 growths seen"));
        Assert.That(host.Removed, Is.True, "the spec removes its files");
    }

    [Test, CancelAfter(30_000)]
    public async Task Data_grows_fails_on_a_failed_write_naming_the_free_extents_left_and_still_removes_its_files()
    {
        var host = new SimulatedData(growBy: 50 * MiB, failWriteAt: 3);

        var result = await Evaluate(SpecAt(_ci, "data-grows"), host.Transport);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.StartWith("write of file 3 failed with 73 free extents left in vg0; 2 files of 10 MiB"));
        Assert.That(host.Removed, Is.True);
    }

    [Test, CancelAfter(30_000)]
    public async Task Data_grows_fails_when_the_writer_fills_the_mount_while_the_vg_has_free_extents()
    {
        var host = new SimulatedData(growBy: 0);

        var result = await Evaluate(SpecAt(_ci, "data-grows"), host.Transport);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.StartWith("write of file 19 failed with 73 free extents left in vg0; 18 files of 10 MiB back to back in 1.8 s").And.Contain("smallest headroom 1.0 MiB"));
    }

    /// <summary>
    /// /data as files/grow-data.sh reports it (a line per file: time, filesystem bytes, df size, df avail), each file
    /// taking 0.1 s and autogrow adding a step whenever a file leaves it 90% used; or mounted read-only. vgs answers from
    /// the repaired VM's recording. A full filesystem writes nothing more (the writer's dd would fail).
    /// </summary>
    private sealed class SimulatedData
    {
        private readonly bool _readOnly;
        private readonly long _growBy;
        private readonly int _failWriteAt;

        private long _filesystem = 288 * MiB;
        private long _size = 260 * MiB;
        private long _avail = 181 * MiB;

        public SimulatedData(bool readOnly = false, long growBy = 0, int failWriteAt = 0)
        {
            (_readOnly, _growBy, _failWriteAt) = (readOnly, growBy, failWriteAt);
            Transport = new FakeTransport("simulated").When(_ => true, Answer);
        }

        public FakeTransport Transport { get; }

        public int WriterRuns { get; private set; }

        public int Files { get; private set; }

        public long SmallestAvail { get; private set; } = long.MaxValue;

        public bool Removed { get; private set; }

        private CommandResult Answer(Command command)
        {
            var argv = command.Arguments.Select(a => a.Reveal()).ToList();
            switch (command.Program)
            {
                case "rm":
                    Removed = true;
                    return Answer(0, "");
                case "lvm":
                    return Answer(3, "", "no recording of fullreport");
                case "vgs":
                    return Answer(0, Fixture.Read("storage/repaired/vgs.json"));
                case not "sh":
                    throw new InvalidOperationException($"unexpected {command.Render()}");
            }

            if (argv.Count == 4)
            {
                return _readOnly
                    ? Answer(1, "", "touch: cannot touch '/data/.runbooks-spec-writable': Read-only file system")
                    : Answer(0, "");
            }

            WriterRuns++;
            var (most, mib, goal) = (int.Parse(argv[4]), long.Parse(argv[5]), long.Parse(argv[7]));
            var lines = new System.Text.StringBuilder();
            void Line(int n) => lines.Append(CultureInfo.InvariantCulture, $"{n} {100 + n * 0.1:0.00} {_filesystem} {_size} {_avail}\n");
            Line(0);
            for (var n = 1; n <= most && _filesystem < goal; n++)
            {
                if (n == _failWriteAt || _avail < mib * MiB)
                {
                    return Answer(1, lines.ToString(), $"write of file {n} failed");
                }

                _avail -= mib * MiB;
                if ((_size - _avail) * 10 >= _size * 9)
                {
                    (_filesystem, _size, _avail) = (_filesystem + _growBy, _size + _growBy, _avail + _growBy);
                }

                Files = n;
                SmallestAvail = Math.Min(SmallestAvail, _avail);
                Line(n);
            }

            return Answer(0, lines.ToString());
        }

        private static CommandResult Answer(int exit, string stdout, string stderr = "") => FakeTransport.Result(exit, stdout, stderr);
    }
}
