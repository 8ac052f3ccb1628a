using System.Security.Cryptography;
using System.Text;

namespace Runbooks.Engine;

/// <summary>
/// Something on a host a step says it owns: a port, a file's content, a sysctl's value, a firewall rule's
/// presence, a mount point's state. Two roles placed on one machine may claim the same resource only with the
/// same <see cref="Value"/>, and never an <see cref="Exclusive"/> one; a constellation is checked against this
/// before any host is touched.
/// </summary>
/// <param name="Kind">What sort of resource: <c>port</c>, <c>file</c>, <c>sysctl</c>, <c>firewall-rule</c>, <c>mount</c>.</param>
/// <param name="Key">Which one, in words a reader recognises: <c>tcp/8080</c>, <c>/etc/app.conf</c>.</param>
/// <param name="Value">What the step wants it to be; equal values from two roles merge.</param>
/// <param name="Exclusive">Only one owner at all, whatever the value (a listening port).</param>
public sealed record ResourceClaim(string Kind, string Key, string Value, bool Exclusive = false)
{
    /// <summary>A port a daemon listens on: one owner per machine.</summary>
    /// <example><c>Exec("start the app", start).Until(Probe.Tcp("127.0.0.1", 8080, TcpOutcome.Connected)).Owns(ResourceClaim.Port(8080))</c></example>
    public static ResourceClaim Port(int port, string protocol = "tcp") =>
        new("port", $"{(protocol is "tcp" or "udp" ? protocol : throw new ArgumentException($"protocol '{protocol}' is not tcp or udp", nameof(protocol)))}/{Dsl.DslArguments.Port(port)}", "listening", Exclusive: true);

    /// <summary>A file with exactly this content; the value is its SHA-256, so equal content from two roles merges.</summary>
    /// <example><c>ResourceClaim.File("/etc/app/app.conf", "listen = 0.0.0.0:8080\n", "0644")</c></example>
    public static ResourceClaim File(string path, string content, string mode) =>
        new("file", path, $"content sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..16]}, mode {mode}");

    /// <summary>A kernel parameter with this value.</summary>
    /// <example><c>ResourceClaim.Sysctl("net.core.somaxconn", "4096")</c></example>
    public static ResourceClaim Sysctl(string key, string value) => new("sysctl", key, value);

    /// <summary>A mount point in this state (<c>read-write</c>, <c>read-only</c>, <c>fills its device</c>).</summary>
    /// <example><c>ResourceClaim.Mount("/data", "read-write")</c></example>
    public static ResourceClaim Mount(string target, string state) => new("mount", target, state);

    public override string ToString() => $"{Kind} {Key}";
}
