namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>
/// The storage break as three guest scripts, each one SSH round trip: under TCG every command costs a
/// channel, a fork and an exec through the 9p root, and the break used to be 33 of them. Values arrive as
/// positional parameters (see <see cref="Runbooks.Commands.Shell"/>), never spliced into the text.
/// </summary>
internal static class StorageBreakScripts
{
    /// <summary>
    /// $1 /media size MiB, $2 disk MiB, $3 loop1 data offset MiB, $4 loop2 PV MiB, $5 extent MiB.
    /// The images on their own filesystem, loop0..2, the three broken PVs and vg0; prints pvs as JSON.
    /// </summary>
    public const string Disks = """
        set -eu
        mkdir -p /media /data
        mount -t tmpfs -o "size=$1m" tmpfs /media
        for i in 0 1 2; do
            fallocate -l "$2M" -- "/media/disk$i.img"
            losetup "/dev/loop$i" "/media/disk$i.img"
        done
        # stdout of these is chatter ("Physical volume ... created") that would spoil the JSON printed last.
        pvcreate -q /dev/loop0 >/dev/null
        pvcreate -q --dataalignment "$3m" /dev/loop1 >/dev/null
        pvcreate -q --setphysicalvolumesize "$4m" /dev/loop2 >/dev/null
        vgcreate -q -s "$5m" vg0 /dev/loop0 /dev/loop1 /dev/loop2 >/dev/null
        pvs --reportformat json --units b --nosuffix -o pv_name,pv_pe_count
        """;

    /// <summary>
    /// $1 extents on loop0, $2 on loop2, $3 on loop1, $4 checksum manifest, $5 fstab line, then the object
    /// sizes in bytes. data0 (ending on loop1, as the incident's LE 704-716), its objects and their
    /// checksums; then read-only, in fstab too, and loop0 not allocatable.
    /// </summary>
    public const string Data = """
        set -eu
        lvcreate -q -y -l "$1" -n data0 vg0 /dev/loop0
        lvextend -q -l "+$2" vg0/data0 /dev/loop2
        lvextend -q -l "+$3" vg0/data0 /dev/loop1
        # nodiscard: a discarding mkfs would punch holes in the fallocated images and free /media space.
        mkfs.ext4 -q -E nodiscard /dev/vg0/data0
        mount /dev/vg0/data0 /data
        manifest=$4 fstab=$5
        shift 5
        mkdir -p /data/objects "$(dirname -- "$manifest")"
        cd /data/objects
        n=0
        for size in "$@"; do
            n=$((n + 1))
            head -c "$size" /dev/urandom > "object-$n.bin"
        done
        sha256sum -- * > "$manifest"
        cd /
        mount -o remount,ro /data
        printf '%s\n' "$fstab" >> /etc/fstab
        pvchange -q -x n /dev/loop0
        """;

    /// <summary>
    /// $1 server path, $2 its text, $3 wrapper path, $4 its text, $5 the scratch file the server holds,
    /// $6 MiB to leave free on /media, $7 disk image MiB. Starts the wrapped server, which opens and
    /// unlinks the scratch file, and waits until it answers. Exits 3 when disk3.img would still fit
    /// (the break would not be faithful), 4 when the server does not answer within 30 s.
    /// </summary>
    public const string ObjectServer = """
        set -eu
        printf '%s' "$2" > "$1"; chmod 755 "$1"
        printf '%s' "$4" > "$3"; chmod 755 "$3"
        avail=$(df -B1 --output=avail /media | tail -n 1 | tr -d ' ')
        fallocate -l "$((avail - $6 * 1024 * 1024))" -- "$5"
        setsid -f "$3" </dev/null >/dev/null 2>&1
        tries=0
        until [ ! -e "$5" ] && curl -sf -o /dev/null --max-time 5 http://127.0.0.1:8000/; do
            tries=$((tries + 1))
            if [ "$tries" -gt 300 ]; then
                echo "the object server did not answer on port 8000 within 30 s; its log:" >&2
                tail -n 20 /var/log/server.log >&2 || true
                exit 4
            fi
            sleep 0.1
        done
        if fallocate -l "$7M" -- /media/disk3.img 2>/dev/null; then
            rm -f -- /media/disk3.img
            echo "disk3.img ($7M) fits on /media while the deleted file is held" >&2
            exit 3
        fi
        rm -f -- /media/disk3.img
        """;
}
