using System.Globalization;
using Runbooks.Commands;

namespace Runbooks.Dsl.Nouns.Autogrow;

/// <summary>What an autogrow daemon is told, and where its files live on the host.</summary>
public sealed record AutogrowSettings(string Name, string Mount, string VolumeGroup, string LogicalVolume, int ThresholdPercent, long StepBytes, TimeSpan Interval)
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
    public static string Daemon(AutogrowSettings s) => $$"""
        #!/bin/sh
        # Installed by a runbook (Autogrow.Keep); the next run overwrites local edits.
        # Keeps {{s.Mount}} below {{s.ThresholdPercent}}% used by growing {{s.VolumeGroup}}/{{s.LogicalVolume}} and its filesystem.
        MOUNT={{Q(s.Mount)}}
        VG={{Q(s.VolumeGroup)}}
        LV={{Q(s.VolumeGroup + "/" + s.LogicalVolume)}}
        THRESHOLD={{s.ThresholdPercent.ToString(CultureInfo.InvariantCulture)}}
        STEP_BYTES={{s.StepBytes.ToString(CultureInfo.InvariantCulture)}}
        INTERVAL={{s.Interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}}
        LOG={{Q(s.LogPath)}}
        STOPPED={{Q(s.StoppedFile)}}
        LVM_SUPPRESS_FD_WARNINGS=1
        export LVM_SUPPRESS_FD_WARNINGS

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

        rm -f -- "$STOPPED"
        log "started (pid $$): keep $MOUNT (${FSTYPE:-type unknown}) below $THRESHOLD% by growing $LV by $STEP_BYTES bytes"
        while :; do
          used=$(df --output=pcent -- "$MOUNT" 2>/dev/null | tail -n 1 | tr -dc 0-9)
          if [ -z "$used" ]; then
            log "cannot read the usage of $MOUNT; retrying"
            sleep "$INTERVAL"
            continue
          fi
          if [ "$used" -lt "$THRESHOLD" ]; then
            sleep "$INTERVAL"
            continue
          fi
          free=$(vgs --noheadings --units b --nosuffix -o vg_free -- "$VG" 2>/dev/null | tr -dc 0-9)
          if [ -z "$free" ]; then
            log "cannot read the free space of $VG; retrying"
            sleep "$INTERVAL"
            continue
          fi
          if [ "$free" -eq 0 ]; then
            # Looping on a full VG would only fill the log: stop cleanly and say why.
            log "stopping: $MOUNT is $used% used and $VG has no free extents; add a PV to $VG and run the runbook again"
            echo "$VG has no free extents at $used% used" > "$STOPPED"
            exit 0
          fi
          if [ "$free" -lt "$STEP_BYTES" ]; then
            log "$MOUNT is $used% used; growing $LV by the last $free bytes of $VG"
            grow -l +100%FREE >> "$LOG" 2>&1
          else
            log "$MOUNT is $used% used; growing $LV by $STEP_BYTES bytes"
            grow -L "+${STEP_BYTES}b" >> "$LOG" 2>&1
          fi
          rc=$?
          if [ "$rc" -ne 0 ]; then
            log "growing failed (exit $rc); retrying in 10 s"
            sleep 10
          fi
        done

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

    private static string Q(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
