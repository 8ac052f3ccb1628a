using Runbooks.Engine;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>
/// The modules the initramfs must insmod, dependencies first, read from the kernel's own <c>modules.dep</c>.
/// Kernels differ in what they build in: Debian 12's 6.1 has virtio, virtio_ring, virtio_pci and fscache as
/// modules that 9p needs, newer ones build some of them in or drop them. A fixed list fitted one kernel and
/// failed on the other ("unknown symbol in module"), so the list is the closure of what modules.dep says.
/// </summary>
public static class ModuleOrder
{
    /// <summary>
    /// Every module in <paramref name="wanted"/> that the kernel has as a module, each preceded by its
    /// dependencies, once each. <paramref name="wanted"/> names modules by path under <c>kernel/</c> without
    /// extension (<c>fs/9p/9p</c>); the result is the same form. A wanted module the kernel does not list is
    /// left out: it is built in or absent, which the caller judges.
    /// </summary>
    public static IReadOnlyList<string> Resolve(string modulesDep, IEnumerable<string> wanted)
    {
        var dependencies = Parse(modulesDep);
        return DependencyOrder.Sort(wanted.Where(dependencies.ContainsKey), m => dependencies[m].Where(dependencies.ContainsKey), StringComparer.Ordinal).Order;
    }

    /// <summary><c>kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz …</c> → <c>fs/9p/9p</c> → [<c>net/9p/9pnet</c>, …].</summary>
    internal static Dictionary<string, string[]> Parse(string modulesDep)
    {
        var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var line in modulesDep.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            map[Name(line[..colon])] = line[(colon + 1)..]
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(Name)
                .ToArray();
        }

        return map;
    }

    private static string Name(string file)
    {
        var name = file.StartsWith("kernel/", StringComparison.Ordinal) ? file["kernel/".Length..] : file;
        var ko = name.LastIndexOf(".ko", StringComparison.Ordinal);
        return ko > 0 ? name[..ko] : name;
    }
}
