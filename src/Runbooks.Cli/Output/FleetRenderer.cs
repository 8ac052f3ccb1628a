using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Runbooks.Fleet;

namespace Runbooks.Cli.Output;

/// <summary>A fleet run's closing table, and a compliance plan as text, Markdown, JSON or JUnit XML.</summary>
internal static class FleetRenderer
{
    public static string Summary(FleetSummary summary)
    {
        var text = new StringBuilder().AppendLine();
        var width = Math.Max(7, summary.Machines.Count == 0 ? 0 : summary.Machines.Max(m => m.Machine.Name.Length));
        text.AppendLine($"{"machine".PadRight(width)}  {"status",-11}  {"time",8}  {"changed",7}  roles");
        foreach (var machine in summary.Machines)
        {
            text.AppendLine($"{machine.Machine.Name.PadRight(width)}  {Status(machine.Status),-11}  {machine.Duration.TotalSeconds,7:0.00}s  {machine.Changes,7}  {string.Join(", ", machine.Machine.Roles.Select(r => r.Role))}");
            if (machine.Error is not null && machine.Status != MachineStatus.NotRun)
            {
                text.AppendLine($"{new string(' ', width)}  {machine.Error.Replace("\n", $"\n{new string(' ', width)}  ", StringComparison.Ordinal)}");
            }
        }

        if (summary.StoppedBecause is not null)
        {
            text.AppendLine(summary.StoppedBecause);
        }

        var counts = summary.Machines.GroupBy(m => m.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Status(g.Key)}");
        text.AppendLine($"{(summary.Succeeded ? "done" : "FAILED")}: {summary.Machines.Count} machine(s): {string.Join(", ", counts)} in {summary.Duration.TotalSeconds:0.00} s");
        return text.ToString();
    }

    public static string Status(MachineStatus status) => status switch
    {
        MachineStatus.Changed => "changed",
        MachineStatus.Unchanged => "unchanged",
        MachineStatus.Planned => "planned",
        MachineStatus.Failed => "failed",
        MachineStatus.Unreachable => "unreachable",
        MachineStatus.Refused => "refused",
        _ => "not run",
    };

    public static string Compliance(IReadOnlyList<RoleCompliance> roles, string format, string constellation) => format switch
    {
        "json" => Json(roles, constellation),
        "markdown" => Markdown(roles, constellation),
        "junit" => JUnit(roles, constellation),
        _ => Text(roles),
    };

    private static string Word(ComplianceStatus status) => status switch
    {
        ComplianceStatus.Compliant => "compliant",
        ComplianceStatus.Drift => "drift",
        ComplianceStatus.Unreachable => "unreachable",
        _ => "error",
    };

    private static string Text(IReadOnlyList<RoleCompliance> roles)
    {
        var text = new StringBuilder();
        foreach (var machine in roles.GroupBy(r => (r.Machine, r.Address)))
        {
            text.AppendLine($"machine {machine.Key.Machine} ({machine.Key.Address})");
            foreach (var role in machine)
            {
                text.AppendLine($"  {role.Role}: {Word(role.Status)}{(role.Error is null ? "" : $" — {role.Error}")}");
                foreach (var step in role.Drift)
                {
                    text.AppendLine($"    {step.Decision}: {step.Target} step {step.Step}: {step.Description}");
                    text.AppendLine($"      observed: {step.Observed}");
                    foreach (var reason in step.Unmet)
                    {
                        text.AppendLine($"      precondition: {reason}");
                    }

                    foreach (var action in step.Actions)
                    {
                        text.AppendLine($"      {action}");
                    }
                }
            }
        }

        text.AppendLine(Verdict(roles));
        return text.ToString();
    }

    private static string Verdict(IReadOnlyList<RoleCompliance> roles) =>
        $"{roles.Count} role placement(s): " + string.Join(", ", roles.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Word(g.Key)}"));

