using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Disk image files and the loop devices that present them as block devices.</summary>
public static class Loop
{
    /// <summary>An image file by absolute path.</summary>
    /// <example><c>Loop.Image("/media/disk3.img").Create("1800M")</c></example>
    public static LoopImage Image(string path) => new(DslArguments.AbsolutePath(path, nameof(path)));

    /// <summary>A loop device by path.</summary>
    /// <example><c>Loop.Device("/dev/loop3").Attach("/media/disk3.img")</c></example>
    public static LoopDevice Device(string device) => new(DslArguments.Device(device, nameof(device)));
}

public sealed class LoopImage
{
    internal LoopImage(string path) => Path = path;

    public string Path { get; }

    /// <summary>Creates the image with <c>fallocate</c> (refused when the filesystem lacks the room); satisfied when it exists at least that big.</summary>
    /// <example><c>Loop.Image("/media/disk3.img").Create("1800M")</c></example>
    public Step Create(string size) => Create(Bytes.Parse(size));

    /// <summary>Creates the image with <c>fallocate</c>; size in bytes.</summary>
    /// <example><c>Loop.Image("/media/disk3.img").Create(1800L &lt;&lt; 20)</c></example>
    public Step Create(long bytes) => new ImageFileStep(Path, DslArguments.PositiveSize(bytes, nameof(bytes)));

    /// <summary>Attaches the image to the first free loop device (<c>losetup -f</c>); satisfied when any device already backs it.</summary>
    /// <example><c>Loop.Image("/media/disk3.img").AttachFirstFree()</c></example>
    public Step AttachFirstFree() => new AttachStep(Path, null);
}

public sealed class LoopDevice
{
    internal LoopDevice(string device) => Device = device;

    public string Device { get; }

    /// <summary>Attaches an image to this device; refused when the device backs another file or the image another device.</summary>
    /// <example><c>Loop.Device("/dev/loop3").Attach("/media/disk3.img")</c></example>
    public Step Attach(string image) => new AttachStep(DslArguments.AbsolutePath(image, nameof(image)), Device);

    /// <summary>Detaches the device (<c>losetup -d</c>); refused while it is a PV or mounted.</summary>
    /// <example><c>Loop.Device("/dev/loop3").Detach()</c></example>
    public Step Detach() => new DetachStep(Device);
}
