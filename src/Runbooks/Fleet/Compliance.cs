using Runbooks.Engine;

namespace Runbooks.Fleet;

public enum ComplianceStatus
{
    /// <summary>Every step of the role holds on the machine.</summary>
    Compliant,

    /// <summary>Some step would change something (or is blocked from doing so).</summary>
    Drift,

    /// <summary>The machine could not be reached; nothing is known.</summary>
    Unreachable,

    /// <summary>A probe failed: the plan could not tell.</summary>
    Error,
}

/// <summary>A step of a role that is not as the constellation says: what it found and what it would do.</summary>
public sealed record DriftedStep(string Target, int Step, string Description, string Decision, string Observed, IReadOnlyList<string> Actions, IReadOnlyList<string> Unmet);

/// <summary>One role on one machine, as a compliance plan found it.</summary>
public sealed record RoleCompliance(string Machine, string Address, string Role, ComplianceStatus Status, IReadOnlyList<DriftedStep> Drift, string? Error);

/// <summary>
/// Answers, per machine and role, whether the hosts are as the constellation describes them — from a read-only
/// plan of every machine (<c>runbook plan CONSTELLATION</c>).
/// </summary>
public static class Compliance
{
    public static IReadOnlyList<RoleCompliance> From(FleetSummary plan) =>
        [.. plan.Machines.SelectMany(m => m.Machine.Roles.Select(r => Role(m, r)))];

    private static RoleCompliance Role(MachineResult machine, PlacedRole role)
    {
        var address = machine.Machine.Transport?.Name ?? machine.Machine.Uri;
        if (machine.Status == MachineStatus.Unreachable || machine.Summary is null)
        {
            var status = machine.Status == MachineStatus.Unreachable ? ComplianceStatus.Unreachable : ComplianceStatus.Error;
            return new RoleCompliance(machine.Machine.Name, address, role.Role, status, [], machine.Error);
        }

        var prefix = role.Role + "/";
        var targets = machine.Summary.Targets.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var drift = targets.SelectMany(t => t.Steps
                .Where(s => s.Outcome is StepOutcome.WillChange or StepOutcome.Blocked)
                .Select(s => new DriftedStep(t.Name[prefix.Length..], s.Index + 1, s.Description, s.Outcome == StepOutcome.Blocked ? "blocked" : "will change", s.Observed, [.. s.Actions.Select(a => a.Summary)], s.Unmet)))
            .ToList();
        var failures = targets.SelectMany(t => t.Steps.Where(s => s.Outcome == StepOutcome.Failed).Select(s => $"{t.Name} step {s.Index + 1}: {s.Error}"))
            .Concat(targets.SelectMany(t => t.Checks.Where(c => c.Probed && !c.Holds).Select(c => $"{t.Name}: {c.Kind} {c.Description}: {c.Observed}")))
            .ToList();
        var error = failures.Count > 0 ? string.Join("; ", failures) : null;
        var verdict = targets.Any(t => t.Steps.Any(s => s.Outcome == StepOutcome.Failed)) ? ComplianceStatus.Error
            : drift.Count > 0 || failures.Count > 0 ? ComplianceStatus.Drift
            : ComplianceStatus.Compliant;
        return new RoleCompliance(machine.Machine.Name, address, role.Role, verdict, drift, error);
    }
}
