using System.Globalization;
using System.Net;
using System.Text;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Harness.Drill;

/// <summary>A drill as Markdown for the retrospective: figures first, then every round, then a timeline as inline SVG.</summary>
public static class DrillReportWriter
{
    private const int Width = 760;
    private const int Left = 70;
    private const int Right = 20;
    private const int Row = 26;
    private const int Top = 10;
    private const int BandHeight = 30;

    // Slices of the time axis the availability line has a point for.
    private const int Slices = 150;

    public static string Markdown(DrillReport report)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        var recovered = report.Rounds.Count(r => r.Recovered);
        Line($"# Drill: {report.Scenario} — {(report.Passed ? "PASSED" : "FAILED")}");
        Line();
        Line($"- Runbook: `{report.Runbook}`");
        Line($"- Backend: {report.Backend}; seed {report.Seed}; {report.RoundsRequested} round(s), a fault every {Seconds(report.Every)}, {Seconds(report.RoundTimeout)} to recover");
        Line($"- Repaired by: {(report.WatchEvery is { } every ? $"a live `runbook watch` every {Seconds(every)} for the whole drill (its journal: watch.jsonl)" : "one converge of the runbook per round, once the fault is seen")}");
        Line($"- Faults chosen from: {(report.Candidates.Count == 0 ? "—" : string.Join(", ", report.Candidates.Select(c => $"`{c}`")))}");
        if (report.NotDrilled.Count > 0)
        {
            Line($"- Not re-applied (the healthy hosts already are as they leave them): {string.Join(", ", report.NotDrilled.Select(c => $"`{c}`"))}");
        }

        Line($"- **MTTR p50 {Seconds(report.Mttr(50))}, p95 {Seconds(report.Mttr(95))}** over {recovered} recovered round(s); failed recoveries: {report.Rounds.Count - recovered}");
        Line($"- Time to detect p50 {Seconds(report.TimeToDetect(50))}, p95 {Seconds(report.TimeToDetect(95))} ({(report.WatchEvery is null ? "first spec failing after the fault" : "the watch's probe of the drifted step, from its journal")})");
        if (report.Rounds.Any(r => r.AvailabilityPercent is not null))
        {
            Line($"- Availability (the scenario's monitors): lowest round {Percent(report.Rounds.Min(r => r.AvailabilityPercent))}, all rounds {Percent(Availability(report.Rounds.SelectMany(r => r.Samples)))}");
        }

        Line();
        Line("## Setup");
        Line();
        Line("| phase | result | time | detail |");
        Line("|---|---|---:|---|");
        foreach (var phase in report.Setup)
        {
            Line($"| {phase.Name} | {(phase.Passed ? "ok" : "**FAILED**")} | {Seconds(phase.Duration)} | {ReportWriter.Cell(phase.Detail)} |");
        }

        Line();
        Line("## Rounds");
        Line();
        Line("| round | fault at | faults applied | steps broken | detected after | first failing spec | recovered after | converges | detail |");
        Line("|---:|---:|---|---:|---:|---|---:|---:|---|");
        foreach (var round in report.Rounds)
        {
            Line($"| {round.Number} | {Seconds(round.FaultAt)} | {string.Join(", ", round.Faults)} | {round.ChangedSteps} | {Seconds(round.DetectedAfter)} | "
                + $"{ReportWriter.Cell(round.DetectedBy ?? "—")} | {(round.Recovered ? Seconds(round.RecoveredAfter) : "**failed**")} | {round.Converges} | {ReportWriter.Cell(round.Detail)} |");
        }

        if (report.Rounds.Any(r => r.Availability.Count > 0 || r.Samples.Count > 0))
        {
            Line();
            Line("## Availability per round (the scenario's monitors)");
            Line();
            foreach (var round in report.Rounds)
            {
                var percent = round.AvailabilityPercent is null ? "" : $"{Percent(round.AvailabilityPercent)} of requests succeeded; ";
                Line($"- round {round.Number}: {percent}{string.Join("; ", round.Availability.Select(f => $"{f.Key} {f.Value}"))}");
            }
        }

        Line();
        Line("## Timeline");
        Line();
        Line("Per round: the fault (red), unhealthy until every spec holds again (shaded), first spec failing (orange), recovered (green) or not by the timeout (×)."
            + (report.Rounds.Any(r => r.Samples.Count > 0) ? " Below: availability, the share of the monitors' requests that succeeded (line, 0–100 %), failed requests in red." : ""));
        Line();
        Line(Timeline(report));
        return text.ToString();
    }

