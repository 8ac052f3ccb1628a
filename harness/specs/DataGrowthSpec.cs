using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Scenarios.Storage;

namespace Runbooks.Harness.Specs;

/// <summary>
/// "Simulating object creation to trigger disk growth": writes files until the filesystem reaches 6G
/// (scaled). It never grows anything itself: when free space runs low it waits for the installed
/// autogrow, and fails if a write fails or nothing grows. Removes its files afterwards. A round trip writes
/// one or more files and then reads the usage: with a df, a dumpe2fs and an SSH channel per file, ~45
/// files cost 19 s under TCG, most of it in process start-up rather than in writing.
/// </summary>
public static class DataGrowthSpec
{
    private const string Directory = "/data/runbooks-growth";

    /// <summary>What one round trip reports: the filesystem's own size and df's view of it.</summary>
    public sealed record Usage(long FilesystemBytes, long Size, long Avail)
    {
        /// <summary>
        /// Reads <see cref="UsageScript"/>'s output. The filesystem's own size (block count × block size),
        /// not df's, is what grows to the goal: df subtracts ext4's metadata, which is a much larger share
        /// of a small (scaled) filesystem than of the incident's.
        /// </summary>
        public static Usage Parse(string output)
        {
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var df = lines.First(l => l.Length > 0 && char.IsAsciiDigit(l[0])).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Field(string name) => long.Parse(lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            return new Usage(Field("Block count") * Field("Block size"), long.Parse(df[0], CultureInfo.InvariantCulture), long.Parse(df[1], CultureInfo.InvariantCulture));
        }
    }

    private const string UsageScript = """
        df -B1 --output=size,avail /data | tail -n 1
        dumpe2fs -h /dev/vg0/data0 2>/dev/null | grep -E '^Block (count|size):'
        """;

    private const string PrepareScript = "mkdir -p -- \"$1\" || exit 1\n" + UsageScript;

    private const int MaxFiles = 80;

    /// <summary>$1 directory, $2 first file number, $3 how many files, $4 MiB each; stops at the first failed write.</summary>
    private const string WriteScript = """
        i=$2
        while [ "$i" -lt $(($2 + $3)) ]; do
            dd if=/dev/zero of="$1/$i" bs=1M count="$4" conv=fsync status=none || { echo "write of file $i failed" >&2; exit 1; }
            i=$((i + 1))
        done

        """ + UsageScript;

    public static Check Check(StorageSizes sizes) =>
        new($"writing {sizes.GrowthFileMiB} MiB files grows /data to {sizes.GrownMiB} MiB without a failed write", async (h, ct) =>
        {
            h.InvalidateFacts();
            var file = sizes.GrowthFileMiB * StorageSizes.MiB;
            var goal = sizes.GrownMiB * StorageSizes.MiB;
            var prepare = await h.Transport.RunAsync(Shell.Script(PrepareScript, Directory), ct).ConfigureAwait(false);
            if (prepare.ExitCode != 0)
            {
                return new CheckResult(false, $"cannot create {Directory}: {prepare.StderrTail(2)}");
            }

            var start = Usage.Parse(prepare.StandardOutput);
            var now = start;
            var log = new List<string>();
            var clock = Stopwatch.StartNew();
            var waited = TimeSpan.Zero;
            try
            {
                // The incident wrote 62 files of 100M; allow a few more before calling it a failure.
                var n = 1;
                while (n <= MaxFiles)
                {
                    if (now.FilesystemBytes >= goal)
                    {
                        return new CheckResult(true, $"/data grew from {start.FilesystemBytes / StorageSizes.MiB} to {now.FilesystemBytes / StorageSizes.MiB} MiB after {n - 1} files in {clock.Elapsed.TotalSeconds:0.0} s ({waited.TotalSeconds:0.0} s waiting for autogrow); {string.Join("; ", log.TakeLast(3))}");
                    }

                    var waitStarted = clock.Elapsed;
                    now = await WaitForRoomAsync(h, now, file, ct).ConfigureAwait(false);
                    waited += clock.Elapsed - waitStarted;
                    if (now.Avail < file)
                    {
                        return new CheckResult(false, $"after {n - 1} files /data has {now.Avail / StorageSizes.MiB} MiB free of {now.Size / StorageSizes.MiB} MiB and autogrow did not grow it within 60 s");
                    }

                    var count = FilesToWrite(now, file, MaxFiles - n + 1);
                    var write = await h.Transport.RunAsync(Shell.Script(WriteScript, Directory, Number(n), Number(count), Number(sizes.GrowthFileMiB))
                        .WithTimeout(TimeSpan.FromMinutes(5)), ct).ConfigureAwait(false);
                    if (write.ExitCode != 0)
                    {
                        return new CheckResult(false, $"a write failed: {write.StderrTail(2)}");
                    }

                    now = Usage.Parse(write.StandardOutput);
                    log.Add($"file {n + count - 1}: {(now.Size - now.Avail) * 100 / now.Size}% used");
                    n += count;
                }

                return new CheckResult(false, $"/data is {now.FilesystemBytes / StorageSizes.MiB} MiB after {MaxFiles} files, short of {sizes.GrownMiB} MiB");
            }
            finally
            {
                await h.Transport.RunAsync(new Command("rm", ["-rf", "--", Directory]), CancellationToken.None).ConfigureAwait(false);
            }
        });

    // Far from full, up to eight files go in one round trip; within four files of 90% used (the storage
    // runbook's autogrow threshold) one at a time, so the spec sees every step of the usage autogrow reacts to.
    internal static int FilesToWrite(Usage now, long file, int left)
    {
        var threshold = now.Size / 10;
        var room = (now.Avail - threshold) / file - 4;
        return (int)Math.Clamp(room, 1, Math.Min(8, left));
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    // Below two files of room, give autogrow up to 60 s to grow the filesystem, polling once a second.
    private static async Task<Usage> WaitForRoomAsync(HostContext h, Usage now, long file, CancellationToken ct)
    {
        var waited = TimeSpan.Zero;
        var size = now.Size;
        while (now.Avail < 2 * file && waited < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(1000, ct).ConfigureAwait(false);
            waited += TimeSpan.FromSeconds(1);
            var probe = await h.Transport.RunAsync(Shell.Script(UsageScript), ct).ConfigureAwait(false);
            now = Usage.Parse(probe.StandardOutput);
            if (now.Size > size)
            {
                break;
            }
        }

        return now;
    }
}
