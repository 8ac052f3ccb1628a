using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Runbooks.Lsp.Features;
using Runbooks.Lsp.Protocol;
using Runbooks.Lsp.Workspace;
using Runbooks.Scripting;

namespace Runbooks.Lsp;

/// <summary>
/// A Language Server Protocol server for runbooks and scenario files over a pair of streams (stdio for an
/// editor). Requests are answered in the order they arrive, so a completion after a change sees the change;
/// diagnostics are computed in the background after each open or change and published when ready, a newer
/// edit cancelling an older computation. Bad input gets a JSON-RPC error, never a crash.
/// </summary>
public sealed class LanguageServer : IDisposable
{
    // Waiting a little after an edit lets a burst of keystrokes cost one compilation, not one each.
    private static readonly TimeSpan ChangeSettle = TimeSpan.FromMilliseconds(50);

    private static readonly HashSet<string> PositionalMethods = new(StringComparer.Ordinal)
    {
        "textDocument/completion", "textDocument/hover", "textDocument/definition", "textDocument/signatureHelp",
    };

    private static readonly HashSet<string> RangeMethods = new(StringComparer.Ordinal) { "textDocument/codeAction" };

    private readonly MessageStream _messages;
    private readonly RunbookWorkspace _workspace;
    private readonly CompletionFeature _completion;
    private readonly TextWriter _log;
    private EditorSettings _settings;
    private readonly CancellationTokenSource _compilerWarmUp = new();
    private readonly TaskCompletionSource _firstPublished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _warm;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _diagnostics = new(StringComparer.Ordinal);
    private bool _initialized;
    private bool _shutdown;

    /// <param name="input">What the editor writes (the server's stdin).</param>
    /// <param name="output">What the editor reads (the server's stdout); nothing else may write to it.</param>
    /// <param name="kindOf">The kind of script a file is, by its path (a <c>*.scenario.csx</c> is a harness scenario).</param>
    /// <param name="log">Where the server's own trouble goes (stderr).</param>
    public LanguageServer(Stream input, Stream output, Func<string, ScriptKind> kindOf, TextWriter log)
    {
        _messages = new MessageStream(new BufferedStream(input), output);
        _workspace = new RunbookWorkspace(kindOf);
        _log = log;
        _settings = EditorSettings.None(log);
        _completion = new CompletionFeature(() => _settings, _workspace.Status);
        _warm = Task.Run(WarmUpAsync);
    }

    /// <summary>Serves until <c>exit</c> or the end of input. Returns the process exit code: 0 after <c>shutdown</c>, else 1, as the spec asks.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IncomingMessage? message;
            try
            {
                message = await _messages.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                // The framing itself is broken: nothing after this point can be trusted to line up.
                await _log.WriteLineAsync($"runbook lsp: {ex.Message}; stopping").ConfigureAwait(false);
                return 1;
            }

            if (message is null)
            {
                return _shutdown ? 0 : 1;
            }

            if (message is MalformedMessage malformed)
            {
                await RespondErrorAsync(null, RpcException.ParseError, malformed.Reason).ConfigureAwait(false);
                continue;
            }

            if (message.Method == "exit")
            {
                return _shutdown ? 0 : 1;
            }

