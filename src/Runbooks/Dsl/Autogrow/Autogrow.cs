using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>A daemon on the host that grows an LV and its filesystem whenever the mount gets too full, or fills too fast.</summary>
public static class Autogrow
{
    /// <summary>
    /// Installs and runs <c>/usr/local/sbin/runbooks-autogrow-NAME</c>. It samples <paramref name="mount"/> at least every
    /// <paramref name="interval"/> (default 250 ms; more often the faster the mount fills), measures the fill rate from
    /// successive samples, and grows <paramref name="logicalVolume"/> when the mount is at least <paramref name="thresholdPercent"/>
    /// used or would be full within <paramref name="lead"/> (default 2 s, or three times the slowest growth so far) at that rate: by as many whole <paramref name="step"/>s
    /// as bring it below the threshold with twice the lead free. Logs each growth, with the rate, to
    /// <c>/var/log/runbooks-autogrow-NAME.log</c> and stops cleanly when the VG has no free extents.
    /// </summary>
    /// <example><c>Autogrow.Keep("data", "/data", "vg0/data0", thresholdPercent: 90, step: "500M")</c></example>
    public static Step Keep(string name, string mount, string logicalVolume, int thresholdPercent, string step, TimeSpan? interval = null, TimeSpan? lead = null)
    {
        var lv = Lvm.Lv(logicalVolume);
        if (thresholdPercent is < 1 or > 99)
        {
            throw new ArgumentException($"threshold {thresholdPercent}% must be 1..99", nameof(thresholdPercent));
        }

        return new AutogrowStep(new AutogrowSettings(
            DslArguments.UnitName(name, nameof(name)), DslArguments.AbsolutePath(mount, nameof(mount)), lv.VolumeGroup, lv.Name,
            thresholdPercent, Bytes.Parse(step),
            DslArguments.PositiveTime(interval ?? TimeSpan.FromMilliseconds(250), nameof(interval)),
            DslArguments.PositiveTime(lead ?? TimeSpan.FromSeconds(2), nameof(lead))));
    }
}
