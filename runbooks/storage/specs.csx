// The storage incident's checks that no DSL check covers, as custom checks (loaded by storage.scenario.csx).
// They read state only, with two exceptions that are the point of the test: DataWritable creates and removes
// one empty file, and DataGrows writes files to trigger autogrow and removes them. Those writes go straight
// to the transport, so they are never cached or recorded as read-only facts.

const long MiB = 1024 * 1024;

/// <summary>"Ensuring we can write to the data dir": the one write besides the growth spec.</summary>
Check DataWritable(string directory) =>
    new($"{directory} is writable (create and remove a file)", async (h, ct) =>
    {
        var probe = await h.Transport.RunAsync(
            Shell.Script("f=\"$1/.runbooks-spec-writable\" && touch -- \"$f\" && rm -f -- \"$f\"", directory), ct);
        return probe.ExitCode == 0
            ? new CheckResult(true, $"created and removed {directory}/.runbooks-spec-writable")
            : new CheckResult(false, $"cannot write {directory}: {probe.StderrTail(2)}");
    });

/// <summary>"Verifying that the vg0 VG is built from 4 1.8G PVs": each PV uses its whole image, within one extent.</summary>
Check PvsFullSize(string volumeGroup, int diskMiB, int extentMiB) =>
    new($"every {volumeGroup} PV is {diskMiB} MiB within one extent", async (h, ct) =>
    {
        var pvs = (await Runbooks.Dsl.LvmReads.PvsAsync(h, ct)).Where(p => p.VolumeGroup == volumeGroup).ToList();
        var expected = diskMiB * MiB;
        var wrong = pvs.Where(p => expected - p.Size > extentMiB * MiB || p.Size > expected).ToList();
        return new CheckResult(pvs.Count > 0 && wrong.Count == 0,
            string.Join(", ", pvs.Select(p => $"{p.Name} {p.Size / MiB} MiB (pe_start {p.PeStart / MiB} MiB)")));
    });

/// <summary>Every PV of the VG can hold new extents: loop0 was left with allocation off (pvchange -x n).</summary>
Check PvsAllocatable(string volumeGroup) =>
    new($"every {volumeGroup} PV is allocatable", async (h, ct) =>
    {
        var pvs = (await Runbooks.Dsl.LvmReads.PvsAsync(h, ct)).Where(p => p.VolumeGroup == volumeGroup).ToList();
        var off = pvs.Where(p => !p.Allocatable).Select(p => p.Name).ToList();
        return new CheckResult(pvs.Count > 0 && off.Count == 0, off.Count == 0 ? $"{pvs.Count} PV(s), all allocatable" : $"not allocatable: {string.Join(", ", off)}");
    });

/// <summary>"Ensuring we don't have any corrupted objects", against the checksums recorded at break time.</summary>
Check ObjectsIntact(string directory, string manifest) =>
    new($"every object in {directory} matches its recorded sha256", async (h, ct) =>
    {
        var check = await h.TryReadAsync(Shell.Script("cd \"$1\" && sha256sum --check --strict --quiet -- \"$2\"", directory, manifest), ct);
        return check.ExitCode == 0
            ? new CheckResult(true, "all checksums match")
            : new CheckResult(false, $"checksum mismatch or missing object: {check.StdoutTail(5)} {check.StderrTail(3)}".Trim());
    });

/// <summary>One line of files/grow-data.sh: after file <c>File</c> (0: before the first), the time, the filesystem's own size and df's view of it.</summary>
/// <remarks>
/// The filesystem's own size (block count × block size), not df's, is what grows to the goal: df leaves out ext4's
/// metadata, which is a much larger share of a small (scaled) filesystem than of the incident's.
/// </remarks>
record GrowthSample(int File, double Seconds, long FilesystemBytes, long Size, long Avail)
{
    public static GrowthSample Parse(string line)
    {
        var f = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return f.Length == 5 && int.TryParse(f[0], out var file) && double.TryParse(f[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) &&
               f.Skip(2).All(v => long.TryParse(v, out _))
            ? new(file, seconds, long.Parse(f[2]), long.Parse(f[3]), long.Parse(f[4]))
            : throw new Runbooks.RunbookException($"files/grow-data.sh printed '{line.Trim()}', not 'FILE SECONDS FILESYSTEM_BYTES SIZE AVAIL'; is the filesystem ext4?");
    }
}

/// <summary>What a growth run showed: how fast the writer filled the mount and how close to full it came.</summary>
record GrowthFigures(IReadOnlyList<GrowthSample> Samples, long FileBytes)
{
    public static GrowthFigures Parse(string output, long fileBytes) =>
        new(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(GrowthSample.Parse).ToList(), fileBytes);

