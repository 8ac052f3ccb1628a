using Runbooks.Harness.Drill;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Harness.Drill;

/// <summary>The drill's pure parts: the seeded fault chooser, the figures and the report; and what it refuses before anything boots.</summary>
public class DrillTests
{
    private static readonly string[] Candidates = ["server-broken", "client-broken", "app-installed"];

    [Test]
    public void The_same_seed_chooses_the_same_faults_every_time()
    {
        var first = FaultChooser.Choose(Candidates, 20, seed: 1);
        var again = FaultChooser.Choose(Candidates, 20, seed: 1);
        Assert.That(again, Is.EqualTo(first));
    }

    [Test]
    public void Seed_1_chooses_this_sequence_on_every_runtime()
    {
        // Pinned (SplitMix64 from seed 1): a change here changes every recorded drill's faults.
        var chosen = FaultChooser.Choose(Candidates, 4, seed: 1).Select(r => string.Join("+", r));
        Assert.That(chosen, Is.EqualTo(new[] { "server-broken", "server-broken+client-broken+app-installed", "client-broken+app-installed", "server-broken+client-broken" }));
    }

    [Test]
    public void Every_round_applies_a_non_empty_subset_in_the_candidates_order()
    {
        var rounds = FaultChooser.Choose(Candidates, 200, seed: 7);
        Assert.Multiple(() =>
        {
            Assert.That(rounds, Has.All.Not.Empty);
            Assert.That(rounds.Select(r => r.All(Candidates.Contains) && r.SequenceEqual(Candidates.Where(r.Contains))), Is.All.True);
            Assert.That(rounds.Select(r => string.Join("+", r)).Distinct().Count(), Is.EqualTo(7), "all 2^3 - 1 subsets occur");
        });
    }

    [Test]
    public void Different_seeds_choose_different_sequences() =>
        Assert.That(FaultChooser.Choose(Candidates, 10, seed: 2), Is.Not.EqualTo(FaultChooser.Choose(Candidates, 10, seed: 3)));

    [Test]
    public void A_single_candidate_is_every_round_s_fault() =>
        Assert.That(FaultChooser.Choose(["broken"], 5, seed: 42), Has.All.EqualTo(new[] { "broken" }));

