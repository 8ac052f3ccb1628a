using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Runbooks.Tests.Lsp;

/// <summary>
/// <c>dotnet runbook.dll lsp</c> as a child process, driven over its real stdin/stdout as an editor drives
/// it. Framing is written here again on purpose, so a framing bug in the server cannot hide behind itself.
/// </summary>
internal sealed class LspProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonObject> _notifications = Channel.CreateUnbounded<JsonObject>();
    private readonly Dictionary<int, TaskCompletionSource<JsonObject>> _pending = [];
    private readonly Lock _gate = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _reader;
    private int _nextId;

    private LspProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _reader = Task.Run(ReadLoopAsync);
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static LspProcess Start(string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(TestContext.CurrentContext.TestDirectory, "runbook.dll"), "lsp"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        return new LspProcess(Process.Start(start)!);
    }

    /// <summary>initialize then initialized, as every editor starts.</summary>
    public async Task<JsonObject> InitializeAsync(CancellationToken cancellationToken, JsonObject? initializationOptions = null)
    {
        var reply = await RequestAsync("initialize", new JsonObject { ["processId"] = Environment.ProcessId, ["rootUri"] = null, ["capabilities"] = new JsonObject(), ["initializationOptions"] = initializationOptions }, cancellationToken);
        await NotifyAsync("initialized", new JsonObject(), cancellationToken);
        return reply;
    }

    public async Task<JsonObject> RequestAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        var source = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        int id;
        lock (_gate)
        {
            id = ++_nextId;
            _pending[id] = source;
        }

        await SendAsync(new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters }, cancellationToken);
        return await source.Task.WaitAsync(cancellationToken);
    }

    public Task NotifyAsync(string method, JsonNode? parameters, CancellationToken cancellationToken) =>
        SendAsync(new JsonObject { ["method"] = method, ["params"] = parameters }, cancellationToken);

    /// <summary>Raw bytes, for bad input.</summary>
    public async Task SendRawAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _process.StandardInput.BaseStream.WriteAsync(bytes, cancellationToken);
        await _process.StandardInput.BaseStream.FlushAsync(cancellationToken);
    }

    /// <summary>The next publishDiagnostics for <paramref name="uri"/>, skipping others.</summary>
    public async Task<JsonArray> DiagnosticsAsync(string uri, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _notifications.Reader.ReadAsync(cancellationToken);
            if (message["method"]?.GetValue<string>() == "textDocument/publishDiagnostics" && message["params"]!["uri"]!.GetValue<string>() == uri)
            {
                return message["params"]!["diagnostics"]!.AsArray();
            }
        }
    }

    /// <summary>A response the test did not send a request for (an answer to a malformed frame).</summary>
    public async Task<JsonObject> UnsolicitedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _notifications.Reader.ReadAsync(cancellationToken);
            if (message["method"] is null)
            {
                return message;
            }
        }
    }

    public async Task<int> ShutdownAsync(CancellationToken cancellationToken)
    {
        await RequestAsync("shutdown", null, cancellationToken);
        await NotifyAsync("exit", null, cancellationToken);
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
    {
        message["jsonrpc"] = "2.0";
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        await SendRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body], cancellationToken);
    }

    private async Task ReadLoopAsync()
    {
        var output = _process.StandardOutput.BaseStream;
        try
        {
            while (true)
            {
                var length = -1;
                string line;
                while ((line = await ReadLineAsync(output)) != "")
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    {
                        length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                var body = new byte[length];
                await output.ReadExactlyAsync(body);
                var message = JsonNode.Parse(body)!.AsObject();
                TaskCompletionSource<JsonObject>? waiting = null;
                if (message["method"] is null && message["id"] is JsonValue id && id.TryGetValue<int>(out var number))
                {
                    lock (_gate)
                    {
                        _pending.Remove(number, out waiting);
                    }
                }

                if (waiting is not null)
                {
                    waiting.SetResult(message);
                }
                else
                {
                    await _notifications.Writer.WriteAsync(message);
                }
            }
        }
        catch (EndOfStreamException)
        {
            _notifications.Writer.TryComplete();
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new EndOfStreamException();
            }

            if (one[0] == '\n')
            {
                return Encoding.ASCII.GetString([.. bytes]).TrimEnd('\r');
            }

            bytes.Add(one[0]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await Task.WhenAny(_reader, Task.Delay(2000));
        _process.Dispose();
    }
}
