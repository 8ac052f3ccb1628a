using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// What the server has warmed and who paid for each expensive thing it made, answered to <c>runbook/status</c>: an
/// editor can show "warming up", and a test can see that the first completion after the warm-up made nothing anew.
/// </summary>
internal sealed class ServerStatus
{
    /// <summary>The requester name the warm-up records.</summary>
    public const string WarmUp = "warm-up";

    private readonly Lock _gate = new();
    private readonly ConditionalWeakTable<object, string> _completionServices = new();
    private string _warmUp = "compiling";
    private string? _composedBy;
    private string? _completionServiceBy;
    private int _completionServicesMade;
    private int _diagnosticsFromText;
    private int _diagnosticsFromWorkspace;

    public void WarmUpPhase(string phase)
    {
        lock (_gate)
        {
            _warmUp = phase;
        }
    }

    public void Composing(string requester)
    {
        lock (_gate)
        {
            _composedBy ??= requester;
        }
    }

    /// <summary>Notes the completion service a request used; a new instance means its providers were made for this request.</summary>
    public void CompletionServiceUsed(object service, string requester)
    {
        lock (_gate)
        {
            if (_completionServices.TryAdd(service, requester))
            {
                _completionServicesMade++;
                _completionServiceBy ??= requester;
            }
        }
    }

    public void Diagnosed(bool fromWorkspace)
    {
        lock (_gate)
        {
            _ = fromWorkspace ? _diagnosticsFromWorkspace++ : _diagnosticsFromText++;
        }
    }

    public JsonObject ToJson()
    {
        lock (_gate)
        {
            return new JsonObject
            {
                ["warmUp"] = _warmUp,
                ["workspaceComposedBy"] = _composedBy,
                ["completionServicesMade"] = _completionServicesMade,
                ["completionServiceMadeBy"] = _completionServiceBy,
                ["diagnosticsFromText"] = _diagnosticsFromText,
                ["diagnosticsFromWorkspace"] = _diagnosticsFromWorkspace,
            };
        }
    }
}
