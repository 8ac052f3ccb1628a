using System.Collections.Concurrent;

namespace Runbooks.Commands;

/// <summary>
/// Every secret created in this process is remembered here so that text that did not come from a
/// rendered command (a tool's stderr echoing a key, an exception message) can still be scrubbed
/// before it reaches the console, the journal or a report.
/// </summary>
public static class SecretRedactor
{
    private static readonly ConcurrentDictionary<string, byte> Values = new();

    internal static void Register(string value)
    {
        // Very short values would blank out ordinary words; a secret that short is not a real secret.
        if (value.Length >= 4)
        {
            Values.TryAdd(value, 0);
        }
    }

    /// <summary>Replaces every known secret value in <paramref name="text"/> with <c>***</c>.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text) || Values.IsEmpty)
        {
            return text ?? "";
        }

        foreach (var value in Values.Keys)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                text = text.Replace(value, Secret.Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }
}