    private static string Markdown(IReadOnlyList<RoleCompliance> roles, string constellation)
    {
        var text = new StringBuilder().AppendLine($"## Compliance of `{Path.GetFileName(constellation)}`").AppendLine();
        text.AppendLine("| machine | role | status | steps that would change |").AppendLine("|---|---|---|---|");
        foreach (var role in roles)
        {
            var steps = role.Drift.Count == 0 ? (role.Error ?? "") : string.Join("<br>", role.Drift.Select(d => $"{d.Target} #{d.Step}: {d.Description}"));
            text.AppendLine($"| {role.Machine} | {role.Role} | {(role.Status == ComplianceStatus.Compliant ? "✅" : "❌")} {Word(role.Status)} | {steps.Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        foreach (var role in roles.Where(r => r.Drift.Count > 0))
        {
            text.AppendLine().AppendLine($"### {role.Machine} · {role.Role}").AppendLine();
            foreach (var step in role.Drift)
            {
                text.AppendLine($"- **{step.Decision}** `{step.Target}` step {step.Step}: {step.Description} (observed: {step.Observed})");
                text.AppendLine("  ```");
                foreach (var action in step.Actions)
                {
                    text.AppendLine($"  {action}");
                }

                text.AppendLine("  ```");
            }
        }

        return text.AppendLine().AppendLine(Verdict(roles)).ToString();
    }

    private static string Json(IReadOnlyList<RoleCompliance> roles, string constellation)
    {
        var document = new JsonObject
        {
            ["schema"] = "runbooks-compliance/1",
            ["constellation"] = constellation,
            ["drifted"] = roles.Count(r => r.Status == ComplianceStatus.Drift),
            ["unreachable"] = roles.Count(r => r.Status == ComplianceStatus.Unreachable),
            ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode?)new JsonObject
            {
                ["machine"] = r.Machine,
                ["address"] = r.Address,
                ["role"] = r.Role,
                ["status"] = Word(r.Status),
                ["error"] = r.Error,
                ["drift"] = new JsonArray([.. r.Drift.Select(d => (JsonNode?)new JsonObject
                {
                    ["target"] = d.Target,
                    ["step"] = d.Step,
                    ["description"] = d.Description,
                    ["decision"] = d.Decision,
                    ["observed"] = d.Observed,
                    ["unmet"] = new JsonArray([.. d.Unmet.Select(u => (JsonNode?)u)]),
                    ["actions"] = new JsonArray([.. d.Actions.Select(a => (JsonNode?)a)]),
                })]),
            })]),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>A test suite per machine, a test case per role: drift is a failure, unreachable an error.</summary>
    private static string JUnit(IReadOnlyList<RoleCompliance> roles, string constellation)
    {
        var suites = new XElement("testsuites", new XAttribute("name", Path.GetFileName(constellation)),
            roles.GroupBy(r => r.Machine).Select(machine => new XElement("testsuite",
                new XAttribute("name", machine.Key),
                new XAttribute("tests", machine.Count()),
                new XAttribute("failures", machine.Count(r => r.Status == ComplianceStatus.Drift)),
                new XAttribute("errors", machine.Count(r => r.Status is ComplianceStatus.Unreachable or ComplianceStatus.Error)),
                machine.Select(role => new XElement("testcase",
                    new XAttribute("classname", $"constellation.{machine.Key}"),
                    new XAttribute("name", role.Role),
                    role.Status switch
                    {
                        ComplianceStatus.Drift => new XElement("failure",
                            new XAttribute("message", $"{role.Drift.Count} step(s) drifted"),
                            string.Join("\n", role.Drift.Select(d => $"{d.Target} step {d.Step}: {d.Description} ({d.Decision}; observed: {d.Observed})\n" + string.Join("\n", d.Actions.Select(a => "  " + a))))),
                        ComplianceStatus.Unreachable or ComplianceStatus.Error => new XElement("error", new XAttribute("message", $"{Word(role.Status)}: {role.Error}")),
                        _ => null,
                    })))));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), suites).ToString() + "\n";
    }
}