    [Test]
    public void Mttr_is_the_nearest_rank_percentile_of_the_recovered_rounds()
    {
        var report = Report();
        Assert.Multiple(() =>
        {
            Assert.That(report.Mttr(50), Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(report.Mttr(95), Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(report.Passed, Is.False, "a failed recovery fails the drill");
        });
    }

    [Test]
    public void The_report_has_the_figures_every_round_and_an_inline_svg_timeline()
    {
        var markdown = DrillReportWriter.Markdown(Report());
        Assert.Multiple(() =>
        {
            Assert.That(markdown, Does.StartWith("# Drill: connection — FAILED"));
            Assert.That(markdown, Does.Contain("**MTTR p50 2.00 s, p95 3.00 s** over 3 recovered round(s); failed recoveries: 1"));
            Assert.That(markdown, Does.Contain("| 4 | 30.00 s | client-broken | 1 | — | — | **failed** | 5 | no recovery |"));
            Assert.That(markdown, Does.Contain("<svg xmlns=\"http://www.w3.org/2000/svg\"").And.Contain("</svg>"));
            Assert.That(System.Text.RegularExpressions.Regex.Count(markdown, "<circle "), Is.EqualTo(3), "one recovery mark per recovered round");
            Assert.That(markdown, Does.Contain(">×</text>"), "the failed recovery is marked");
        });
    }

    [Test]
    public void The_timeline_draws_the_monitors_availability_under_the_rounds_and_the_report_gives_it_per_round()
    {
        var report = Report();
        // Round 1: 10 requests from 0 to 0.45 s, the 3rd and 4th failed; round 2: 10 requests from 10 s, all good; rounds 3 and 4: none.
        report.Rounds[0] = report.Rounds[0] with { Samples = [.. Enumerable.Range(0, 10).Select(i => new AvailabilitySample(TimeSpan.FromSeconds(i * 0.05), i is not (2 or 3)))] };
        report.Rounds[1] = report.Rounds[1] with { Samples = [.. Enumerable.Range(0, 10).Select(i => new AvailabilitySample(TimeSpan.FromSeconds(10 + (i * 0.05)), true))] };
        var markdown = DrillReportWriter.Markdown(report);
        var svg = DrillReportWriter.Timeline(report);
        var band = System.Text.RegularExpressions.Regex.Match(svg, "<g class=\"availability\">(.*?)</g>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        var points = System.Text.RegularExpressions.Regex.Match(band, "<polyline points=\"([^\"]*)\"").Groups[1].Value.Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
        var bandTop = int.Parse(System.Text.RegularExpressions.Regex.Match(band, "<rect x=\"70\" y=\"(\\d+)\"").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Multiple(() =>
        {
            Assert.That(report.Rounds.Select(r => r.AvailabilityPercent), Is.EqualTo(new double?[] { 80, 100, null, null }));
            Assert.That(band, Does.Contain("<title>availability: 90.0 % of 20 monitor requests succeeded</title>"));
            Assert.That(System.Text.RegularExpressions.Regex.Count(band, "class=\"failed-request\""), Is.EqualTo(2), "one red tick per failed request");
            Assert.That(points, Has.Count.EqualTo(2), "a point for each slice of the axis that had requests: one slice per round here");
            Assert.That(points[0][1], Is.EqualTo(bandTop + (30 * 0.2)).Within(0.05), "round 1's slice at 80 %: a fifth of the band below its top");
            Assert.That(points[1][1], Is.EqualTo(bandTop).Within(0.05), "round 2's slice at 100 %: the band's top");
            Assert.That(points[1][0], Is.GreaterThan(points[0][0]), "later requests further right");
            Assert.That(svg, Does.Contain("availability 80.0 %"), "round 1's tooltip gives its availability");
            Assert.That(markdown, Does.Contain("- round 1: 80.0 % of requests succeeded"));
            Assert.That(markdown, Does.Contain("- Availability (the scenario's monitors): lowest round 80.0 %, all rounds 90.0 %"));
            Assert.That(markdown, Does.Contain("failed requests in red"));
        });
    }

    [Test]
    public void Without_monitors_the_timeline_has_no_availability_band() =>
        Assert.That(DrillReportWriter.Timeline(Report()), Does.Not.Contain("availability").And.Not.Contain("<polyline"));

    [Test]
    public void A_scenario_with_no_break_targets_is_refused_before_anything_boots()
    {
        var root = Directory.CreateTempSubdirectory("rb-drill-").FullName;
        try
        {
            var scenario = Path.Combine(root, "quiet.scenario.csx");
            System.IO.File.WriteAllText(Path.Combine(root, "quiet.csx"), "Target(\"noop\", \"nothing\", File.Directory(\"/tmp\"));\nawait RunAsync(Args);\n");
            System.IO.File.WriteAllText(scenario, """
                var net = Netns();
                net.Host("web");
                Proves("quiet.csx");
                Spec("tmp-exists", File.Exists("/tmp")).On("web");
                """);
            var (exit, _, error) = CliRunner.Run("harness", "drill", scenario, "--rounds", "1", "-o", Path.Combine(root, "out"));
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(2), error);
                Assert.That(error, Does.Contain("no break targets"));
                Assert.That(Directory.Exists(Path.Combine(root, "out")), Is.False, "nothing was created");
            });
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static DrillReport Report()
    {
        var report = new DrillReport
        {
            Scenario = "connection", Runbook = "wireguard-link.csx", Backend = "netns", Seed = 1, RoundsRequested = 4,
            Every = TimeSpan.FromSeconds(10), RoundTimeout = TimeSpan.FromSeconds(60),
        };
        report.Candidates.AddRange(["server-broken", "client-broken"]);
        foreach (var (n, recovered) in new (int, double?)[] { (1, 1), (2, 2), (3, 3), (4, null) })
        {
            report.Rounds.Add(new DrillRound(n, n == 4 ? ["client-broken"] : ["server-broken"], 1, TimeSpan.FromSeconds(10 * (n - 1)), TimeSpan.FromSeconds(0.2),
                recovered is null ? null : TimeSpan.FromSeconds(0.1), recovered is null ? null : "ping-tunnel (100% loss)",
                recovered is { } r ? TimeSpan.FromSeconds(r) : null, recovered is null ? 5 : 1, recovered is null ? "no recovery" : "repaired"));
        }

        return report;
    }
}
