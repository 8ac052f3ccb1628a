using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runbooks.Lsp.Protocol;

/// <summary>
/// JSON-RPC 2.0 messages framed the LSP way: <c>Content-Length: N\r\n\r\n</c> then N bytes of UTF-8 JSON.
/// Reading and writing are independent; writes are serialised because diagnostics are published from
/// background work while responses are written from the request loop.
/// </summary>
internal sealed class MessageStream(Stream input, Stream output)
{
    private const int MaxHeaderBytes = 8 * 1024;
    private const int MaxContentBytes = 64 * 1024 * 1024;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>The next message; a frame that is not JSON is a <see cref="MalformedMessage"/>; null at end of input.</summary>
    public async Task<IncomingMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        int? length = null;
        while (true)
        {
            var line = await ReadHeaderLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (length is not null)
                {
                    break;
                }

                // Blank lines between frames carry nothing; a header block without a length cannot be framed.
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.TryParse(line[(colon + 1)..].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n <= MaxContentBytes
                    ? n
                    : throw new InvalidDataException($"bad Content-Length header '{line}'");
            }
        }

        var content = new byte[length.Value];
        await input.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(content) is JsonObject message ? new IncomingMessage(message) : new MalformedMessage("a JSON-RPC message is a JSON object");
        }
        catch (JsonException ex)
        {
            return new MalformedMessage(ex.Message);
        }
    }

    public async Task WriteAsync(JsonObject message, CancellationToken cancellationToken = default)
    {
        message["jsonrpc"] = "2.0";
        var body = JsonSerializer.SerializeToUtf8Bytes(message);
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(body, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<string?> ReadHeaderLineAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await input.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }

            if (one[0] == '\n')
            {
                return Encoding.ASCII.GetString([.. bytes]).TrimEnd('\r');
            }

            bytes.Add(one[0]);
            if (bytes.Count > MaxHeaderBytes)
            {
                throw new InvalidDataException("a header line longer than 8 KiB: the input is not LSP framing");
            }
        }
    }
}

/// <summary>A JSON-RPC message as received: a request (method and id), a notification (method) or a response.</summary>
internal class IncomingMessage(JsonObject json)
{
    public JsonObject Json { get; } = json;

    public string? Method => Json["method"] is JsonValue value && value.TryGetValue<string>(out var method) ? method : null;

    /// <summary>The id as sent (number or string), cloned so it can go into the response.</summary>
    public JsonNode? Id => Json["id"]?.DeepClone();

    public bool IsRequest => Json.ContainsKey("id") && Method is not null;

    public JsonNode? Params => Json["params"];
}

/// <summary>A frame whose body was not a JSON object: answered with a parse error, never a crash.</summary>
internal sealed class MalformedMessage(string reason) : IncomingMessage([])
{
    public string Reason { get; } = reason;
}
