namespace Runbooks.Commands;

/// <summary>One argv element: plain text, or a secret that renders as <c>***</c>.</summary>
public readonly record struct Arg
{
    private readonly string? _text;
    private readonly Secret? _secret;

    private Arg(string? text, Secret? secret)
    {
        _text = text;
        _secret = secret;
    }

    public bool IsSecret => _secret is not null;

    public static implicit operator Arg(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null);

    public static implicit operator Arg(Secret secret) => new(null, secret ?? throw new ArgumentNullException(nameof(secret)));

    public static Arg FromString(string text) => text;

    public static Arg FromSecret(Secret secret) => secret;

    /// <summary>The value handed to the process.</summary>
    public string Reveal() => _secret?.Reveal() ?? _text ?? "";

    /// <summary>The value shown to people.</summary>
    public override string ToString() => _secret is null ? _text ?? "" : Secret.Mask;
}
