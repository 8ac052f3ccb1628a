using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Kernel parameters: read with <c>sysctl -n</c>, set with <c>sysctl -w</c>, optionally persisted under <c>/etc/sysctl.d</c>.</summary>
public static class Sysctl
{
    /// <summary>The key has this value now (and, with <c>.Persisted()</c>, after a reboot).</summary>
    /// <example><c>Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "0")</c></example>
    public static SysctlStep Value(string key, string value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"sysctl value '{value}' for {key} must be one non-empty line", nameof(value));
        }

        return new SysctlStep(DslArguments.SysctlKey(key), value.Trim(), false);
    }

    /// <summary>Reads a key's value (a fact for a check).</summary>
    /// <example><c>await Sysctl.ReadAsync(host, "net.ipv4.ip_forward", ct)</c></example>
    public static async Task<string> ReadAsync(HostContext host, string key, CancellationToken cancellationToken)
    {
        var result = await host.ReadAsync(new Command("sysctl", ["-n", DslArguments.SysctlKey(key)]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10)), cancellationToken).ConfigureAwait(false);
        return Normalize(result.StandardOutput);
    }

    // Multi-value keys (net.ipv4.ip_local_port_range) print tab-separated; sysctl -w accepts spaces.
    internal static string Normalize(string value) => string.Join(' ', value.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>A sysctl key with a value, live and optionally persisted.</summary>
public sealed class SysctlStep : Step
{
    private readonly string _key;
    private readonly string _value;
    private readonly bool _persist;

    internal SysctlStep(string key, string value, bool persist)
    {
        _key = key;
        _value = value;
        _persist = persist;
    }

    /// <summary>Also writes <c>/etc/sysctl.d/90-runbook-KEY.conf</c> so the value survives a reboot.</summary>
    /// <example><c>Sysctl.Value("net.ipv4.ip_forward", "1").Persisted()</c></example>
    public SysctlStep Persisted() => new(_key, _value, true);

    public override string Description => $"sysctl {_key} = {_value}{(_persist ? $" (persisted in {PersistPath})" : "")}";

    private string PersistPath => $"/etc/sysctl.d/90-runbook-{_key}.conf";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var current = await Sysctl.ReadAsync(host, _key, cancellationToken).ConfigureAwait(false);
        var actions = new List<StepAction>();
        var observed = $"{_key} = {current}";
        if (current != Sysctl.Normalize(_value))
        {
            // sysctl exits 0 after "sysctl: permission denied on key …" or an unknown key in some versions:
            // stderr is the verdict.
            actions.Add(new RunCommand(new Command("sysctl", ["-w", $"{_key}={_value}"]))
            {
                StderrMeansFailure = true,
                Undo = Reversal.By($"sysctl {_key} back to {current}", new Command("sysctl", ["-n", _key]).WithTimeout(TimeSpan.FromSeconds(10)), new Command("sysctl", ["-w", $"{_key}={current}"])),
            });
        }

        if (_persist)
        {
            var file = await host.ReadAsync(new Command("cat", [PersistPath]).AsReadOnly().WithSuccessExitCodes(0, 1), cancellationToken).ConfigureAwait(false);
            var wanted = $"{_key} = {_value}\n";
            observed += file.ExitCode == 0 ? $"; {PersistPath}: {file.StandardOutput.Trim()}" : $"; {PersistPath} missing";
            if (file.ExitCode != 0 || file.StandardOutput != wanted)
            {
                actions.Add(file.ExitCode == 0 ? WriteFile.Replacing(PersistPath, file.StandardOutput, wanted, "0644") : WriteFile.New(PersistPath, wanted, "0644"));
            }
        }

        return actions.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, actions);
    }
}