    /// <summary>The rounds on one time axis from the drill's start, as an SVG element.</summary>
    public static string Timeline(DrillReport report)
    {
        var rounds = report.Rounds;
        var samples = rounds.SelectMany(r => r.Samples).OrderBy(s => s.At).ToList();
        var end = rounds.Count == 0 ? 1 : rounds.Max(r => (r.FaultAt + r.FaultTook + (r.RecoveredAfter ?? report.RoundTimeout)).TotalSeconds);
        end = Math.Max(end, samples.Count == 0 ? 0 : samples[^1].At.TotalSeconds);
        var step = NiceStep(end / 8);
        var axisEnd = Math.Ceiling(end / step) * step;
        double X(double seconds) => Left + (seconds / axisEnd * (Width - Left - Right));
        var band = samples.Count == 0 ? 0 : BandHeight + 10;
        var height = Top + (Math.Max(rounds.Count, 1) * Row) + band + 30;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"white\"/>\n");
        foreach (var round in rounds)
        {
            var y = Top + ((round.Number - 1) * Row);
            var fault = round.FaultAt.TotalSeconds;
            var inPlace = (round.FaultAt + round.FaultTook).TotalSeconds;
            var until = inPlace + (round.RecoveredAfter ?? report.RoundTimeout).TotalSeconds;
            var title = WebUtility.HtmlEncode($"round {round.Number}: {string.Join(", ", round.Faults)}; detected after {Seconds(round.DetectedAfter)}; "
                + (round.Recovered ? $"recovered after {Seconds(round.RecoveredAfter)}" : "no recovery")
                + (round.AvailabilityPercent is null ? "" : $"; availability {Percent(round.AvailabilityPercent)}"));
            svg.Append(CultureInfo.InvariantCulture, $"<g><title>{title}</title>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 15}\">round {round.Number}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(fault):0.#}\" y=\"{y + 4}\" width=\"{Math.Max(1, X(until) - X(fault)):0.#}\" height=\"16\" fill=\"{(round.Recovered ? "#f6c6c6" : "#d9d9d9")}\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(fault):0.#}\" y=\"{y + 4}\" width=\"{Math.Max(2, X(inPlace) - X(fault)):0.#}\" height=\"16\" fill=\"#c62828\"/>\n");
            if (round.DetectedAfter is { } detected)
            {
                var dx = X(inPlace + detected.TotalSeconds);
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{dx:0.#}\" y1=\"{y + 2}\" x2=\"{dx:0.#}\" y2=\"{y + 22}\" stroke=\"#ef6c00\" stroke-width=\"2\"/>\n");
            }

            svg.Append(round.Recovered
                ? string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{X(until):0.#}\" cy=\"{y + 12}\" r=\"5\" fill=\"#2e7d32\"/>\n")
                : string.Create(CultureInfo.InvariantCulture, $"<text x=\"{X(until) - 4:0.#}\" y=\"{y + 16}\" font-size=\"14\" fill=\"black\">×</text>\n"));
            svg.Append("</g>\n");
        }

        if (samples.Count > 0)
        {
            AvailabilityBand(svg, samples, Top + (Math.Max(rounds.Count, 1) * Row) + 4, axisEnd, X);
        }

        var axisY = Top + (Math.Max(rounds.Count, 1) * Row) + band + 4;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{axisY}\" x2=\"{Width - Right}\" y2=\"{axisY}\" stroke=\"#555\"/>\n");
        for (var t = 0.0; t <= axisEnd + (step / 2); t += step)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(t):0.#}\" y1=\"{axisY}\" x2=\"{X(t):0.#}\" y2=\"{axisY + 4}\" stroke=\"#555\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):0.#}\" y=\"{axisY + 16}\" text-anchor=\"middle\">{t:0.##} s</text>\n");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>
    /// The monitors' requests as a band under the rounds: the share that succeeded per slice of the axis as a line from
    /// 0 % (bottom) to 100 % (top), and each failed request as a red tick, so an outage of one request still shows.
    /// </summary>
    private static void AvailabilityBand(StringBuilder svg, List<AvailabilitySample> samples, int y, double axisEnd, Func<double, double> x)
    {
        var slice = axisEnd / Slices;
        svg.Append(CultureInfo.InvariantCulture, $"<g class=\"availability\"><title>availability: {Percent(Availability(samples))} of {samples.Count} monitor requests succeeded</title>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 15}\">availability</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{y}\" width=\"{Width - Left - Right}\" height=\"{BandHeight}\" fill=\"#eef5ee\"/>\n");
        foreach (var failed in samples.Where(s => !s.Ok))
        {
            var fx = x(failed.At.TotalSeconds);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"failed-request\" x1=\"{fx:0.#}\" y1=\"{y}\" x2=\"{fx:0.#}\" y2=\"{y + BandHeight}\" stroke=\"#c62828\"/>\n");
        }

        var points = samples.GroupBy(s => Math.Min(Slices - 1, (int)(s.At.TotalSeconds / slice)))
            .OrderBy(g => g.Key)
            .Select(g => (X: x((g.Key + 0.5) * slice), Y: y + BandHeight - (BandHeight * g.Count(s => s.Ok) / (double)g.Count())))
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X:0.#},{p.Y:0.#}"));
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', points)}\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"1.5\"/>\n");
        svg.Append("</g>\n");
    }

    private static double? Availability(IEnumerable<AvailabilitySample> samples)
    {
        var all = samples.ToList();
        return all.Count == 0 ? null : 100.0 * all.Count(s => s.Ok) / all.Count;
    }

    private static string Percent(double? percent) => percent is { } p ? $"{p.ToString("0.0", CultureInfo.InvariantCulture)} %" : "—";

    // 1, 2 or 5 times a power of ten: tick marks a person reads at a glance.
    private static double NiceStep(double rough)
    {
        if (rough <= 0)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var scaled = rough / power;
        return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
    }

    /// <summary>A time as the report shows it: <c>1.23 s</c>, or a dash when there is none.</summary>
    public static string Seconds(TimeSpan? span) => span is { } s ? $"{s.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s" : "—";
}