    public GrowthSample First => Samples[0];

    public GrowthSample Last => Samples[^1];

    public int Files => Last.File;

    /// <summary>Bytes written per second of the whole run, growths included: the rate autogrow had to keep ahead of.</summary>
    public double FillRate => Last.Seconds > First.Seconds ? Files * FileBytes / (Last.Seconds - First.Seconds) : 0;

    /// <summary>The least df showed free after any file.</summary>
    public long SmallestHeadroom => Samples.Min(s => s.Avail);

    public int Growths => Samples.Zip(Samples.Skip(1)).Count(p => p.Second.Size > p.First.Size);

    public string Summary(string mount) =>
        $"{Files} files of {FileBytes / MiB} MiB back to back in {Last.Seconds - First.Seconds:0.0} s: fill rate {FillRate / MiB:0.0} MiB/s, " +
        $"smallest headroom {SmallestHeadroom / MiB:0.0} MiB, {mount} grew from {First.FilesystemBytes / MiB} to {Last.FilesystemBytes / MiB} MiB in {Growths} growths seen";
}

/// <summary>
/// "Simulating object creation to trigger disk growth": writes files back to back, with no pause, until the filesystem
/// reaches the goal, in one round trip (files/grow-data.sh). It never grows anything itself and never waits: autogrow
/// must keep ahead of the writer, and a write that fails while the VG still has free extents fails the spec. Reports
/// the fill rate and the smallest headroom seen. Removes its files afterwards.
/// </summary>
Check DataGrows(string directory, string device, int fileMiB, int goalMiB)
{
    var mount = System.IO.Path.GetDirectoryName(directory)!;
    return new($"writing {fileMiB} MiB files back to back grows {mount} to {goalMiB} MiB without a failed write", async (h, ct) =>
    {
        // The incident wrote 62 files of 100M; allow a few more before calling it a failure.
        const int MaxFiles = 80;
        var file = fileMiB * MiB;
        h.InvalidateFacts();
        try
        {
            var run = await h.Transport.RunAsync(ScriptBeside("files/grow-data.sh", directory, $"{MaxFiles}", $"{fileMiB}", device, $"{goalMiB * MiB}")
                .WithTimeout(TimeSpan.FromMinutes(10)), ct);
            if (run.StandardOutput.Trim().Length == 0)
            {
                return new CheckResult(false, $"cannot write {directory}: {run.StderrTail(2)}");
            }

            var figures = GrowthFigures.Parse(run.StandardOutput, file);
            if (run.ExitCode != 0)
            {
                h.InvalidateFacts();
                var vg = (await Runbooks.Dsl.LvmReads.VgsAsync(h, ct)).FirstOrDefault(v => v.Name == "vg0");
                return new CheckResult(false, $"{run.StderrTail(2)} with {vg?.FreeExtents.ToString() ?? "unknown"} free extents left in vg0; {figures.Summary(mount)}");
            }

            return new CheckResult(figures.Last.FilesystemBytes >= goalMiB * MiB,
                (figures.Last.FilesystemBytes >= goalMiB * MiB ? "" : $"short of {goalMiB} MiB after {MaxFiles} files: ") + figures.Summary(mount));
        }
        finally
        {
            await h.Transport.RunAsync(new Command("rm", ["-rf", "--", directory]), CancellationToken.None);
        }
    });
}
