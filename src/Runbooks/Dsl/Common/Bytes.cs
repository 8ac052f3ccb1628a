using System.Globalization;

namespace Runbooks.Dsl;

/// <summary>Sizes as runbook authors write them: <c>"1800M"</c>, <c>"4G"</c>, <c>"500MiB"</c>; binary units, as LVM uses.</summary>
public static class Bytes
{
    /// <summary>Parses a size with an optional binary unit (K, M, G, T, with or without "iB"); a bare number is bytes.</summary>
    /// <example><c>Bytes.Parse("4G") // 4294967296</c></example>
    public static long Parse(string size)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(size);
        var text = size.Trim();
        var unitStart = text.Length;
        while (unitStart > 0 && char.IsAsciiLetter(text[unitStart - 1]))
        {
            unitStart--;
        }

        var unit = text[unitStart..].ToUpperInvariant();
        var shift = unit switch
        {
            "" or "B" => 0,
            "K" or "KIB" => 10,
            "M" or "MIB" => 20,
            "G" or "GIB" => 30,
            "T" or "TIB" => 40,
            _ => throw new ArgumentException($"size '{size}': unknown unit '{text[unitStart..]}' (use K, M, G or T)", nameof(size)),
        };
        if (!decimal.TryParse(text[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new ArgumentException($"size '{size}' is not a positive number with a unit like 500M or 4G", nameof(size));
        }

        return DslArguments.PositiveSize((long)Math.Round(number * (1L << shift)), nameof(size));
    }

    /// <summary>Scales a size (the harness shrinks every size with one factor) and rounds to whole MiB.</summary>
    /// <example><c>Bytes.Scaled("1800M", 0.1) // 180 MiB</c></example>
    public static long Scaled(string size, double scale)
    {
        if (!(scale > 0 && scale <= 100))
        {
            throw new ArgumentException($"scale {scale} must be in (0, 100]", nameof(scale));
        }

        var mib = Math.Max(1, (long)Math.Round(Parse(size) * scale / (1 << 20)));
        return mib << 20;
    }

    /// <summary>A size for people: "1.75 GiB".</summary>
    /// <example><c>Bytes.Show(1887436800) // "1.76 GiB"</c></example>
    public static string Show(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var index = 0;
        while (Math.Abs(value) >= 1024 && index < units.Length - 1)
        {
            value /= 1024;
            index++;
        }

        return index == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {units[index]}");
    }
}
