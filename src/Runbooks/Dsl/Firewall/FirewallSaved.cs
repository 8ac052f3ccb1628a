using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

public static partial class Firewall
{
    /// <summary>
    /// The saved rules (<c>iptables-save</c> format, as <c>iptables-restore</c> and netfilter-persistent load them at
    /// boot) are exactly the live rules of every table: written atomically, with a diff in the plan, when they differ.
    /// Put it after the rule steps of the same target so it saves what they made.
    /// </summary>
    /// <example><c>Firewall.Saved(IpFamily.V4)</c></example>
    public static Step Saved(IpFamily family, string? path = null) =>
        new FirewallSavedStep(family, DslArguments.AbsolutePath(path ?? (family == IpFamily.V6 ? "/etc/iptables/rules.v6" : "/etc/iptables/rules.v4")));

    /// <summary>Every table, as <c>iptables-restore</c> reads it back.</summary>
    internal static Command SaveAll(IpFamily family) =>
        new Command(Tool(family) + "-save", []).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20)).WithFactView(WithoutClockAndCounters);

    /// <summary>
    /// A dump as it is compared and saved: no clock comments, chain counters zeroed (they move with every packet,
    /// and <c>iptables-restore</c> does not need them).
    /// </summary>
    internal static string Comparable(string save) =>
        string.Concat(save.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => (l.StartsWith(':') ? Counters().Replace(l, "") + " [0:0]" : l) + "\n"));
}

/// <summary>The saved rules file holds the live rules.</summary>
public sealed class FirewallSavedStep(IpFamily family, string path) : Step
{
    public override string Description => $"{path} holds the live {Firewall.Tool(family)} rules";

    private Fact<string> Live => new(Firewall.SaveAll(family), r => Firewall.Comparable(r.StandardOutput));

    public override IEnumerable<IFact> Reads => [Live, HostContext.FileContentIfReadable(path)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var live = await host.FactAsync(Live, cancellationToken).ConfigureAwait(false);
        var rules = FirewallParser.Parse(family, live).Rules.Length;
        var saved = await host.FactAsync(HostContext.FileContentIfReadable(path), cancellationToken).ConfigureAwait(false);
        if (saved is null)
        {
            // The directory may be made by an earlier step of the same run: the guard proves it right before the write.
            return StepProbe.Act($"{path} absent; {rules} live rule(s)", new Guard(FileProbe.IsDirectory(DslArguments.Parent(path))), WriteFile.New(path, live, "0640"));
        }

        return Firewall.Comparable(saved) == live
            ? StepProbe.Satisfied($"{path} holds the {rules} live rule(s)")
            : StepProbe.Act($"{path} differs from the {rules} live rule(s)", WriteFile.Replacing(path, saved, live));
    }
}
