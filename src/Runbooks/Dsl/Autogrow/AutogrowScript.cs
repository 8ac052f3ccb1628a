using System.Globalization;
using Runbooks.Commands;

namespace Runbooks.Dsl;

/// <summary>
/// What an autogrow daemon is told, and where its files live on the host. <c>Interval</c> is the longest pause between
/// two samples of the mount (shorter while it fills fast); <c>Lead</c> how long the mount must last at the measured fill rate.
/// </summary>
public sealed record AutogrowSettings(string Name, string Mount, string VolumeGroup, string LogicalVolume, int ThresholdPercent, long StepBytes, TimeSpan Interval, TimeSpan Lead)
{
    /// <summary>A directory prefixed to every path below; empty on a real host, a scratch root in tests.</summary>
    public string Root { get; init; } = "";

    public string ScriptPath => $"{Root}/usr/local/sbin/runbooks-autogrow-{Name}";

    public string SupervisorPath => $"{Root}/usr/local/sbin/runbooks-autogrow-{Name}-supervise";

    public string UnitName => $"runbooks-autogrow-{Name}.service";

    public string UnitPath => $"{Root}/etc/systemd/system/{UnitName}";

    public string PidFile => $"{Root}/run/runbooks-autogrow-{Name}.pid";

    /// <summary>Written when the daemon stops on purpose (VG full), so a later run can tell "stopped" from "crashed".</summary>
    public string StoppedFile => $"{Root}/run/runbooks-autogrow-{Name}.stopped";

    public string LogPath => $"{Root}/var/log/runbooks-autogrow-{Name}.log";
}

/// <summary>Generates the daemon, its respawn wrapper and its systemd unit. Every value is single-quoted when baked in.</summary>
public static class AutogrowScript
{
    /// <summary>
    /// The daemon's decisions, in awk (the one tool with arithmetic that every host has). Each sample of the mount
    /// (seconds, used, avail, size in bytes) updates the fill rate (the faster of the last two samples and the last two
    /// seconds); the mount grows when it is past the threshold
    /// or would fill within the lead at that rate (the lead stretched to three times the slowest growth seen), by as many whole steps as bring it below the threshold and give
    /// it twice the lead; the pause before the next sample is a quarter of the time the fastest rate seen would
    /// take to fill what is free. Run with <c>-v replay=1</c> it reads samples ("seconds used avail size vg_free")
    /// from stdin and prints each decision instead of acting, which is how the tests feed it recorded samples.
    /// </summary>
    public const string Policy = """
        # The autogrow policy: see AutogrowScript.Policy. Byte counts are printed with %.0f, never %d: awk numbers
        # are doubles, and some awks clamp %d to 32 bits. No single quotes: the shell quotes this text.
        function pass(t, u, a, s,    r, w, usable, k, n1, n2, n, p, h) {
          # The rate is the faster of the last two samples and the last two seconds: writes land in df in bursts
          # (a file at a time, then a pause while it is synced), and a writer between bursts is still a writer.
          if (!kept) { first = 1; kept = 1; st[1] = t; su[1] = u }
          else if (t > st[kept] + 0.005) {
            r = (u - su[kept]) / (t - st[kept])
            kept++; st[kept] = t; su[kept] = u
            while (first < kept - 1 && t - st[first + 1] >= 2) { delete st[first]; delete su[first]; first++ }
            w = (u - su[first]) / (t - st[first])
            rate = r > w ? r : w; if (rate < 0) rate = 0
            if (rate > peak) peak = rate
          }
          usable = u + a
          pct = usable > 0 ? u * 100 / usable : 0
          if (pct > int(pct)) pct = int(pct) + 1
          ttf = rate > 0 ? a / rate : -1
          pause = interval
          if (peak > 0) { p = a / peak / 4; if (p < pause) pause = p; if (pause < 0.05) pause = 0.05 }
          # A lead shorter than three growths (a busy host) could not be kept: the slowest growth seen stretches it.
          h = lead > 3 * slowest ? lead : 3 * slowest
          if (pct < threshold && (ttf < 0 || ttf >= h)) return 0
          # df shows a grown byte as usable less the filesystem reserve: scale steps by what df shows of the size.
          k = (s > 0 && usable > 0) ? usable / s : 1
          n1 = (u * 100 / threshold - usable) / (step * k)
          n2 = (2 * h * rate - a) / (step * k)
          n = n1 > n2 ? n1 : n2
          if (n > int(n)) n = int(n) + 1
          if (n < 1) n = 1
          return n * step
        }
        # How much of what is wanted the VG can give: "stop" when nothing, "all" when less than wanted.
        function fit(want, vgfree) { return vgfree <= 0 ? "stop" : vgfree < want ? "all" : sprintf("%.0f", want) }
        function mib(b) { return sprintf("%.1f MiB", b / 1048576) }
        function reason() { return sprintf("%d%% used, %s free, filling at %s/s", pct, mib(avail), mib(rate)) }
        function uptime(   line, f) { getline line < "/proc/uptime"; close("/proc/uptime"); split(line, f, " "); return f[1] + 0 }
        function say(msg) { print msg | logger; fflush(logger) }
        BEGIN {
          if (replay) {
            while ((getline line) > 0) {
              if (line ~ /^#/ || split(line, f, " ") < 5) continue
              avail = f[3]; want = pass(f[1], f[2], f[3], f[4])
              printf "%s %s %.3f\n", f[1], want ? fit(want, f[5]) : "wait", pause
            }
            exit 0
          }
          logger = "while IFS= read -r l; do printf \"%s %s\\n\" \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$l\"; done >> \"$LOG\""
          pause = 0
          for (;;) {
            cmd = (pause > 0 ? sprintf("sleep %.3f; ", pause) : "") "exec df -B1 --output=used,avail,size -- \"$MOUNT\" 2>/dev/null"
            # df prints a header line, then the figures.
            cmd | getline line; line = ""; cmd | getline line; close(cmd)
            if (split(line, f, " ") < 3 || f[3] !~ /^[0-9]+$/) { say("cannot read the usage of " ENVIRON["MOUNT"] "; retrying"); pause = interval; continue }
            avail = f[2]; want = pass(uptime(), f[1], f[2], f[3])
            if (!want) continue
            cmd = "exec vgs --noheadings --units b --nosuffix -o vg_free -- \"$VG\" 2>/dev/null"
            free = ""; cmd | getline free; close(cmd); gsub(/[^0-9]/, "", free)
            if (free == "") { say("cannot read the free space of " ENVIRON["VG"] "; retrying"); pause = interval; continue }
            how = fit(want, free + 0)
            if (how == "stop") {
              # Looping on a full VG would only fill the log: stop cleanly and say why.
              say("stopping: " ENVIRON["MOUNT"] " is " reason() " and " ENVIRON["VG"] " has no free extents; add a PV to " ENVIRON["VG"] " and run the runbook again")
              printf "%s has no free extents at %d%% used\n", ENVIRON["VG"], pct > ENVIRON["STOPPED"]; close(ENVIRON["STOPPED"])
              exit 0
            }
            say(ENVIRON["MOUNT"] " is " reason() (ttf >= 0 ? sprintf(" (full in %.1f s)", ttf) : "") "; growing " ENVIRON["LV"] " by " (how == "all" ? "the last " free " bytes of " ENVIRON["VG"] : how " bytes"))
            started = uptime()
            rc = system(how == "all" ? "exec sh \"$SELF\" grow -l +100%FREE" : "exec sh \"$SELF\" grow -L +" how "b")
            # The writer went on while the LV grew: sample again at once.
            pause = 0
            if (rc != 0) { say(sprintf("growing failed (exit %d); retrying in 2 s", rc)); pause = 2 }
            else { took = uptime() - started; if (took > slowest) slowest = took; say(sprintf("grown in %.2f s", took)) }
          }
        }
        """;

