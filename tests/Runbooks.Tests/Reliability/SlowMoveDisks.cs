using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// A VG built for killing a pvmove half way: a source PV on a loop device, made with a 16 MiB data offset so
/// that <c>RecreateIfOffsetAbove(…, "8M")</c> must move its data off and rebuild it (the incident's loop1),
/// and a destination PV on a dm-delay device that holds every write back <see cref="WriteDelayMs"/> ms, so the
/// move takes long enough for a kill to land inside it. An ext4 LV on the source carries random objects whose
/// sha256 manifest lives beside the images.
/// </summary>
internal sealed record SlowMoveDisks(string VolumeGroup, string Directory, string Source, string DestinationLoop, long Sectors)
{
    public const int WriteDelayMs = 200;

    /// <summary>Where the PV's data starts inside the destination loop device: LVM scans that device too and must not find a second label at its start.</summary>
    private const int OffsetSectors = 2048;

    public string SlowName => $"{VolumeGroup}-slow";

    public string Destination => $"/dev/mapper/{SlowName}";

    public string MountPoint => $"/mnt/{VolumeGroup}";

    public string Manifest => $"{Directory}/{VolumeGroup}-objects.sha256";

    /// <summary>The runbook under test: the source PV rebuilt with a small data offset (pvmove → vgreduce → pvremove → pvcreate → vgextend).</summary>
    public string Runbook => $$"""
        Target("rebuild", "{{Source}} is rebuilt with a small data offset",
                Lvm.Pv("{{Source}}").RecreateIfOffsetAbove("{{VolumeGroup}}", maxDataOffset: "8M"));
        await RunAsync(Args);
        """;

    public static async Task<SlowMoveDisks> CreateAsync(ITransport guest, string volumeGroup, string directory, CancellationToken ct)
    {
        const string script = """
            set -eu
            dir=$1 vg=$2 slow=$3 mnt=$4 manifest=$5
            mkdir -p "$dir" "$mnt"
            truncate -s 128M -- "$dir/$vg-src.img" "$dir/$vg-dst.img"
            src=$(losetup --find --show -- "$dir/$vg-src.img")
            dst=$(losetup --find --show -- "$dir/$vg-dst.img")
            sectors=$(( $(blockdev --getsz "$dst") - $6 ))
            dmsetup create "$slow" --table "0 $sectors delay $dst $6 0 $dst $6 $7"
            pvcreate -q --dataalignment 16m "$src" >/dev/null
            pvcreate -q "/dev/mapper/$slow" >/dev/null
            vgcreate -q -s 4m "$vg" "$src" "/dev/mapper/$slow" >/dev/null
            lvcreate -q -y -Zn -l 20 -n data "$vg" "$src" >/dev/null
            mkfs.ext4 -q -E nodiscard "/dev/$vg/data"
            mount "/dev/$vg/data" "$mnt"
            for n in 1 2 3 4 5 6 7; do head -c 9000000 /dev/urandom > "$mnt/object-$n.bin"; done
            (cd "$mnt" && sha256sum -- object-*.bin) > "$manifest"
            sync
            echo "$src $dst $sectors"
            """;
        var disks = new SlowMoveDisks(volumeGroup, directory, "", "", 0);
        var made = await guest.RunCheckedAsync(Shell.Script(script, directory, volumeGroup, disks.SlowName, disks.MountPoint, disks.Manifest,
            OffsetSectors.ToString(System.Globalization.CultureInfo.InvariantCulture), WriteDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture)).WithTimeout(TimeSpan.FromMinutes(5)), ct);
        var parts = made.StandardOutput.Trim().Split(' ');
        return disks with { Source = parts[0], DestinationLoop = parts[1], Sectors = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) };
    }

    /// <summary>
    /// After a power cut, on a new VM: the same images on the same loop devices, the dm-delay device again, the VG
    /// activated and the filesystem mounted (its journal replays) — what an SRE types after the reboot.
    /// </summary>
    public async Task AttachAsync(ITransport guest, CancellationToken ct)
    {
        const string script = """
            set -eu
            modprobe dm_delay
            losetup "$1" "$2"
            losetup "$3" "$4"
            dmsetup create "$5" --table "0 $6 delay $3 $7 0 $3 $7 $8"
            vgchange -ay "$9" >/dev/null
            mkdir -p "${10}"
            mount "/dev/$9/data" "${10}"
            """;
        static Arg N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await guest.RunCheckedAsync(Shell.Script(script, Source, $"{Directory}/{VolumeGroup}-src.img", DestinationLoop, $"{Directory}/{VolumeGroup}-dst.img",
            SlowName, N(Sectors), N(OffsetSectors), N(WriteDelayMs), VolumeGroup, MountPoint).WithTimeout(TimeSpan.FromMinutes(5)), ct);
    }

    /// <summary>Objects whose content no longer matches the manifest, read from the disk rather than the page cache; empty when all match.</summary>
    public async Task<IReadOnlyList<string>> DamagedObjectsAsync(ITransport guest, CancellationToken ct)
    {
        var check = await guest.RunAsync(Shell.Script("sync; echo 3 > /proc/sys/vm/drop_caches; cd \"$1\" && sha256sum -c -- \"$2\" 2>&1", MountPoint, Manifest).WithTimeout(TimeSpan.FromMinutes(5)), ct);
        var lines = check.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var damaged = lines.Where(l => !l.EndsWith(": OK", StringComparison.Ordinal)).ToList();
        return lines.Length == 0 ? [$"sha256sum -c printed nothing (exit {check.ExitCode}): {check.StandardError.Trim()}"] : damaged;
    }

    /// <summary>The end state the runbook must reach: the source back in the VG with a data offset of at most 8 MiB, the data on the destination, no pvmove left.</summary>
    public async Task<string> EndStateAsync(ITransport guest, CancellationToken ct) =>
        (await guest.RunCheckedAsync(Shell.Script("pvs --noheadings -o pv_name,vg_name,pe_start --units m -- \"$1\"; lvs -a --noheadings -o lv_name,devices -- \"$2\"", Source, VolumeGroup), ct)).StandardOutput;

    /// <summary>
    /// Non-null (the pvmove LV and its copy progress) once a pvmove process runs in the guest and has copied part
    /// of the data — a kill then lands with extents on both PVs; polls gently.
    /// </summary>
    public async Task<string?> MoveInProgressAsync(ITransport guest, CancellationToken ct)
    {
        var seen = await guest.RunAsync(Shell.Script("pgrep -x pvmove >/dev/null || exit 0; lvs -a --noheadings -o lv_name,copy_percent -- \"$1\" | awk '/pvmove/ && $2 > 0 && $2 < 100'", VolumeGroup), ct);
        if (seen.StandardOutput.Trim().Length > 0)
        {
            return seen.StandardOutput;
        }

        await Task.Delay(100, ct);
        return null;
    }
}
