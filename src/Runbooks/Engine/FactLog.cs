using System.Security.Cryptography;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>One fact a decision rested on: a read-only command on a host and a hash of what it answered.</summary>
public sealed record FactRead(string Host, string Command, string Sha256);

/// <summary>
/// The facts read while one step is probed, cached reads included (a fact read by the step before is still
/// one this decision rests on). A saved plan keeps them so a run of it can prove nothing moved since.
/// </summary>
internal sealed class FactLog
{
    private static readonly AsyncLocal<FactLog?> Active = new();
    private readonly List<FactRead> _reads = [];

    public static FactLog? Current => Active.Value;

    /// <summary>Starts logging for the current async flow; the flow's callers are unaffected.</summary>
    public static FactLog Begin() => Active.Value = new FactLog();

    public static void End() => Active.Value = null;

    public IReadOnlyList<FactRead> Reads
    {
        get
        {
            lock (_reads)
            {
                return [.. _reads.DistinctBy(r => (r.Host, r.Command))];
            }
        }
    }

    public async Task<CommandResult> RecordAsync(string host, Command command, Task<CommandResult> read)
    {
        var result = await read.ConfigureAwait(false);
        lock (_reads)
        {
            _reads.Add(new FactRead(host, command.Render(), Hash(command, result)));
        }

        return result;
    }

    // The exit code and stdout are the answer; stderr carries warnings that vary from run to run (LVM's
    // "leaked file descriptor") without changing what was read.
    public static string Hash(Command command, CommandResult result) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{result.ExitCode}\n{command.FactView?.Invoke(result.StandardOutput) ?? result.StandardOutput}")));
}
