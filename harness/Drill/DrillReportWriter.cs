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

    public static string Markdown(DrillReport report)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');
        var recovered = report.Rounds.Count(r => r.Recovered);
        Line($"# Drill: {report.Scenario} — {(report.Passed ? "PASSED" : "FAILED")}");
        Line();
        Line($"- Runbook: `{report.Runbook}`");
        Line($"- Backend: {report.Backend}; seed {report.Seed}; {report.RoundsRequested} round(s), a fault every {Seconds(report.Every)}, {Seconds(report.RoundTimeout)} to recover");
        Line($"- Faults chosen from: {(report.Candidates.Count == 0 ? "—" : string.Join(", ", report.Candidates.Select(c => $"`{c}`")))}");
        Line($"- **MTTR p50 {Seconds(report.Mttr(50))}, p95 {Seconds(report.Mttr(95))}** over {recovered} recovered round(s); failed recoveries: {report.Rounds.Count - recovered}");
        Line($"- Time to detect p50 {Seconds(report.TimeToDetect(50))}, p95 {Seconds(report.TimeToDetect(95))} (first spec failing after the fault)");
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

        if (report.Rounds.Any(r => r.Availability.Count > 0))
        {
            Line();
            Line("## Availability per round (the scenario's monitors)");
            Line();
            foreach (var round in report.Rounds)
            {
                Line($"- round {round.Number}: {string.Join("; ", round.Availability.Select(f => $"{f.Key} {f.Value}"))}");
            }
        }

        Line();
        Line("## Timeline");
        Line();
        Line("Per round: the fault (red), unhealthy until every spec holds again (shaded), first spec failing (orange), recovered (green) or not by the timeout (×).");
        Line();
        Line(Timeline(report));
        return text.ToString();
    }

    /// <summary>The rounds on one time axis from the drill's start, as an SVG element.</summary>
    public static string Timeline(DrillReport report)
    {
        var rounds = report.Rounds;
        var end = rounds.Count == 0 ? 1 : rounds.Max(r => (r.FaultAt + r.FaultTook + (r.RecoveredAfter ?? report.RoundTimeout)).TotalSeconds);
        var step = NiceStep(end / 8);
        var axisEnd = Math.Ceiling(end / step) * step;
        double X(double seconds) => Left + (seconds / axisEnd * (Width - Left - Right));
        var height = Top + (Math.Max(rounds.Count, 1) * Row) + 30;
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
                + (round.Recovered ? $"recovered after {Seconds(round.RecoveredAfter)}" : "no recovery"));
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

        var axisY = Top + (Math.Max(rounds.Count, 1) * Row) + 4;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{axisY}\" x2=\"{Width - Right}\" y2=\"{axisY}\" stroke=\"#555\"/>\n");
        for (var t = 0.0; t <= axisEnd + (step / 2); t += step)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(t):0.#}\" y1=\"{axisY}\" x2=\"{X(t):0.#}\" y2=\"{axisY + 4}\" stroke=\"#555\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):0.#}\" y=\"{axisY + 16}\" text-anchor=\"middle\">{t:0.##} s</text>\n");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

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
