using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>A Debian kernel image and the module tree that matches it.</summary>
/// <param name="Release">e.g. <c>6.1.0-56-amd64</c>.</param>
/// <param name="Vmlinuz">The bootable image.</param>
/// <param name="ModulesDirectory">The tree holding <c>kernel/fs/9p</c> etc., on the host.</param>
/// <param name="Source">"host" when it came from /boot and /lib/modules, "cache" when fetched with apt.</param>
public sealed record GuestKernel(string Release, string Vmlinuz, string ModulesDirectory, string Source)
{
    /// <summary>Where the guest expects the modules; a cached tree is bind-mounted there.</summary>
    public string GuestModulesDirectory => $"/lib/modules/{Release}";
}

/// <summary>
/// Finds a kernel the microVM can boot: the machine's own Debian kernel package when one is installed,
/// otherwise the <c>linux-image-amd64</c> package fetched with apt and unpacked into a cache.
/// </summary>
public static partial class KernelLocator
{
    /// <summary>Modules the guest cannot do without: the 9p root, the overlay, loop, device-mapper.</summary>
    internal static readonly string[] RequiredModules =
        ["fs/9p/9p", "net/9p/9pnet_virtio", "fs/overlayfs/overlay", "drivers/md/dm-mod", "drivers/block/loop"];

    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("RUNBOOKS_KERNEL_CACHE") is { Length: > 0 } dir ? dir : "/var/cache/runbooks/kernel";

    /// <summary>
    /// Picks the best of the installed kernels: image and modules both present, every required module there,
    /// and not the <c>-cloud-</c> flavour (it lacks 9p). Highest release first.
    /// </summary>
    public static GuestKernel? Choose(IEnumerable<string> vmlinuzFiles, Func<string, string?> modulesDirectoryOf, Func<string, string, bool> hasModule, string source)
    {
        return vmlinuzFiles
            .Select(v => (vmlinuz: v, release: Path.GetFileName(v)["vmlinuz-".Length..]))
            .Where(k => !k.release.Contains("-cloud-", StringComparison.Ordinal))
            .Select(k => (k.vmlinuz, k.release, modules: modulesDirectoryOf(k.release)))
            .Where(k => k.modules is not null && RequiredModules.All(m => hasModule(k.modules, m)))
            .OrderByDescending(k => k.release, ReleaseComparer.Instance)
            .Select(k => new GuestKernel(k.release, k.vmlinuz, k.modules!, source))
            .FirstOrDefault();
    }

