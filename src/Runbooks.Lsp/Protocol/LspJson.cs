using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Runbooks.Lsp.Protocol;

/// <summary>A request the server answers with a JSON-RPC error object instead of a result.</summary>
internal sealed class RpcException : Exception
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    public const int ServerNotInitialized = -32002;

    public RpcException(int code, string message)
        : base(message) => Code = code;

    public RpcException()
        : this(InternalError, "internal error")
    {
    }

    public RpcException(string message)
        : this(InternalError, message)
    {
    }

    public RpcException(string message, Exception innerException)
        : base(message, innerException) => Code = InternalError;

    public int Code { get; }
}

/// <summary>
/// LSP shapes to and from JSON. Positions are 0-based lines and UTF-16 columns, which is what Roslyn's
/// <see cref="LinePosition"/> counts too, so no re-encoding is needed.
/// </summary>
internal static class LspJson
{
    public static JsonObject Position(LinePosition position) => new() { ["line"] = position.Line, ["character"] = position.Character };

    public static JsonObject Range(LinePositionSpan span) => new() { ["start"] = Position(span.Start), ["end"] = Position(span.End) };

    public static JsonObject Range(SourceText text, TextSpan span) => Range(text.Lines.GetLinePositionSpan(span));

    public static JsonObject Location(string uri, LinePositionSpan span) => new() { ["uri"] = uri, ["range"] = Range(span) };

    /// <summary>Offset of an LSP position in the text; a position past a line's end or the text's end is clamped, as the spec asks.</summary>
    public static int Offset(SourceText text, JsonNode? position)
    {
        var line = Required<int>(position, "line");
        var character = Required<int>(position, "character");
        if (line < 0 || character < 0)
        {
            throw new RpcException(RpcException.InvalidParams, $"position {line}:{character} is negative");
        }

        if (line >= text.Lines.Count)
        {
            return text.Length;
        }

        var textLine = text.Lines[line];
        return Math.Min(textLine.Start + character, textLine.End);
    }

    public static T Required<T>(JsonNode? node, string name)
    {
        try
        {
            return node?[name] is JsonValue value && value.TryGetValue<T>(out var result)
                ? result
                : throw new RpcException(RpcException.InvalidParams, $"missing or mistyped '{name}'");
        }
        catch (InvalidOperationException)
        {
            throw new RpcException(RpcException.InvalidParams, $"'{name}' is not in an object");
        }
    }

    public static string DocumentUri(JsonNode? parameters) => Required<string>(parameters?["textDocument"], "uri");

    /// <summary>The file a URI names; a non-file URI (an unsaved buffer) gets a path in the working folder so <c>#load</c> still resolves.</summary>
    public static string PathOf(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile
            ? parsed.LocalPath
            : System.IO.Path.Combine(Environment.CurrentDirectory, new string([.. System.IO.Path.GetFileName(uri).Where(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_')]) is { Length: > 0 } name ? name : "untitled.csx");

    public static string UriOf(string path) => new Uri(path).AbsoluteUri;

    /// <summary>LSP severities: 1 error, 2 warning, 3 information, 4 hint.</summary>
    public static int Severity(DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => 1,
        DiagnosticSeverity.Warning => 2,
        DiagnosticSeverity.Info => 3,
        _ => 4,
    };
}
