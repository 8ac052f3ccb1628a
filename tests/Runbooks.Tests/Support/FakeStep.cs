using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Tests.Support;

/// <summary>A step over a flag in memory: satisfied when the flag is set; applying runs a command and may set it.</summary>
internal sealed class FlagStep(string name, bool satisfied = false, bool lands = true, string? blockedBecause = null) : Step
{
    public bool IsSet { get; private set; } = satisfied;

    public int Applied { get; private set; }

    public override string Description => $"flag {name} set";

    public override Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken) =>
        Task.FromResult(IsSet ? StepProbe.Satisfied("set")
            : blockedBecause is not null ? StepProbe.Blocked("unset", blockedBecause)
            : StepProbe.Change("unset", new Command("set-flag", [name])));

    // Overrides apply only to flip the flag in memory, which no action on a host could do.
    public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
    {
        Applied++;
        await base.ApplyAsync(host, probe, cancellationToken);
        IsSet = lands;
    }
}
