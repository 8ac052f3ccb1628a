using System.Security.Cryptography;
using System.Text;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Netns;

/// <summary>
/// Mount points made on this machine for private paths it does not have (<c>/etc/app</c>, <c>/srv/www</c>). Two runs
/// at once may need the same one (two CI jobs of one scenario): each run claims it, and only the last to release it
/// removes it — removing a directory that is still a mount point in another run's namespace would silently detach
/// that run's private copy. Claims live under <c>/run/runbooks-netns/mountpoints</c>, one folder per path, one file per run.
/// </summary>
internal static class SharedMountpoints
{
    private static readonly string Registry = Path.Combine(NetnsTransport.MountDirectory, "mountpoints");

    /// <summary>
    /// Makes sure <paramref name="path"/> exists to mount on (a directory, or an empty file for a file mount) and returns
    /// true when this run must release it at destroy: the path was missing, or other runs made it and still hold it.
    /// </summary>
    public static bool Claim(string path, string run, bool file = false)
    {
        using var _ = Lock();
        var entry = EntryFor(path);
        if (!Directory.Exists(entry) && (System.IO.File.Exists(path) || Directory.Exists(path)))
        {
            return false; // the machine's own: mount over it, never remove it
        }

        if (!Directory.Exists(entry))
        {
            Directory.CreateDirectory(entry);
            var top = path;
            while (!Directory.Exists(Path.GetDirectoryName(top)!))
            {
                top = Path.GetDirectoryName(top)!;
            }

            System.IO.File.WriteAllText(Path.Combine(entry, ".path"), $"{path}\n{top}\n");
            if (file)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                System.IO.File.WriteAllText(path, "");
            }
            else
            {
                Directory.CreateDirectory(path);
            }
        }

        System.IO.File.WriteAllText(Path.Combine(entry, run), "");
        return true;
    }

    /// <summary>Drops this run's claim; the last run to leave removes the path and the parents made for it, while empty. Returns what could not be removed.</summary>
    public static IReadOnlyList<string> Release(string path, string run)
    {
        using var _ = Lock();
        var entry = EntryFor(path);
        System.IO.File.Delete(Path.Combine(entry, run));
        if (!Directory.Exists(entry) || Directory.EnumerateFiles(entry).Any(f => Path.GetFileName(f) != ".path"))
        {
            return [];
        }

        var lines = System.IO.File.ReadAllLines(Path.Combine(entry, ".path"));
        var top = lines.Length > 1 ? lines[1] : path;
        var left = new List<string>();
        for (var current = path; ; current = Path.GetDirectoryName(current)!)
        {
            try
            {
                if (System.IO.File.Exists(current) && new FileInfo(current).Length == 0)
                {
                    System.IO.File.Delete(current);
                }
                else if (Directory.Exists(current))
                {
                    Directory.Delete(current);
                }
            }
            catch (IOException)
            {
                // Something was written there from outside any namespace: it is someone else's now.
                left.Add($"mountpoint {current} (made for a run, no longer empty)");
                break;
            }

            if (current == top || current.Length <= 1)
            {
                break;
            }
        }

        Directory.Delete(entry, recursive: true);
        return left;
    }

    private static string EntryFor(string path) =>
        Path.Combine(Registry, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..20]);

    /// <summary>One process at a time changes the registry: claims and releases are short, so a few seconds of retries is plenty.</summary>
    private static FileStream Lock()
    {
        Directory.CreateDirectory(Registry);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(Path.Combine(Registry, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 200)
            {
                Thread.Sleep(25);
            }
        }
    }
}
