using System.Text.RegularExpressions;
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

    /// <summary>A key's value now, as a fact (multi-value keys with single spaces).</summary>
    /// <example><c>var forwarding = await host.FactAsync(Sysctl.Current("net.ipv4.ip_forward"), ct);</c></example>
    public static Fact<string> Current(string key) =>
        new(new Command("sysctl", ["-n", DslArguments.SysctlKey(key)]).WithTimeout(TimeSpan.FromSeconds(10)), r => Normalize(r.StandardOutput));

    /// <summary>Reads a key's value (a fact for a check).</summary>
    /// <example><c>await Sysctl.ReadAsync(host, "net.ipv4.ip_forward", ct)</c></example>
    public static Task<string> ReadAsync(HostContext host, string key, CancellationToken cancellationToken) => host.FactAsync(Current(key), cancellationToken);

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

    /// <summary>
    /// The value a boot applies is this one too: every file <c>sysctl --system</c> reads is accounted for, in its
    /// order (<see cref="SysctlBoot"/>). When another file decides otherwise, <c>/etc/sysctl.d/90-runbook-KEY.conf</c>
    /// is written, and a line of an administrator's file under <c>/etc</c> read after it that sets another value is rewritten
    /// in place (shown as a diff); a package's or volatile file read after it blocks the step, naming that file and line.
    /// </summary>
    /// <example><c>Sysctl.Value("net.ipv4.ip_forward", "1").Persisted()</c></example>
    public SysctlStep Persisted() => new(_key, _value, true);

    public override string Description => $"sysctl {_key} = {_value}{(_persist ? $" (persisted in {PersistPath})" : "")}";

    public override IEnumerable<IFact> Reads => [Sysctl.Current(_key)];

    public override IEnumerable<ResourceClaim> Claims => [ResourceClaim.Sysctl(_key, Sysctl.Normalize(_value))];

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

        var notes = new List<string>();
        if (_persist)
        {
            var boot = await BootAsync(host, cancellationToken).ConfigureAwait(false);
            observed += boot.Decider is { } decider ? $"; at boot {decider.Value} from {decider}" : "; at boot: no file sets it";
            if (boot.Decider?.Value != Sysctl.Normalize(_value))
            {
                // Where the step's own file lands in the boot order decides whether writing it is any use.
                var wanted = $"{_key} = {_value}\n";
                var order = boot.Files.Contains(PersistPath, StringComparer.Ordinal) ? boot.Files : SysctlBoot.Order(string.Join('\n', [.. boot.Files, PersistPath]), boot.Files.Contains(SysctlBoot.MainFile, StringComparer.Ordinal));
                // A link's lines are its target's (Debian's 99-sysctl.conf is /etc/sysctl.conf): rewritten there, once.
                var later = order.SkipWhile(f => f != PersistPath).Skip(1)
                    .SelectMany(f => SysctlBoot.Settings(boot.Links.GetValueOrDefault(f, f), boot.Texts[f], _key)).Where(s => s.Value != Sysctl.Normalize(_value))
                    .DistinctBy(s => (s.File, s.Line)).ToList();
                if (later.FirstOrDefault(s => !s.Exact || !s.File.StartsWith("/etc/", StringComparison.Ordinal)) is { } foreign)
                {
                    // A package's or a volatile file, or a glob line that sets other keys too: not this step's to rewrite.
                    return StepProbe.Blocked(observed, host.Reason(
                        $"{foreign} sets {_key} = {foreign.Value} and is read after {PersistPath} at boot, so writing it would not persist {_value}; " +
                        (foreign.Exact
                            ? $"mask that file with one of the same name in /etc/sysctl.d, or remove the line (File.LinesAbsent(\"{foreign.File}\", @\"^\\s*{Regex.Escape(_key)}\\s*=\"))"
                            : "that line sets other keys too: change it by hand or with File.Line(…).Replacing(…) before this step")));
                }

                var own = boot.Texts.GetValueOrDefault(PersistPath);
                if (own != wanted)
                {
                    actions.Add(own is null ? WriteFile.New(PersistPath, wanted, "0644") : WriteFile.Replacing(PersistPath, own, wanted, "0644"));
                }

                // An admin's file in /etc read after ours: its line is rewritten where it stands, shown as a diff.
                foreach (var file in later.GroupBy(s => s.File))
                {
                    var text = boot.Texts.First(t => boot.Links.GetValueOrDefault(t.Key, t.Key) == file.Key).Value;
                    var lines = text.Split('\n');
                    foreach (var setting in file)
                    {
                        lines[setting.Line - 1] = $"{_key} = {_value}";
                    }

                    actions.Add(WriteFile.Replacing(file.Key, text, string.Join('\n', lines)));
                }

                var earlier = boot.Settings.Where(s => s.File != PersistPath && !later.Contains(s)).Select(s => s.ToString()).ToList();
                notes.Add(later.Count > 0
                    ? $"decides at boot: {later[^1]}, rewritten to {_value} ({string.Join(", ", later)} read after {PersistPath})"
                    : $"decides at boot: {PersistPath}" + (earlier.Count > 0 ? $", read after {string.Join(", ", earlier)}" : ""));
            }
        }

        return actions.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, actions) with { Notes = notes };
    }

    private sealed record BootFiles(IReadOnlyList<string> Files, IReadOnlyDictionary<string, string> Texts, IReadOnlyDictionary<string, string> Links, IReadOnlyList<SysctlSetting> Settings)
    {
        public SysctlSetting? Decider => Settings.Count > 0 ? Settings[^1] : null;
    }

    // Every file a boot reads, in its order; one that cannot be read (a dangling 99-sysctl.conf link) sets nothing.
    private async Task<BootFiles> BootAsync(HostContext host, CancellationToken cancellationToken)
    {
        var (files, links) = await host.FactAsync(SysctlBoot.Listing, cancellationToken).ConfigureAwait(false);
        await host.PrefetchFilesAsync([.. files, PersistPath], cancellationToken).ConfigureAwait(false);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files.Append(PersistPath).Distinct(StringComparer.Ordinal))
        {
            if (await host.FactAsync(HostContext.FileContentIfReadable(file), cancellationToken).ConfigureAwait(false) is { } text)
            {
                texts[file] = text;
            }
        }

        var present = files.Where(texts.ContainsKey).ToList();
        return new BootFiles(present, texts, links, [.. present.SelectMany(f => SysctlBoot.Settings(f, texts[f], _key))]);
    }
}
