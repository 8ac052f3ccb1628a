using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A WireGuard public key, known now (a literal, validated at DSL-call time) or derived on a host at probe
/// time from that host's private key file — so a runbook never pastes a key and a private key never leaves
/// the host it lives on.
/// </summary>
/// <example><c>WgPublicKey.DerivedOn("server", "/etc/wireguard/wg0.key")</c></example>
public sealed class WgPublicKey
{
    private readonly string? _literal;
    private readonly string? _host;
    private readonly string? _privateKeyFile;
    private readonly Secret? _privateKey;

    private WgPublicKey(string? literal, string? host, string? privateKeyFile, Secret? privateKey)
    {
        _literal = literal;
        _host = host;
        _privateKeyFile = privateKeyFile;
        _privateKey = privateKey;
    }

    /// <summary>A public key given as text: 32 bytes in base64.</summary>
    /// <example><c>WgPublicKey.Of("g9stvuZgnSYtvx+jbtpwfNEpmDf2NzrlZRHRvmBnk1s=")</c></example>
    public static WgPublicKey Of(string publicKey) => new(WgKey.RequireValid(publicKey, "publicKey"), null, null, null);

    /// <summary>The public key of the private key in <paramref name="privateKeyFile"/> on inventory host <paramref name="host"/>, derived there by <c>wg pubkey</c>.</summary>
    /// <example><c>WgPublicKey.DerivedOn("server", "/etc/wireguard/wg0.key")</c></example>
    public static WgPublicKey DerivedOn(string host, string privateKeyFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        return new(null, host, DslArguments.AbsolutePath(privateKeyFile, nameof(privateKeyFile)), null);
    }

    /// <summary>The public key of a private key held as a secret, derived on the host the step runs on (the key goes as stdin, never argv).</summary>
    /// <example><c>WgPublicKey.DerivedFrom(Secret.FromEnvironment("WG_KEY"))</c></example>
    public static WgPublicKey DerivedFrom(Secret privateKey) => new(null, null, null, privateKey ?? throw new ArgumentNullException(nameof(privateKey)));

    public static implicit operator WgPublicKey(string publicKey) => Of(publicKey);

    /// <summary>Resolves the key, reading on the owning host when it is derived.</summary>
    public async Task<string> ResolveAsync(HostContext host, CancellationToken cancellationToken)
    {
        if (_literal is not null)
        {
            return _literal;
        }

        var on = _host is null ? host : host.Host(_host);
        var command = _privateKey is not null ? WgKey.PublicKeyOfSecret(_privateKey) : WgKey.PublicKeyOfFile(_privateKeyFile!);
        var key = await on.FactAsync(new Fact<string>(command, r => r.StandardOutput.Trim()), cancellationToken).ConfigureAwait(false);
        if (!WgKey.IsValid(key))
        {
            throw new RunbookException($"on {on.Name}: `{command.Render()}` did not print a WireGuard public key (got '{key}'); is {_privateKeyFile ?? "the private key"} a key made by `wg genkey`?");
        }

        return key;
    }

    public override string ToString() => _literal ?? (_host is not null ? $"public key of {_host}:{_privateKeyFile}" : _privateKeyFile is not null ? $"public key of {_privateKeyFile}" : "public key of a secret");
}

/// <summary>Key helpers: validation and the commands that derive a public key on a host.</summary>
public static class WgKey
{
    /// <summary>True for 32 bytes in standard base64 (44 characters ending in '=').</summary>
    /// <example><c>WgKey.IsValid("g9stvuZgnSYtvx+jbtpwfNEpmDf2NzrlZRHRvmBnk1s=")</c></example>
    public static bool IsValid(string? key)
    {
        if (key is null || key.Length != 44 || key[43] != '=')
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[33];
        return Convert.TryFromBase64String(key, bytes, out var written) && written == 32;
    }

    internal static string RequireValid(string key, string parameter) =>
        IsValid(key) ? key : throw new ArgumentException($"'{key}' is not a WireGuard key: expected 32 bytes in base64 (44 characters ending in '='), as printed by `wg pubkey`", parameter);

    /// <summary>
    /// <c>wg pubkey &lt; FILE</c> run on the host: the private key is read by the host's own shell and never
    /// reaches the runner, its journal or its console.
    /// </summary>
    /// <example><c>WgKey.PublicKeyOfFile("/etc/wireguard/wg0.key")</c></example>
    public static Command PublicKeyOfFile(string privateKeyFile) =>
        Shell.Script("wg pubkey < \"$1\"", DslArguments.AbsolutePath(privateKeyFile, nameof(privateKeyFile))).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    /// <summary><c>wg pubkey</c> with the private key as secret stdin.</summary>
    /// <example><c>WgKey.PublicKeyOfSecret(Secret.FromEnvironment("WG_KEY"))</c></example>
    public static Command PublicKeyOfSecret(Secret privateKey) =>
        new Command("wg", ["pubkey"]).WithStdin(privateKey).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));
}
