using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace Runbooks.Harness.Lifecycle;

/// <summary>Writes a harness run as Markdown (for the retrospective) and JUnit XML (for CI).</summary>
public static class ReportWriter
{
    public static string Markdown(HarnessReport report)
    {
        var text = new StringBuilder();
        void Line(string line = "") => text.AppendLine(line);
        Line($"# Harness: {report.Scenario} — {(report.Passed ? "PASSED" : "FAILED")}");
        Line();
        Line($"- Runbook: `{report.Runbook}`");
        Line($"- Backend: {report.Backend}, run `{report.RunId}`, scale {report.Scale.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (key, value) in report.Facts)
        {
            Line($"- {key}: {value}");
        }

        if (report.ConvergeJournal is not null)
        {
            Line($"- Converge journal: `{report.ConvergeJournal}` (`runbook journal show` renders it)");
        }

        Line();
        Line("## Phases");
        Line();
        Line("| phase | result | time | detail |");
        Line("|---|---|---:|---|");
        foreach (var phase in report.Phases)
        {
            Line($"| {phase.Name} | {(phase.Passed ? "ok" : "**FAILED**")} | {phase.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s | {Cell(phase.Detail)} |");
        }

        Line($"| **total** | | {report.Total.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s | |");
        Line();
        Line("## Specs, before and after");
        Line();
        Line("| spec | host | broken by the incident | after break | after converge |");
        Line("|---|---|---|---|---|");
        foreach (var spec in report.Specs)
        {
            Line($"| {spec.Name} | {spec.Host} | {(spec.BrokenByIncident ? "yes" : "no")} | {Verdict(spec.HeldWhenBroken, spec.ObservedWhenBroken, spec.BrokenPhaseOk)} | {Verdict(spec.HeldAfter, spec.ObservedAfter, spec.AfterOk)} |");
        }

        if (report.ConvergeTargets.Count > 0 || report.ConvergeStages.Count > 0)
        {
            Line();
            Line("## Converge");
            Line();
            if (report.ConvergeStages.Count > 0)
            {
                Line($"Converged through {report.ConvergeStages.Count} approved saved plan stage(s), " +
                    $"{(report.ConvergeStages.All(s => s.Equal) ? "each run equal to its plan, action for action" : "NOT every run equal to its plan")}:");
                Line();
                foreach (var stage in report.ConvergeStages)
                {
                    Line($"- {Cell(stage.ToString())}");
                }

                Line();
            }

            foreach (var target in report.ConvergeTargets)
            {
                Line($"- {target}");
            }
        }

        if (report.Monitor.Count > 0)
        {
            Line();
            Line("## Service availability during converge");
            Line();
            foreach (var (key, value) in report.Monitor)
            {
                Line($"- {key}: {value}");
            }
        }

        if (report.Leaks.Count > 0)
        {
            Line();
            Line("## Leaked after destroy");
            Line();
            foreach (var leak in report.Leaks)
            {
                Line($"- {leak}");
            }
        }

        if (report.HowToReach is not null)
        {
            Line();
            Line($"The hosts were kept: {report.HowToReach}");
        }

        return text.ToString();
    }

    public static XDocument JUnit(HarnessReport report)
    {
        var cases = new List<XElement>();
        foreach (var phase in report.Phases)
        {
            cases.Add(Case($"phase {phase.Name}", phase.Duration, phase.Passed ? null : phase.Detail));
        }

        foreach (var spec in report.Specs)
        {
            cases.Add(Case($"spec {spec.Name} fails when broken", TimeSpan.Zero, spec.BrokenPhaseOk ? null : $"passes on the broken hosts ({spec.ObservedWhenBroken}): it proves nothing"));
            cases.Add(Case($"spec {spec.Name} holds after converge", TimeSpan.Zero, spec.AfterOk ? null : spec.ObservedAfter));
        }

        if (report.Leaks.Count > 0)
        {
            cases.Add(Case("destroy leaves nothing behind", TimeSpan.Zero, string.Join("; ", report.Leaks)));
        }

        var suite = new XElement(
            "testsuite",
            new XAttribute("name", $"harness.{report.Scenario}"),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", cases.Count(c => c.Element("failure") is not null)),
            new XAttribute("time", report.Total.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)),
            cases);
        return new XDocument(new XElement("testsuites", suite));

        XElement Case(string name, TimeSpan time, string? failure) => new(
            "testcase",
            new XAttribute("classname", $"harness.{report.Scenario}"),
            new XAttribute("name", name),
            new XAttribute("time", time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)),
            failure is null ? null : new XElement("failure", new XAttribute("message", failure)));
    }

    private static string Verdict(bool? held, string observed, bool ok) =>
        held is null ? "not checked" : $"{(held.Value ? "holds" : "fails")}{(ok ? "" : " **(wrong)**")} — {Cell(observed)}";

    internal static string Cell(string text)
    {
        var flat = text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        return flat.Length > 300 ? flat[..300] + "…" : flat;
    }
}
