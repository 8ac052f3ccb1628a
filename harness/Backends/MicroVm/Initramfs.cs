using System.IO.Compression;
using System.Text;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>
/// Writes a gzip-compressed cpio archive in the kernel's <c>newc</c> format: a 110-byte ASCII header per
/// entry, the name, then the data, each padded to 4 bytes, closed by <c>TRAILER!!!</c>.
/// </summary>
public sealed class NewcArchive
{
    private readonly List<(string Name, int Mode, byte[] Data)> _entries = [];

    public NewcArchive Directory(string name) => Add(name, 0x4000 | 0x1ED, []); // S_IFDIR | 0755

    public NewcArchive File(string name, byte[] data, bool executable = false) =>
        Add(name, 0x8000 | (executable ? 0x1ED : 0x1A4), data); // S_IFREG | 0755 / 0644

    private NewcArchive Add(string name, int mode, byte[] data)
    {
        if (name.StartsWith('/') || name.Split('/').Contains(".."))
        {
            throw new ArgumentException($"archive names are relative and stay inside: '{name}'", nameof(name));
        }

        _entries.Add((name, mode, data));
        return this;
    }

    /// <summary>The uncompressed archive.</summary>
    public byte[] ToCpio()
    {
        using var output = new MemoryStream();
        var inode = 1;
        foreach (var (name, mode, data) in _entries)
        {
            WriteEntry(output, name, mode, data, inode++, nlink: (mode & 0x4000) != 0 ? 2 : 1);
        }

        WriteEntry(output, "TRAILER!!!", 0, [], 0, nlink: 1);
        return output.ToArray();
    }

    public byte[] ToGzip()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(ToCpio());
        }

        return output.ToArray();
    }

    private static void WriteEntry(Stream output, string name, int mode, byte[] data, int inode, int nlink)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var header = new StringBuilder("070701");
        foreach (var field in new long[] { inode, mode, 0, 0, nlink, 0, data.Length, 0, 0, 0, 0, nameBytes.Length, 0 })
        {
            header.Append(field.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        }

        output.Write(Encoding.ASCII.GetBytes(header.ToString()));
        output.Write(nameBytes);
        Pad(output);
        output.Write(data);
        Pad(output);
    }

    private static void Pad(Stream output)
    {
        while (output.Position % 4 != 0)
        {
            output.WriteByte(0);
        }
    }
}

/// <summary>The initramfs of the microVM: static busybox, the modules that mount the root, and <see cref="GuestScripts.Init"/>.</summary>
public static class Initramfs
{
    /// <summary>
    /// What the init needs to mount the root: the virtio PCI transport (a module on Debian 12's 6.1), the 9p
    /// root over virtio, then the overlay on top. Each comes with the dependencies modules.dep names.
    /// </summary>
    internal static readonly string[] RootModules =
        ["drivers/virtio/virtio_pci", "net/9p/9pnet_virtio", "fs/9p/9p", "fs/overlayfs/overlay"];

    /// <summary>Without a modules.dep (a tree never passed through depmod): the order that fits kernels 6.1 to 6.12.</summary>
    internal static readonly string[] FallbackOrder =
        ["drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_pci_legacy_dev", "drivers/virtio/virtio_pci_modern_dev",
         "drivers/virtio/virtio_pci", "fs/netfs/netfs", "fs/fscache/fscache", "net/9p/9pnet", "net/9p/9pnet_virtio", "fs/9p/9p", "fs/overlayfs/overlay"];

    public static async Task<byte[]> BuildAsync(GuestKernel kernel, ITransport local, string scratchDirectory, CancellationToken cancellationToken)
    {
        const string busybox = "/bin/busybox";
        if (!System.IO.File.Exists(busybox))
        {
            throw new RunbookException($"{busybox} is missing; the microVM's initramfs needs a static busybox: apt-get install busybox-static");
        }

        var modules = await LoadOrderAsync(kernel, cancellationToken).ConfigureAwait(false);
        var archive = new NewcArchive();
        foreach (var dir in new[] { "bin", "proc", "sys", "dev", "lower", "upper", "newroot", "mod" })
        {
            archive.Directory(dir);
        }

        archive.File("bin/busybox", await System.IO.File.ReadAllBytesAsync(busybox, cancellationToken).ConfigureAwait(false), executable: true);
        archive.File("init", Encoding.ASCII.GetBytes(GuestScripts.Init(modules.Select(Path.GetFileName)!)), executable: true);
        foreach (var module in modules)
        {
            archive.File($"mod/{Path.GetFileName(module)}.ko", await DecompressAsync(KernelLocator.ModuleFile(kernel.ModulesDirectory, module)!, local, scratchDirectory, cancellationToken).ConfigureAwait(false));
        }

        return archive.ToGzip();
    }

    /// <summary>The modules to insmod, in order; fails naming the kernel when 9p is neither a module nor built in.</summary>
    private static async Task<IReadOnlyList<string>> LoadOrderAsync(GuestKernel kernel, CancellationToken cancellationToken)
    {
        var depFile = Path.Combine(kernel.ModulesDirectory, "modules.dep");
        var order = System.IO.File.Exists(depFile)
            ? ModuleOrder.Resolve(await System.IO.File.ReadAllTextAsync(depFile, cancellationToken).ConfigureAwait(false), RootModules)
            : FallbackOrder;
        var present = order.Where(m => KernelLocator.ModuleFile(kernel.ModulesDirectory, m) is not null).ToList();
        var builtin = Path.Combine(kernel.ModulesDirectory, "modules.builtin");
        var builtIn = System.IO.File.Exists(builtin) && (await System.IO.File.ReadAllTextAsync(builtin, cancellationToken).ConfigureAwait(false)).Contains("kernel/fs/9p/9p.ko", StringComparison.Ordinal);
        if (!builtIn && !present.Contains("fs/9p/9p"))
        {
            throw new RunbookException($"kernel {kernel.Release} has no fs/9p/9p module under {kernel.ModulesDirectory}; use a non-cloud Debian kernel (linux-image-amd64)");
        }

        return present;
    }

    // busybox insmod reads only plain .ko files.
    private static async Task<byte[]> DecompressAsync(string file, ITransport local, string scratchDirectory, CancellationToken cancellationToken)
    {
        var tool = Path.GetExtension(file) switch
        {
            ".xz" => "xz",
            ".zst" => "zstd",
            ".gz" => "gzip",
            _ => null,
        };
        if (tool is null)
        {
            return await System.IO.File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }

        var output = Path.Combine(scratchDirectory, Path.GetFileName(file) + ".ko");
        var result = await local.RunAsync(Shell.Script("exec \"$1\" -dc -- \"$2\" > \"$3\"", tool, file, output), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new RunbookException($"cannot decompress {file} with {tool} (exit {result.ExitCode}: {result.StderrTail(3)}); apt-get install {(tool == "xz" ? "xz-utils" : tool)}");
        }

        var bytes = await System.IO.File.ReadAllBytesAsync(output, cancellationToken).ConfigureAwait(false);
        System.IO.File.Delete(output);
        return bytes;
    }
}
