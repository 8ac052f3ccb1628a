namespace Runbooks.Commands;

/// <summary>
/// A value that must never be shown: a private key, a password, a token.
/// Rendering a command, a plan, a journal record or an exception shows <c>***</c> in its place.
/// </summary>
/// <example><c>var key = Secret.FromFile("/etc/wireguard/wg0.key");</c></example>
public sealed class Secret
{
    public const string Mask = "***";

    private readonly string _value;

    private Secret(string value)
    {
        _value = value;
        SecretRedactor.Register(value);
    }

    /// <summary>Wraps a value that came from a file, a host or an environment variable.</summary>
    public static Secret Of(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return new Secret(value);
    }

    /// <summary>Reads a secret from a local file, trimming the trailing newline tools write.</summary>
    public static Secret FromFile(string path) => Of(System.IO.File.ReadAllText(path).TrimEnd('\r', '\n'));

    /// <summary>Reads a secret from an environment variable of the runbook process.</summary>
    public static Secret FromEnvironment(string variable) =>
        Of(EnvironmentReads.ReadSecret(variable)
           ?? throw new RunbookException($"environment variable {variable} is not set; export it before the run"));

    /// <summary>The real value, for the one place that must hand it to a process.</summary>
    public string Reveal() => _value;

    public override string ToString() => Mask;
}
