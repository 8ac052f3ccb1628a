using Runbooks.Dsl.Nouns.Autogrow;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>A daemon on the host that grows an LV and its filesystem whenever the mount gets too full.</summary>
public static class Autogrow
{
    /// <summary>
    /// Installs and runs <c>/usr/local/sbin/runbooks-autogrow-NAME</c>: every <paramref name="interval"/> (default 1 s) it grows
    /// <paramref name="logicalVolume"/> by <paramref name="step"/> while <paramref name="mount"/> is at least
    /// <paramref name="thresholdPercent"/> used; logs each growth to <c>/var/log/runbooks-autogrow-NAME.log</c> and stops
    /// cleanly when the VG has no free extents.
    /// </summary>
    /// <example><c>Autogrow.Keep("data", "/data", "vg0/data0", thresholdPercent: 90, step: "500M")</c></example>
    public static Step Keep(string name, string mount, string logicalVolume, int thresholdPercent, string step, TimeSpan? interval = null)
    {
        var lv = Lvm.Lv(logicalVolume);
        if (thresholdPercent is < 1 or > 99)
        {
            throw new ArgumentException($"threshold {thresholdPercent}% must be 1..99", nameof(thresholdPercent));
        }

        return new AutogrowStep(new AutogrowSettings(
            DslArguments.UnitName(name, nameof(name)), DslArguments.AbsolutePath(mount, nameof(mount)), lv.VolumeGroup, lv.Name,
            thresholdPercent, Bytes.Parse(step), DslArguments.PositiveTime(interval ?? TimeSpan.FromSeconds(1), nameof(interval))));
    }
}
