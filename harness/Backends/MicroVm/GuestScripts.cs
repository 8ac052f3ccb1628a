using System.Text;
using Runbooks.Commands;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>The two scripts the guest runs: the initramfs init (mount the root) and stage 2 (services).</summary>
public static class GuestScripts
{
    public const string ProbeMarker = "RUNBOOKS-ACCEL-PROBE-OK";
    public const string Stage2Marker = "runbooks-stage2: starting sshd";

    /// <summary>The 9p tag of the optional read-write host directory mounted at <c>/media</c>.</summary>
    public const string HostMediaTag = "hostmedia";

    /// <summary>
    /// The host root read-only over 9p with a tmpfs overlay on top (the virtme-ng approach): the guest has
    /// every tool the host has, and nothing it writes reaches the host. <c>multidevs=remap</c> keeps inode
    /// numbers unique across the host's mounts.
    /// </summary>
    public static string Init(IEnumerable<string> modules) => $$"""
        #!/bin/busybox sh
        B=/bin/busybox
        $B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
        for m in {{string.Join(' ', modules)}}; do [ -f /mod/$m.ko ] && $B insmod /mod/$m.ko; done
        arg() { $B sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
        if [ -n "$(arg runbooks.probe)" ]; then echo {{ProbeMarker}}; $B poweroff -f; fi
        $B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo "runbooks-init: 9p root mount failed"; $B poweroff -f; }
        $B mount -t tmpfs tmpfs /upper; $B mkdir -p /upper/u /upper/w
        $B mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || { echo "runbooks-init: overlay mount failed"; $B poweroff -f; }
        $B mount --move /dev /newroot/dev
        exec $B switch_root /newroot /bin/sh "$(arg runbooks.stage2)"

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>
    /// Stage 2, run from the shared root inside the overlay. Root gets an empty home: the host root's
    /// .bashrc runs <c>pyenv init</c>, which costs ≈4 s on every SSH command. sshd sets
    /// <c>DM_DISABLE_UDEV=1</c> for every session (SetEnv) because the guest runs no udev: libdevmapper must
    /// create the /dev/mapper nodes itself, and doing it in sshd rather than in lvm.conf keeps the host's
    /// LVM configuration (which runbooks may read) exactly as it is, and reaches every process a session
    /// starts (an autogrow daemon included).
    /// </summary>
    /// <param name="systemd">
    /// Hand PID 1 to systemd instead of running sshd directly: stage 2 prepares the same mounts, network and keys,
    /// writes <see cref="SystemdTarget"/> and its sshd unit into the overlay's <c>/etc/systemd/system</c>, and execs
    /// systemd with that target as its boot goal.
    /// </param>
    public static string Stage2(GuestKernel kernel, string authorizedKeyFile, string hostKeyFile, bool hostMedia = false, bool systemd = false)
    {
        var q = ShellQuote.Quote;
        var modules = kernel.ModulesDirectory == kernel.GuestModulesDirectory
            ? ""
            : $"mkdir -p {q(kernel.GuestModulesDirectory)} && mount --bind {q(kernel.ModulesDirectory)} {q(kernel.GuestModulesDirectory)}";
        // No cache option (9p's default, cache=none): every write leaves the guest at once, so what a killed
        // qemu takes with it is exactly what a power cut takes — the guest's own page cache — and no more.
        var media = hostMedia
            ? $"mkdir -p /media && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 {HostMediaTag} /media || log \"9p mount of {HostMediaTag} on /media failed\""
            : "";
        var script = new StringBuilder($$"""
            #!/bin/sh
            export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            log() { echo "runbooks-stage2: $*"; }
            mount -t proc proc /proc; mount -t sysfs sys /sys
            # /tmp stays on the overlay: the harness work directory (keys, this script) usually lives under the host /tmp
            mount -t tmpfs -o mode=755 tmpfs /run; mkdir -p /run/lock /run/sshd
            mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
            {{modules}}
            {{media}}
            mount -t tmpfs -o mode=700 tmpfs /root; mkdir -m 700 /root/.ssh
            cp {{q(authorizedKeyFile)}} /root/.ssh/authorized_keys
            for m in virtio_net loop dm_mod; do modprobe $m || log "modprobe $m failed"; done
            IF=$(ls /sys/class/net | grep -v '^lo$' | head -1)
            ip link set lo up; ip link set "$IF" up
            ip addr add 10.0.2.15/24 dev "$IF"; ip route add default via 10.0.2.2
            hostname runbooks-vm
            cp {{q(hostKeyFile)}} /run/sshd/hostkey; chmod 600 /run/sshd/hostkey
            {{(systemd ? SystemdHandover() : $"log \"starting sshd\"\nexec {Sshd}")}}

            """);
        return script.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>The unit systemd boots to in the systemd variant: the system's basic target and sshd, nothing of the host's multi-user set.</summary>
    public const string SystemdTarget = "runbooks-guest.target";

    private const string Sshd =
        "/usr/sbin/sshd -D -e -f /dev/null -h /run/sshd/hostkey -o PidFile=/run/sshd.pid -o PermitRootLogin=prohibit-password " +
        "-o UsePAM=no -o StrictModes=no -o AuthorizedKeysFile=/root/.ssh/authorized_keys -o SetEnv=DM_DISABLE_UDEV=1";

    /// <summary>
    /// The systemd variant's end of stage 2. The host root's own boot (its multi-user target: postgresql, ssh on port 22
    /// with the host's keys, timers) is not what a scenario wants, so systemd boots to a target of ours. The fstab is
    /// emptied in the overlay: the host's names disks this guest does not have. Every unit gets <c>DM_DISABLE_UDEV=1</c>,
    /// as SSH sessions do, because the guest runs no udev rules for LVM (an autogrow unit runs lvextend). An empty
    /// <c>tmp.conf</c> keeps systemd-tmpfiles from emptying <c>/tmp</c> at boot: it would walk the host's whole /tmp over 9p
    /// (three minutes on a busy machine) and hide the harness files the guest reads there. Timers (apt-daily, man-db)
    /// and NTP time sync are masked: a test must not meet apt running or the clock stepping under it.
    /// </summary>
    private static string SystemdHandover() => $$"""
        : > /etc/fstab
        mkdir -p /etc/systemd/system /etc/systemd/system.conf.d /etc/tmpfiles.d
        : > /etc/tmpfiles.d/tmp.conf
        ln -sf /dev/null /etc/systemd/system/timers.target; ln -sf /dev/null /etc/systemd/system/systemd-timesyncd.service
        printf '[Manager]\nDefaultEnvironment=DM_DISABLE_UDEV=1\n' > /etc/systemd/system.conf.d/runbooks-guest.conf
        cat > /etc/systemd/system/runbooks-sshd.service <<'UNIT'
        [Unit]
        Description=sshd of the runbooks microVM
        DefaultDependencies=no
        After=systemd-journald.socket

        [Service]
        ExecStart={{Sshd}}
        UNIT
        cat > /etc/systemd/system/{{SystemdTarget}} <<'UNIT'
        [Unit]
        Description=runbooks microVM guest
        Requires=runbooks-sshd.service
        Wants=basic.target
        AllowIsolate=yes
        UNIT
        log "starting sshd under systemd"
        exec /lib/systemd/systemd --unit={{SystemdTarget}}
        """;
}
