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
        var pvs = (await Runbooks.Dsl.Nouns.Lvm.LvmReads.PvsAsync(h, ct)).Where(p => p.VolumeGroup == volumeGroup).ToList();
        var expected = diskMiB * MiB;
        var wrong = pvs.Where(p => expected - p.Size > extentMiB * MiB || p.Size > expected).ToList();
        return new CheckResult(pvs.Count > 0 && wrong.Count == 0,
            string.Join(", ", pvs.Select(p => $"{p.Name} {p.Size / MiB} MiB (pe_start {p.PeStart / MiB} MiB)")));
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

/// <summary>What one round trip of files/grow-data.sh reports: the filesystem's own size and df's view of it.</summary>
/// <remarks>
/// The filesystem's own size (block count × block size), not df's, is what grows to the goal: df leaves out ext4's
/// metadata, which is a much larger share of a small (scaled) filesystem than of the incident's.
/// </remarks>
record GrowthUsage(long FilesystemBytes, long Size, long Avail)
{
    public static GrowthUsage Parse(string output)
    {
        var fields = output.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length == 3 && fields.All(f => long.TryParse(f, out _))
            ? new(long.Parse(fields[0]), long.Parse(fields[1]), long.Parse(fields[2]))
            : throw new Runbooks.RunbookException($"files/grow-data.sh printed '{output.Trim()}', not 'FILESYSTEM_BYTES SIZE AVAIL'; is the filesystem ext4?");
    }
}

/// <summary>
/// "Simulating object creation to trigger disk growth": writes files until the filesystem reaches the goal. It never
/// grows anything itself: when free space runs low it waits for the installed autogrow, and fails if a write fails or
/// nothing grows. Removes its files afterwards. A round trip writes one or more files and then reads the usage: with
/// an SSH channel, a df and a dumpe2fs per file, ~45 files cost 19 s under TCG, most of it in process start-up.
/// </summary>
Check DataGrows(string directory, string device, int fileMiB, int goalMiB)
{
    var mount = System.IO.Path.GetDirectoryName(directory);
    return new($"writing {fileMiB} MiB files grows {mount} to {goalMiB} MiB without a failed write", async (h, ct) =>
    {
        // The incident wrote 62 files of 100M; allow a few more before calling it a failure.
        const int MaxFiles = 80;
        var file = fileMiB * MiB;
        var goal = goalMiB * MiB;
        async Task<CommandResult> Round(int first, int count) =>
            await h.Transport.RunAsync(ScriptBeside("files/grow-data.sh", directory, $"{first}", $"{count}", $"{fileMiB}", device)
                .WithTimeout(TimeSpan.FromMinutes(5)), ct);

        h.InvalidateFacts();
        var prepare = await Round(1, 0);
        if (prepare.ExitCode != 0)
        {
            return new CheckResult(false, $"cannot create {directory}: {prepare.StderrTail(2)}");
        }

        var start = GrowthUsage.Parse(prepare.StandardOutput);
        var now = start;
        var log = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var waited = TimeSpan.Zero;
        try
        {
            var n = 1;
            while (n <= MaxFiles)
            {
                if (now.FilesystemBytes >= goal)
                {
                    return new CheckResult(true, $"{mount} grew from {start.FilesystemBytes / MiB} to {now.FilesystemBytes / MiB} MiB after {n - 1} files in {clock.Elapsed.TotalSeconds:0.0} s ({waited.TotalSeconds:0.0} s waiting for autogrow); {string.Join("; ", log.TakeLast(3))}");
                }

                // Below two files of room, give autogrow up to 60 s to grow the filesystem, polling once a second.
                var waitStarted = clock.Elapsed;
                var size = now.Size;
                while (now.Avail < 2 * file && clock.Elapsed - waitStarted < TimeSpan.FromSeconds(60) && now.Size == size)
                {
                    await Task.Delay(1000, ct);
                    var probe = await Round(n, 0);
                    now = GrowthUsage.Parse(probe.StandardOutput);
                }

                waited += clock.Elapsed - waitStarted;
                if (now.Avail < file)
                {
                    return new CheckResult(false, $"after {n - 1} files {mount} has {now.Avail / MiB} MiB free of {now.Size / MiB} MiB and autogrow did not grow it within 60 s");
                }

                var count = GrowthFilesToWrite(now, file, MaxFiles - n + 1);
                var write = await Round(n, count);
                if (write.ExitCode != 0)
                {
                    return new CheckResult(false, $"a write failed: {write.StderrTail(2)}");
                }

                now = GrowthUsage.Parse(write.StandardOutput);
                log.Add($"file {n + count - 1}: {(now.Size - now.Avail) * 100 / now.Size}% used");
                n += count;
            }

            return new CheckResult(false, $"{mount} is {now.FilesystemBytes / MiB} MiB after {MaxFiles} files, short of {goalMiB} MiB");
        }
        finally
        {
            await h.Transport.RunAsync(new Command("rm", ["-rf", "--", directory]), CancellationToken.None);
        }
    });
}

// Far from full, up to eight files go in one round trip; within four files of 90% used (the storage runbook's
// autogrow threshold) one at a time, so the spec sees every step of the usage autogrow reacts to.
int GrowthFilesToWrite(GrowthUsage now, long file, int left)
{
    var threshold = now.Size / 10;
    var room = (now.Avail - threshold) / file - 4;
    return (int)Math.Clamp(room, 1, Math.Min(8, left));
}