            await DispatchAsync(message, cancellationToken).ConfigureAwait(false);
        }

        return 1;
    }

    private async Task DispatchAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        if (message.Method is null)
        {
            // A response to a request the server never sends, or junk with an id: say so if it can be answered.
            if (message.Json.ContainsKey("id") && !message.Json.ContainsKey("result") && !message.Json.ContainsKey("error"))
            {
                await RespondErrorAsync(message.Id, RpcException.InvalidRequest, "a request needs a method").ConfigureAwait(false);
            }

            return;
        }

        try
        {
            if (!message.IsRequest)
            {
                await NotifyAsync(message.Method, message.Params).ConfigureAwait(false);
                return;
            }

            var result = await RequestAsync(message.Method, message.Params, cancellationToken).ConfigureAwait(false);
            await _messages.WriteAsync(new JsonObject { ["id"] = message.Id, ["result"] = result }, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            if (message.IsRequest)
            {
                await RespondErrorAsync(message.Id, ex.Code, ex.Message).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await _log.WriteLineAsync($"runbook lsp: {message.Method} failed: {ex}").ConfigureAwait(false);
            if (message.IsRequest)
            {
                await RespondErrorAsync(message.Id, RpcException.InternalError, $"{message.Method} failed: {ex.Message}").ConfigureAwait(false);
            }
        }
    }

    private async Task<JsonNode?> RequestAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        if (method == "initialize")
        {
            _initialized = true;
            _settings = EditorSettings.FromInitialize(parameters, _log);
            return Capabilities();
        }

        if (!_initialized)
        {
            throw new RpcException(RpcException.ServerNotInitialized, $"{method} before initialize");
        }

        if (_shutdown)
        {
            throw new RpcException(RpcException.InvalidRequest, $"{method} after shutdown");
        }

        switch (method)
        {
            case "shutdown":
                _shutdown = true;
                return null;
            case "runbook/status":
                return _workspace.Status.ToJson();
            case "completionItem/resolve":
                return await _completion.ResolveAsync(parameters as JsonObject ?? throw new RpcException(RpcException.InvalidParams, "a completion item is an object"), cancellationToken).ConfigureAwait(false);
        }

        if (RangeMethods.Contains(method))
        {
            var uri = LspJson.DocumentUri(parameters);
            return _workspace.Find(uri, method) is { } open
                ? await CodeActionFeature.CodeActionsAsync(uri, open, parameters, cancellationToken).ConfigureAwait(false)
                : new JsonArray();
        }

        if (!PositionalMethods.Contains(method))
        {
            throw new RpcException(RpcException.MethodNotFound, $"{method} is not supported");
        }

        var (document, position) = await AtAsync(method, parameters, cancellationToken).ConfigureAwait(false);
        return method switch
        {
            "textDocument/completion" => document is null ? new JsonObject { ["isIncomplete"] = false, ["items"] = new JsonArray() } : await _completion.CompleteAsync(document, position, parameters?["context"], method, cancellationToken).ConfigureAwait(false),
            "textDocument/hover" => document is null ? null : await HoverFeature.HoverAsync(document, position, cancellationToken).ConfigureAwait(false),
            "textDocument/definition" => document is null ? null : await DefinitionFeature.DefinitionAsync(document, position, cancellationToken).ConfigureAwait(false),
            "textDocument/signatureHelp" => document is null ? null : await SignatureHelpFeature.SignatureHelpAsync(document, position, cancellationToken).ConfigureAwait(false),
            _ => throw new RpcException(RpcException.MethodNotFound, $"{method} is not supported"),
        };
    }

    /// <summary>The open document and caret offset a positional request names; no document when the file is not open.</summary>
    private async Task<(Document? Document, int Position)> AtAsync(string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        var document = _workspace.Find(LspJson.DocumentUri(parameters), method);
        if (document is null)
        {
            return (null, 0);
        }

        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        return (document, LspJson.Offset(text, parameters?["position"]));
    }

    private async Task NotifyAsync(string method, JsonNode? parameters)
    {
        if (!_initialized || method.StartsWith("$/", StringComparison.Ordinal))
        {
            // Notifications cannot be answered; before initialize the spec says drop them.
            return;
        }

        switch (method)
        {
            case "textDocument/didOpen":
                {
                    var item = parameters?["textDocument"];
                    var uri = LspJson.Required<string>(item, "uri");
                    Diagnose(uri, _workspace.Open(uri, LspJson.Required<string>(item, "text")), TimeSpan.Zero);
                    break;
                }

            case "textDocument/didChange":
                {
                    var uri = LspJson.DocumentUri(parameters);
                    // Full sync: the last change carries the whole buffer.
                    var text = parameters?["contentChanges"] is JsonArray { Count: > 0 } changes ? LspJson.Required<string>(changes[^1], "text") : throw new RpcException(RpcException.InvalidParams, "didChange without contentChanges");
                    if (_workspace.Change(uri, text) is { } script)
                    {
                        Diagnose(uri, script, ChangeSettle);
                    }

                    break;
                }

            case "textDocument/didClose":
                {
                    var uri = LspJson.DocumentUri(parameters);
                    _workspace.Close(uri);
                    if (_diagnostics.TryRemove(uri, out var pending))
                    {
                        await pending.CancelAsync().ConfigureAwait(false);
                    }

                    await _messages.WriteAsync(Notification("textDocument/publishDiagnostics", new JsonObject { ["uri"] = uri, ["diagnostics"] = new JsonArray() })).ConfigureAwait(false);
                    break;
                }
        }
    }

    private void Diagnose(string uri, ScriptSnapshot script, TimeSpan settle)
    {
        // A file to diagnose warms the compiler as well as the warm-up's small runbook would: it goes first.
        _compilerWarmUp.Cancel();
        var cancel = new CancellationTokenSource();
        if (_diagnostics.TryGetValue(uri, out var previous))
        {
            previous.Cancel();
        }

        _diagnostics[uri] = cancel;
        _ = Task.Run(async () =>
        {
            try
            {
                if (settle > TimeSpan.Zero)
                {
                    await Task.Delay(settle, cancel.Token).ConfigureAwait(false);
                }

                var published = await DiagnosticsFeature.PublishAsync(script, _settings.HostsFor(script.Path), cancel.Token).ConfigureAwait(false);
                await _messages.WriteAsync(Notification("textDocument/publishDiagnostics", published), cancel.Token).ConfigureAwait(false);
                _workspace.Status.Diagnosed(fromWorkspace: script.Document is not null);
            }
            catch (OperationCanceledException)
            {
                // A newer edit supersedes this one.
            }
            catch (Exception ex)
            {
                await _log.WriteLineAsync($"runbook lsp: diagnostics for {uri} failed: {ex}").ConfigureAwait(false);
            }
            finally
            {
                _firstPublished.TrySetResult();
            }
        });
    }

    /// <summary>
    /// Off the request loop, in two parts. First the compiler: a small runbook compiled and analyzed from its text, as the
    /// first diagnostics will be (cancelled as soon as a file is opened). Then, once the first diagnostics are out (on two
    /// cores they would otherwise share them with it) or at once when no file is open yet, Roslyn's MEF host and this
    /// server's own workspace, with one completion and one hover run in it, so the editor's first completion makes
    /// nothing anew. A failed warm-up is only logged: the first request then pays the cold cost itself.
    /// </summary>
    private async Task WarmUpAsync()
    {
        try
        {
            try
            {
                await RunbookWorkspace.WarmCompilerAsync(_compilerWarmUp.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_compilerWarmUp.IsCancellationRequested)
            {
                // A file was opened; its own diagnostics warm the same paths.
            }

            if (_compilerWarmUp.IsCancellationRequested || !_workspace.OpenUris.IsEmpty)
            {
                await _firstPublished.Task.ConfigureAwait(false);
            }

            _workspace.Status.WarmUpPhase("composing");
            await _workspace.WarmEditingAsync(new CompletionFeature(() => EditorSettings.None(TextWriter.Null), _workspace.Status), CancellationToken.None).ConfigureAwait(false);
            _workspace.Status.WarmUpPhase("done");
        }
        catch (Exception ex)
        {
            _workspace.Status.WarmUpPhase("failed");
            await _log.WriteLineAsync($"runbook lsp: warm-up failed: {ex.Message}").ConfigureAwait(false);
        }
    }

    private static JsonObject Capabilities() => new()
    {
        ["capabilities"] = new JsonObject
        {
            ["textDocumentSync"] = new JsonObject { ["openClose"] = true, ["change"] = 1 },
            ["completionProvider"] = new JsonObject { ["triggerCharacters"] = new JsonArray(".", "\""), ["resolveProvider"] = true },
            ["hoverProvider"] = true,
            ["definitionProvider"] = true,
            ["codeActionProvider"] = new JsonObject { ["codeActionKinds"] = new JsonArray("quickfix") },
            ["signatureHelpProvider"] = new JsonObject { ["triggerCharacters"] = new JsonArray("(", ","), ["retriggerCharacters"] = new JsonArray(",") },
        },
        ["serverInfo"] = new JsonObject { ["name"] = "runbook", ["version"] = typeof(LanguageServer).Assembly.GetName().Version?.ToString() },
    };

    private static JsonObject Notification(string method, JsonNode parameters) => new() { ["method"] = method, ["params"] = parameters };

    private Task RespondErrorAsync(JsonNode? id, int code, string message) =>
        _messages.WriteAsync(new JsonObject { ["id"] = id, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    public void Dispose()
    {
        _compilerWarmUp.Cancel();
        foreach (var pending in _diagnostics.Values)
        {
            pending.Cancel();
        }

        _workspace.Dispose();
    }
}
