using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// One disposable Debian microVM, host <c>local</c>: real loop devices, device-mapper, LVM, ext4; the machine's
    /// root read-only with a scratch overlay. Reached over SSH.
    /// </summary>
    /// <example><c>MicroVm().MemoryMiB(2048).ForwardPort(8000);</c></example>
    public MicroVmDeclaration MicroVm() => Declare(new MicroVmDeclaration());
}

/// <summary>The microVM a scenario needs, refined fluently.</summary>
public sealed class MicroVmDeclaration : BackendDeclaration
{
    private readonly List<int> _ports = [];

    internal MicroVmDeclaration()
    {
    }

    public override string Name => "microvm";

    public override IReadOnlyList<string> HostNames => [Inventory.DefaultHost];

    /// <summary>Guest RAM in MiB (the guest's tmpfs scratch space, e.g. for disk images, comes out of it). Default 1024.</summary>
    public int Memory { get; private set; } = MicroVmBackend.DefaultMemoryMiB;

    /// <summary>Guest TCP ports reachable from the machine running the harness (for monitors).</summary>
    public IReadOnlyList<int> ForwardedPorts => _ports;

    /// <summary>Sets the guest's RAM. Nothing but RAM backs a tmpfs in the guest: add what the break puts there.</summary>
    /// <example><c>MicroVm().MemoryMiB(1024 + (int)(10000 * Scale))</c></example>
    public MicroVmDeclaration MemoryMiB(int mib)
    {
        if (mib is < 256 or > 262_144)
        {
            throw new InvalidRunbookException($"MicroVm().MemoryMiB({mib}): give between 256 and 262144 MiB");
        }

        Memory = mib;
        return this;
    }

    /// <summary>Makes a guest TCP port reachable from the harness machine, e.g. for <c>Monitors.Http</c>.</summary>
    /// <example><c>MicroVm().ForwardPort(8000)</c></example>
    public MicroVmDeclaration ForwardPort(int guestPort)
    {
        if (guestPort is < 1 or > 65535)
        {
            throw new InvalidRunbookException($"MicroVm().ForwardPort({guestPort}): not a TCP port");
        }

        if (!_ports.Contains(guestPort))
        {
            _ports.Add(guestPort);
        }

        return this;
    }

    /// <summary>True when the guest runs systemd as PID 1 (<see cref="Systemd"/>).</summary>
    public bool RunsSystemd { get; private set; }

    /// <summary>
    /// Boots the guest with systemd as PID 1, so <c>Service</c> steps, <c>Autogrow</c> and <c>journalctl</c> meet real
    /// units. systemd boots to a small target of the harness's (sshd and the basic system), not to the host root's own
    /// services; the report's facts name the systemd version. Boot to SSH costs a few seconds more.
    /// </summary>
    /// <example><c>MicroVm().Systemd();</c></example>
    public MicroVmDeclaration Systemd()
    {
        RunsSystemd = true;
        return this;
    }

    internal override string? ReachProblem(string host, int port) =>
        _ports.Contains(port) ? null : $"a monitor polls guest port {port}, which the microVM does not forward; add MicroVm().ForwardPort({port})";

    internal override IBackend CreateBackend() => new MicroVmBackend(memoryMiB: Memory, guestPorts: ForwardedPorts, systemd: RunsSystemd);
}