    /// <summary>The file of a module in a tree, whatever its compression; null when absent.</summary>
    public static string? ModuleFile(string modulesDirectory, string module) =>
        new[] { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" }
            .Select(ext => Path.Combine(modulesDirectory, "kernel", module + ext))
            .FirstOrDefault(System.IO.File.Exists);

    /// <summary>
    /// The newest generic kernel image in <c>apt-cache search</c> output: <c>linux-image-RELEASE-amd64</c>, not the
    /// <c>-cloud-</c> flavour (no 9p), not <c>-rt-</c>, not the <c>-unsigned</c> or <c>-dbg</c> twins.
    /// </summary>
    public static string? NewestPackage(string aptCacheSearchOutput) =>
        GenericImagePattern().Matches(aptCacheSearchOutput)
            .Select(m => (package: m.Groups[1].Value, release: m.Groups[2].Value))
            .OrderByDescending(p => p.release, ReleaseComparer.Instance)
            .Select(p => p.package)
            .FirstOrDefault();

    /// <summary>The package <c>linux-image-amd64</c> depends on, from <c>apt-cache depends</c> output.</summary>
    public static string? PackageFromAptDepends(string aptCacheDependsOutput) =>
        DependsPattern().Matches(aptCacheDependsOutput).Select(m => m.Groups[1].Value).FirstOrDefault();

    /// <summary>Finds a kernel on this machine, or fetches and unpacks one into the cache.</summary>
    public static async Task<GuestKernel> LocateAsync(ITransport local, CancellationToken cancellationToken)
    {
        var installed = FindIn("/boot", root: "/", "host") ?? FindCached();
        if (installed is not null)
        {
            return installed;
        }

        return await FetchAsync(local, cancellationToken).ConfigureAwait(false);
    }

    private static GuestKernel? FindCached()
    {
        if (!Directory.Exists(CacheDirectory))
        {
            return null;
        }

        return Directory.EnumerateDirectories(CacheDirectory)
            .Select(d => FindIn(Path.Combine(d, "boot"), d, "cache"))
            .OfType<GuestKernel>()
            .OrderByDescending(k => k.Release, ReleaseComparer.Instance)
            .FirstOrDefault();
    }

    private static GuestKernel? FindIn(string bootDirectory, string root, string source)
    {
        if (!Directory.Exists(bootDirectory))
        {
            return null;
        }

        return Choose(
            Directory.EnumerateFiles(bootDirectory, "vmlinuz-*"),
            release => new[] { Path.Combine(root, "lib/modules", release), Path.Combine(root, "usr/lib/modules", release) }
                .FirstOrDefault(d => Directory.Exists(Path.Combine(d, "kernel"))),
            (dir, module) => ModuleFile(dir, module) is not null,
            source);
    }

    private static async Task<GuestKernel> FetchAsync(ITransport local, CancellationToken cancellationToken)
    {
        const string what = "the microVM needs a Debian kernel (linux-image-*-amd64) and none is installed";
        // The newest generic image apt offers: Debian 12 carries 6.12 (+deb12) beside its default 6.1, and under
        // emulation 6.12 boots to SSH in 14 s where 6.1 takes 19 s (medians of 3, BENCHMARKS.md).
        var search = await local.RunAsync(new Command("apt-cache", ["search", "--names-only", "^linux-image-[0-9].*-amd64$"]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
        var package = NewestPackage(search.StandardOutput);
        if (package is null)
        {
            var depends = await local.RunAsync(new Command("apt-cache", ["depends", "linux-image-amd64"]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
            package = PackageFromAptDepends(depends.StandardOutput)
                ?? throw new RunbookException($"{what}, and neither `apt-cache search` nor `apt-cache depends linux-image-amd64` named a package (exit {depends.ExitCode}: {depends.StderrTail(3)}); run `apt-get update` and retry");
        }

        var target = Path.Combine(CacheDirectory, package);
        var download = Path.Combine(CacheDirectory, "download");
        Directory.CreateDirectory(download);
        var fetched = await local.RunAsync(
            Shell.Script("cd \"$1\" && exec apt-get download \"$2\"", download, package).WithTimeout(TimeSpan.FromMinutes(10)),
            cancellationToken).ConfigureAwait(false);
        if (fetched.ExitCode != 0)
        {
            throw new RunbookException($"{what}; `apt-get download {package}` failed: {fetched.StderrTail(3)}; run `apt-get update`, or install it with `apt-get install {package}`");
        }

        var deb = Directory.EnumerateFiles(download, package + "_*.deb").First();
        Directory.CreateDirectory(target);
        await local.RunCheckedAsync(new Command("dpkg-deb", ["-x", deb, target]).WithTimeout(TimeSpan.FromMinutes(5)), cancellationToken).ConfigureAwait(false);
        System.IO.File.Delete(deb);

        // The package ships no modules.dep (its postinst runs depmod), and modprobe in the guest needs it.
        var release = package["linux-image-".Length..];
        await local.RunCheckedAsync(new Command("depmod", ["-b", target, release]), cancellationToken).ConfigureAwait(false);
        return FindIn(Path.Combine(target, "boot"), target, "cache")
            ?? throw new RunbookException($"{what}; unpacked {package} into {target} but found no usable vmlinuz and modules there (9p, overlay, dm-mod, loop); remove {target} and retry");
    }

    [GeneratedRegex(@"^(linux-image-([0-9]+\.[0-9]+[^\s-]*(?:-[0-9]+)?)-amd64) ", RegexOptions.Multiline)]
    private static partial Regex GenericImagePattern();

    [GeneratedRegex(@"Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b")]
    private static partial Regex DependsPattern();

    private sealed class ReleaseComparer : IComparer<string>
    {
        public static readonly ReleaseComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Numbers(x ?? "");
            var b = Numbers(y ?? "");
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                if (a[i] != b[i])
                {
                    return a[i].CompareTo(b[i]);
                }
            }

            return a.Length.CompareTo(b.Length);
        }

        private static long[] Numbers(string release) =>
            [.. Regex.Matches(release, "[0-9]+").Select(m => long.TryParse(m.Value, out var n) ? n : 0)];
    }
}
