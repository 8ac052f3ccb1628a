using Runbooks.Dsl;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Dsl.Autogrow;

/// <summary>
/// The daemon's own awk policy in replay mode, fed samples recorded from real writers (Fixtures/autogrow): what it
/// decides at each sample. Only awk runs; nothing is grown.
/// </summary>
[Category("process")]
public class AutogrowPolicyTests
{
    private const long MiB = 1024 * 1024;
    private const long Step = 50 * MiB;

    private sealed record Sample(double Seconds, long Used, long Avail, long Size, long VgFree, string Decision, double Pause)
    {
        public int Percent => (int)Math.Ceiling(Used * 100.0 / (Used + Avail));

        public bool Grows => Decision != "wait";
    }

    private static async Task<List<Sample>> ReplayAsync(string fixture, CancellationToken ct, long? vgFree = null)
    {
        var lines = Fixture.Read(fixture).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToList();
        if (vgFree is { } free)
        {
            lines = [.. lines.Select(l => string.Join(' ', l.Split(' ').Take(4).Append(free.ToString(CultureInfo.InvariantCulture))))];
        }

        var command = new Command("awk", ["-v", "replay=1", "-v", "threshold=90", "-v", $"step={Step}", "-v", "interval=0.25", "-v", "lead=2", AutogrowScript.Policy])
            .WithStdin(string.Join('\n', lines) + "\n");
        await using var local = new LocalTransport();
        var output = (await local.RunCheckedAsync(command, ct)).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(output, Has.Length.EqualTo(lines.Count), "one decision per sample");
        return [.. lines.Zip(output, (sample, decision) =>
        {
            var s = sample.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var d = decision.Split(' ');
            Assert.That(d[0], Is.EqualTo(sample.Split(' ')[0]), "decisions come in sample order");
            return new Sample(s[0], (long)s[1], (long)s[2], (long)s[3], (long)s[4], d[1], double.Parse(d[2], CultureInfo.InvariantCulture));
        })];
    }

    [Test, CancelAfter(20_000)]
    public async Task A_full_speed_writer_is_met_by_time_to_full_long_before_the_threshold_and_sampled_faster_as_room_runs_out(CancellationToken ct)
    {
        var samples = await ReplayAsync("autogrow/fast-writer-412m.txt", ct);

        var idle = samples.TakeWhile(s => s.Used == samples[0].Used).ToList();
        var first = samples.First(s => s.Grows);
        var full = samples.First(s => s.Avail == 0);
        Assert.Multiple(() =>
        {
            Assert.That(idle, Has.Count.GreaterThan(1));
            Assert.That(idle.Select(s => (s.Decision, s.Pause)), Is.All.EqualTo(("wait", 0.25)), "an idle mount is sampled at the interval");
            Assert.That(first.Percent, Is.LessThan(90), "the rate, not the percentage, called for growth");
            Assert.That(full.Seconds - first.Seconds, Is.GreaterThan(1), "growth was called for more than a second before the writer filled the mount");
            // 292 MiB in the VG is less than two leads of writing at this rate: all of it.
            Assert.That(first.Decision, Is.EqualTo("all"));
            Assert.That(samples.SkipWhile(s => !s.Grows).Where(s => s.Avail < 50 * MiB).Select(s => s.Pause), Is.All.LessThan(0.1), "near full, samples come faster");
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task With_room_in_the_vg_it_grows_by_the_whole_steps_the_rate_needs(CancellationToken ct)
    {
        var samples = await ReplayAsync("autogrow/fast-writer-412m.txt", ct, vgFree: 100 * 1024 * MiB);

        var first = samples.First(s => s.Grows);
        var bytes = long.Parse(first.Decision, CultureInfo.InvariantCulture);
        Assert.That(bytes % Step, Is.Zero, "whole steps");
        Assert.That(bytes / Step, Is.GreaterThan(1), "more than one step for a writer this fast");
        // The rate the policy acted on is at least what the samples so far show over any two of them.
        var before = samples.TakeWhile(s => s != first).Append(first).ToList();
        var rate = before.Zip(before.Skip(1)).Max(p => (p.Second.Used - p.First.Used) / (p.Second.Seconds - p.First.Seconds));
        Assert.That(first.Avail + bytes, Is.GreaterThanOrEqualTo((long)(2 * 2 * rate * 0.99)), "after growing, twice the lead is free at that rate");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_slow_writer_is_grown_one_step_at_the_threshold(CancellationToken ct)
    {
        var samples = await ReplayAsync("autogrow/vm-ci-scale-loaded.txt", ct);

        var first = samples.First(s => s.Grows);
        Assert.That(samples.TakeWhile(s => !s.Grows).Select(s => s.Percent), Is.All.LessThan(90));
        Assert.That(first.Percent, Is.GreaterThanOrEqualTo(90));
        Assert.That(first.Decision, Is.EqualTo(Step.ToString(CultureInfo.InvariantCulture)), "one step");
    }

    [Test, CancelAfter(20_000)]
    public async Task It_stops_when_the_vg_has_nothing_left(CancellationToken ct)
    {
        var samples = await ReplayAsync("autogrow/vm-ci-scale-loaded.txt", ct, vgFree: 0);

        Assert.That(samples.Where(s => s.Grows).Select(s => s.Decision), Is.Not.Empty.And.All.EqualTo("stop"));
    }
}