    public static string Daemon(AutogrowSettings s) => $$"""
        #!/bin/sh
        # Installed by a runbook (Autogrow.Keep); the next run overwrites local edits.
        # Keeps {{s.Mount}} below {{s.ThresholdPercent}}% used, and {{Seconds(s.Lead)}} s of writing at its fill rate free,
        # by growing {{s.VolumeGroup}}/{{s.LogicalVolume}} and its filesystem.
        MOUNT={{Q(s.Mount)}}
        VG={{Q(s.VolumeGroup)}}
        LV={{Q(s.VolumeGroup + "/" + s.LogicalVolume)}}
        THRESHOLD={{s.ThresholdPercent.ToString(CultureInfo.InvariantCulture)}}
        STEP_BYTES={{s.StepBytes.ToString(CultureInfo.InvariantCulture)}}
        INTERVAL={{Seconds(s.Interval)}}
        LEAD={{Seconds(s.Lead)}}
        LOG={{Q(s.LogPath)}}
        STOPPED={{Q(s.StoppedFile)}}
        SELF=$0
        LVM_SUPPRESS_FD_WARNINGS=1
        export MOUNT VG LV LOG STOPPED SELF LVM_SUPPRESS_FD_WARNINGS

        log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> "$LOG"; }

        # ext filesystems are grown with resize2fs directly: lvextend --resizefs goes through fsadm, a script
        # whose checks start a dozen processes per growth (2.9 s against 0.5 s on a TCG test VM). Anything
        # else keeps --resizefs. If resize2fs fails after lvextend, the next pass grows the LV again and
        # resize2fs then takes the filesystem to the whole LV.
        FSTYPE=$(findmnt -n -o FSTYPE --mountpoint "$MOUNT" 2>/dev/null)
        grow() {
          case "$FSTYPE" in
            ext2|ext3|ext4) lvextend "$@" -- "$LV" && resize2fs -- "/dev/$LV" ;;
            *) lvextend --resizefs "$@" -- "$LV" ;;
          esac
        }

        # The policy below calls back into this script for each growth.
        if [ "$1" = grow ]; then
          shift
          grow "$@" >> "$LOG" 2>&1
          exit
        fi

        rm -f -- "$STOPPED"
        log "started (pid $$): keep $MOUNT (${FSTYPE:-type unknown}) below $THRESHOLD% and $LEAD s of writing free by growing $LV by steps of $STEP_BYTES bytes"
        exec awk -v threshold="$THRESHOLD" -v step="$STEP_BYTES" -v interval="$INTERVAL" -v lead="$LEAD" {{Q(Policy)}}

        """;

    /// <summary>The respawn wrapper used where systemd does not run: restarts on failure, ends when the daemon exits 0.</summary>
    public static string Supervisor(AutogrowSettings s) => $$"""
        #!/bin/sh
        # Installed by a runbook (Autogrow.Keep): restarts the autogrow daemon when it fails.
        echo $$ > {{Q(s.PidFile)}}
        while :; do
          {{Q(s.ScriptPath)}}
          rc=$?
          [ "$rc" -eq 0 ] && exit 0
          printf '%s supervisor: daemon exited %s; restarting in 2 s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$rc" >> {{Q(s.LogPath)}}
          sleep 2
        done

        """;

    public static string Unit(AutogrowSettings s) => $"""
        [Unit]
        Description=Keep {s.Mount} below {s.ThresholdPercent}% by growing {s.VolumeGroup}/{s.LogicalVolume} (runbooks autogrow)

        [Service]
        ExecStart={s.ScriptPath}
        Restart=on-failure
        RestartSec=2

        [Install]
        WantedBy=multi-user.target

        """;

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Q(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
