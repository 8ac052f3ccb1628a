using System.Globalization;

namespace Runbooks.Watch;

/// <summary>Durations as an operator types them on a command line: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>; a bare number is seconds.</summary>
public static class Duration
{
    public static TimeSpan Parse(string text, string option)
    {
        var value = text.Trim();
        var (number, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 0.001)
            : value.EndsWith('s') ? (value[..^1], 1)
            : value.EndsWith('m') ? (value[..^1], 60)
            : value.EndsWith('h') ? (value[..^1], 3600)
            : (value, 1.0);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0 && !double.IsInfinity(amount)
            ? TimeSpan.FromSeconds(amount * unit)
            : throw new InvalidRunbookException($"{option} {text}: not a duration; write e.g. 500ms, 30s, 5m or 1h");
    }

    /// <summary>The short form an operator would type: <c>30s</c>, <c>1.5s</c>, <c>5m</c>.</summary>
    public static string Format(TimeSpan span) =>
        span.TotalSeconds < 1 ? $"{span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}ms"
        : span.TotalSeconds % 3600 == 0 ? $"{span.TotalHours.ToString("0", CultureInfo.InvariantCulture)}h"
        : span.TotalSeconds % 60 == 0 ? $"{span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)}m"
        : $"{span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s";
}
