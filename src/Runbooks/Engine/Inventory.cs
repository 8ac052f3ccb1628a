using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>Host names mapped to transports. A run without one has a single host, <c>local</c>.</summary>
public sealed class Inventory : IAsyncDisposable
{
    public const string DefaultHost = "local";

    private readonly Dictionary<string, ITransport> _transports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostContext> _contexts = new(StringComparer.Ordinal);
    private IRunObserver _observer = NullObserver.Instance;
    private bool _planOnly;
    private string? _keepDirectory;

    public Inventory Add(string name, ITransport transport)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _transports[name] = transport;
        return this;
    }

    public IReadOnlyCollection<string> Names => _transports.Keys;

    public bool Contains(string name) => _transports.ContainsKey(name);

    /// <summary>Where the named host is reached: <c>local</c>, <c>root@host:22</c>, the namespace's name.</summary>
    public string Address(string name) => _transports.TryGetValue(name, out var transport) ? transport.Name : name;

    public static Inventory Local() => new Inventory().Add(DefaultHost, new LocalTransport());

    /// <summary>What the targets of the current run changed so far.</summary>
    internal RunChanges Changes { get; private set; } = new();

    internal void Bind(IRunObserver observer, bool planOnly, string? keepDirectory = null)
    {
        _observer = observer;
        _planOnly = planOnly;
        _keepDirectory = keepDirectory;
        _contexts.Clear();
        Changes = new RunChanges();
    }

    /// <summary>Ends the probe round on every host of the run.</summary>
    internal void InvalidateFacts()
    {
        lock (_contexts)
        {
            foreach (var context in _contexts.Values)
            {
                context.InvalidateFacts();
            }
        }
    }

    public HostContext Context(string name)
    {
        lock (_contexts)
        {
            if (_contexts.TryGetValue(name, out var context))
            {
                return context;
            }

            if (!_transports.TryGetValue(name, out var transport))
            {
                throw new InvalidRunbookException($"host '{name}' is not in the inventory (known: {string.Join(", ", _transports.Keys)}); add it with --host {name}=URI");
            }

            context = new HostContext(name, transport, this, _observer, _planOnly, _keepDirectory);
            _contexts[name] = context;
            return context;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var transport in _transports.Values)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
    }
}
