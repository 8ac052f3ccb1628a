using System.Collections.Concurrent;

namespace Runbooks.Commands;

/// <summary>
/// The environment variables a runbook read while it defined its targets (<c>Scale</c>, <c>Env(…)</c>,
/// <c>Secret.FromEnvironment(…)</c>): its meaning depends on them, so the journal records each name with its value,
/// a secret's as <c>***</c> and an unset one as null. One record per script run, carried by the async flow.
/// </summary>
public static class EnvironmentReads
{
    private static readonly AsyncLocal<ConcurrentDictionary<string, string?>?> Reads = new();

    /// <summary>Starts a fresh record for the script about to run (and everything it calls, the run included).</summary>
    public static void Begin() => Reads.Value = new ConcurrentDictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Reads a variable and records it; null when it is not set.</summary>
    /// <example><c>EnvironmentReads.Read("RUNBOOK_SCALE")</c></example>
    public static string? Read(string name) => Record(name, secret: false);

    /// <summary>Reads a variable whose value is a secret: recorded as <c>***</c>.</summary>
    /// <example><c>EnvironmentReads.ReadSecret("WG_KEY")</c></example>
    public static string? ReadSecret(string name) => Record(name, secret: true);

    /// <summary>What this script read so far, sorted by name: the value, <c>***</c> for a secret, null for an unset variable.</summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> Current =>
        Reads.Value is { } reads ? [.. reads.OrderBy(r => r.Key, StringComparer.Ordinal)] : [];

    private static string? Record(string name, bool secret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var value = Environment.GetEnvironmentVariable(name);
        if (Reads.Value is { } reads)
        {
            // A secret once read stays masked, whichever way it is read again.
            reads.AddOrUpdate(name, Shown(value, secret), (_, was) => was == Secret.Mask ? was : Shown(value, secret));
        }

        return value;
    }

    private static string? Shown(string? value, bool secret) => secret && value is not null ? Secret.Mask : value;
}
