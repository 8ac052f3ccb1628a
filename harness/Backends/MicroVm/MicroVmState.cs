using System.Text.Json;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>What a later process needs to reach or destroy a running VM; saved as JSON in the work directory.</summary>
public sealed record MicroVmState(
    int QemuPid,
    int SshPort,
    IReadOnlyDictionary<int, int> ForwardedPorts,
    string PrivateKeyPath,
    string KnownHostsPath,
    string ConsoleLogPath,
    string Accelerator,
    string KernelRelease,
    string KernelSource,
    int MemoryMiB,
    double BootToSshSeconds,
    string Init = MicroVmState.ShellInit)
{
    /// <summary>What <see cref="Init"/> says when stage 2's shell runs sshd itself (no init system in the guest).</summary>
    public const string ShellInit = "none (sshd under the stage 2 shell)";

    public const string FileName = "microvm.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string PathIn(string workDirectory) => Path.Combine(workDirectory, FileName);

    public void Save(string workDirectory) =>
        System.IO.File.WriteAllText(PathIn(workDirectory), JsonSerializer.Serialize(this, Json));

    public static MicroVmState Load(string workDirectory)
    {
        var path = PathIn(workDirectory);
        if (!System.IO.File.Exists(path))
        {
            throw new RunbookException($"no microVM state at {path}: nothing was started with this work directory (run `runbook harness up` first, or pass the work directory it printed)");
        }

        return JsonSerializer.Deserialize<MicroVmState>(System.IO.File.ReadAllText(path))
            ?? throw new RunbookException($"{path} is empty or corrupt; kill the qemu process by hand (pgrep -a qemu) and remove the directory");
    }

    /// <summary>The guest as a <c>--host</c> address (with RUNBOOK_SSH_KEY and RUNBOOK_KNOWN_HOSTS set to this state's files).</summary>
    public string SshUri => $"ssh://root@127.0.0.1:{SshPort}";

    /// <summary>The host port that reaches <paramref name="guestPort"/> in the VM (qemu user-mode hostfwd).</summary>
    public int HostPortFor(int guestPort) =>
        ForwardedPorts.TryGetValue(guestPort, out var port)
            ? port
            : throw new RunbookException($"guest port {guestPort} is not forwarded by this microVM (forwarded: {(ForwardedPorts.Count == 0 ? "none" : string.Join(", ", ForwardedPorts.Keys))}); declare it with MicroVm().ForwardPort({guestPort})");
}
