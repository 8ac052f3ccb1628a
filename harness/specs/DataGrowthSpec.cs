using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Scenarios.Storage;

namespace Runbooks.Harness.Specs;

/// <summary>
/// "Simulating object creation to trigger disk growth": writes files until the filesystem reaches 6G
/// (scaled). It never grows anything itself: when free space runs low it waits for the installed
/// autogrow, and fails if a write fails or nothing grows. Removes its files afterwards. Each file is one
/// round trip (write, then read the usage) — at ~45 files a separate df and dumpe2fs per file tripled
/// the spec's commands under TCG.
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

    private const string WriteScript = "dd if=/dev/zero of=\"$1\" bs=1M count=\"$2\" conv=fsync status=none || exit 1\n" + UsageScript;

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
            try
            {
                // The incident wrote 62 files of 100M; allow a few more before calling it a failure.
                for (var n = 1; n <= 80; n++)
                {
                    if (now.FilesystemBytes >= goal)
                    {
                        return new CheckResult(true, $"/data grew from {start.FilesystemBytes / StorageSizes.MiB} to {now.FilesystemBytes / StorageSizes.MiB} MiB after {n - 1} files; {string.Join("; ", log.TakeLast(3))}");
                    }

                    now = await WaitForRoomAsync(h, now, file, ct).ConfigureAwait(false);
                    if (now.Avail < file)
                    {
                        return new CheckResult(false, $"after {n - 1} files /data has {now.Avail / StorageSizes.MiB} MiB free of {now.Size / StorageSizes.MiB} MiB and autogrow did not grow it within 60 s");
                    }

                    var before = now;
                    var write = await h.Transport.RunAsync(Shell.Script(WriteScript, $"{Directory}/{n}", sizes.GrowthFileMiB.ToString(CultureInfo.InvariantCulture))
                        .WithTimeout(TimeSpan.FromMinutes(5)), ct).ConfigureAwait(false);
                    if (write.ExitCode != 0)
                    {
                        return new CheckResult(false, $"write of file {n} failed: {write.StderrTail(2)}");
                    }

                    now = Usage.Parse(write.StandardOutput);
                    log.Add($"file {n}: {(before.Size - before.Avail + file) * 100 / before.Size}% used");
                }

                return new CheckResult(false, $"/data is {now.FilesystemBytes / StorageSizes.MiB} MiB after 80 files, short of {sizes.GrownMiB} MiB");
            }
            finally
            {
                await h.Transport.RunAsync(new Command("rm", ["-rf", "--", Directory]), CancellationToken.None).ConfigureAwait(false);
            }
        });

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
