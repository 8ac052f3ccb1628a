using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// HAProxy through its runtime API (the admin socket, <c>stats socket … level admin</c>): a backend's servers as
/// <c>show servers state</c> reports them, taken in and out of service with <c>set server</c>. Runtime state does not
/// survive a restart of HAProxy unless its config keeps a <c>server-state-file</c>.
/// </summary>
public static class Haproxy
{
    /// <summary>The admin socket Debian's haproxy.cfg declares.</summary>
    public const string DefaultSocket = "/run/haproxy/admin.sock";

    /// <summary>A backend by name, reached through <paramref name="socket"/>.</summary>
    /// <example><c>Haproxy.Backend("pg")</c></example>
    public static HaproxyBackend Backend(string name, string socket = DefaultSocket) =>
        new(HaproxyState.Name(name, nameof(name)), DslArguments.AbsolutePath(socket, nameof(socket)));
}

/// <summary>One backend of an HAProxy; its verbs return steps and checks.</summary>
public sealed class HaproxyBackend
{
    internal HaproxyBackend(string name, string socket) => (Name, Socket) = (name, socket);

    public string Name { get; }

    public string Socket { get; }

    /// <summary>One server of the backend.</summary>
    /// <example><c>Haproxy.Backend("pg").Server("db2")</c></example>
    public HaproxyServerRef Server(string name) => new(this, HaproxyState.Name(name, nameof(name)));

    /// <summary>
    /// Traffic goes to the one server that answers as a PostgreSQL primary (each server's address asked from this host with
    /// <c>pg_is_in_recovery()</c>): that server ready, every other in maintenance with its sessions shut. Refused when
    /// no server, or more than one, is a primary: routing to either of two primaries loses the other's writes.
    /// </summary>
    /// <example><c>Haproxy.Backend("pg").RoutesToPostgresPrimary()</c></example>
    public Step RoutesToPostgresPrimary() => new RoutesToPrimaryStep(this);

    /// <summary>The servers of the backend now (a fact for a check).</summary>
    /// <example><c>var servers = await Haproxy.Backend("pg").ServersAsync(host, ct);</c></example>
    public Task<IReadOnlyList<HaproxyServer>> ServersAsync(HostContext host, CancellationToken cancellationToken) => host.FactAsync(Servers, cancellationToken);

    internal Command StateRead => HaproxyState.Read(Socket, $"show servers state {Name}").WithFactView(HaproxyState.WithoutChecks);

    /// <summary>The servers of the backend as a fact: what <see cref="ServersAsync"/> reads and a step declares.</summary>
    internal Fact<IReadOnlyList<HaproxyServer>> Servers => new(StateRead, r => HaproxyState.Parse(r.StandardOutput, Name));

    internal RunCommand Set(string server, string state) => new(HaproxyState.Change(Socket, $"set server {Name}/{server} state {state}"));

    internal RunCommand ShutdownSessions(string server) => new(HaproxyState.Change(Socket, $"shutdown sessions server {Name}/{server}"));

    public override string ToString() => $"haproxy backend {Name}";
}

/// <summary>A server of a backend, by name.</summary>
public sealed class HaproxyServerRef
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    internal HaproxyServerRef(HaproxyBackend backend, string name) => (Backend, Name) = (backend, name);

    public HaproxyBackend Backend { get; }

    public string Name { get; }

    /// <summary>The server takes traffic: its admin state ready (no maintenance, no drain) and its health check up.</summary>
    /// <example><c>Haproxy.Backend("pg").Server("db2").Active()</c></example>
    public Step Active() => new HaproxyServerStep(this, wantActive: true);

    /// <summary>The server takes no traffic: in maintenance, and the sessions it had are shut.</summary>
    /// <example><c>Haproxy.Backend("pg").Server("db1").Maintenance()</c></example>
    public Step Maintenance() => new HaproxyServerStep(this, wantActive: false);

    /// <summary>The server is ready and its health check up.</summary>
    /// <example><c>Spec("proxy-to-db2", Haproxy.Backend("pg").Server("db2").IsUp()).On("proxy")</c></example>
    public Check IsUp() => new($"{Backend.Name}/{Name} is ready and up", async (h, ct) =>
    {
        var server = (await Backend.ServersAsync(h, ct).ConfigureAwait(false)).FirstOrDefault(s => s.Name == Name);
        return new CheckResult(server is { Ready: true, Up: true }, server?.ToString() ?? $"no server {Name} in backend {Backend.Name}");
    });

    internal IEnumerable<StepAction> ActivateActions(HaproxyServer now) =>
        [.. now.Ready ? [] : new StepAction[] { Backend.Set(Name, "ready") }, new WaitUntil(IsUp(), UpTimeout, Interval)];

    internal string DisabledInConfig() =>
        $"{Backend.Name}/{Name} is 'disabled' in haproxy's config, which the runtime API cannot undo: remove 'disabled' from its server line and reload haproxy";

    internal IEnumerable<StepAction> RetireActions() => [Backend.Set(Name, "maint"), Backend.ShutdownSessions(Name)];
}

internal sealed class HaproxyServerStep(HaproxyServerRef server, bool wantActive) : Step
{
    public override string Description => $"{server.Backend.Name}/{server.Name} {(wantActive ? "takes traffic" : "is in maintenance")}";

    public override string? Destroys => wantActive ? null : $"the sessions open through {server.Backend.Name}/{server.Name}";

    public override IEnumerable<IFact> Reads => [server.Backend.Servers];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var servers = await server.Backend.ServersAsync(host, cancellationToken).ConfigureAwait(false);
        var now = servers.FirstOrDefault(s => s.Name == server.Name);
        if (now is null)
        {
            return StepProbe.Blocked(HaproxyState.Describe(servers), host.Reason($"backend {server.Backend.Name} has no server {server.Name} (it has: {string.Join(", ", servers.Select(s => s.Name))})"));
        }

        if (wantActive)
        {
            if (now.DisabledInConfig)
            {
                return StepProbe.Blocked(now.ToString(), host.Reason(server.DisabledInConfig()));
            }

            return now is { Ready: true, Up: true } ? StepProbe.Satisfied(now.ToString()) : StepProbe.Act(now.ToString(), server.ActivateActions(now));
        }

        return now.InMaintenance ? StepProbe.Satisfied(now.ToString()) : StepProbe.Act(now.ToString(), server.RetireActions());
    }
}

internal sealed class RoutesToPrimaryStep(HaproxyBackend backend) : Step
{
    public override string Description => $"{backend} routes only to the PostgreSQL primary";

    public override string? Destroys => $"the sessions open through {backend.Name}'s servers that are not the primary";

    public override IEnumerable<IFact> Reads => [backend.Servers];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var servers = await backend.ServersAsync(host, cancellationToken).ConfigureAwait(false);
        var roles = new List<(HaproxyServer Server, PostgresStatus Status)>();
        foreach (var server in servers)
        {
            var read = await host.TryReadAsync(PostgresCluster.RemoteStatusQuery(server.Address, server.Port), cancellationToken).ConfigureAwait(false);
            roles.Add((server, PostgresCluster.Status(read)));
        }

        var observed = string.Join("; ", roles.Select(r => $"{r.Server}: {(r.Status.IsPrimary ? "primary" : r.Status.IsStandby ? "standby" : "not answering")}"));
        var primaries = roles.Where(r => r.Status.IsPrimary).ToList();
        if (primaries.Count != 1)
        {
            return StepProbe.Blocked(observed, host.Reason(primaries.Count == 0
                ? $"no server of backend {backend.Name} answers as a PostgreSQL primary: promote a standby first"
                : $"{string.Join(" and ", primaries.Select(p => p.Server.Name))} all answer as primaries (split brain): routing to one would lose the other's writes; stop all but one"));
        }

        var primary = primaries[0].Server;
        if (primary.DisabledInConfig)
        {
            return StepProbe.Blocked(observed, host.Reason(backend.Server(primary.Name).DisabledInConfig()));
        }

        var actions = new List<StepAction>();
        if (!primary.Ready || !primary.Up)
        {
            actions.AddRange(backend.Server(primary.Name).ActivateActions(primary));
        }

        // The primary takes traffic before the others leave, so a client reconnecting at once finds it.
        foreach (var other in servers.Where(s => s.Name != primary.Name && !s.InMaintenance))
        {
            actions.AddRange(backend.Server(other.Name).RetireActions());
        }

        return actions.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, actions);
    }
}

/// <summary>
/// A server as <c>show servers state</c> reports it: <c>srv_op_state</c> 2 is running (health check up),
/// <c>srv_admin_state</c> is a bit set (1 maintenance set at run time, 2 inherited from a tracked server, 4 <c>disabled</c> in the
/// config, 8 drain set at run time, 0x20 from a failed DNS resolution, …).
/// </summary>
public sealed record HaproxyServer(string Backend, string Name, string Address, int Port, int OperationalState, int AdminState)
{
    public bool Up => OperationalState == 2;

    public bool Ready => AdminState == 0;

    public bool InMaintenance => (AdminState & 0x27) != 0;

    /// <summary><c>disabled</c> in the config: the runtime API cannot put such a server in service, only an edited config and a reload can.</summary>
    public bool DisabledInConfig => (AdminState & 0x04) != 0;

    public override string ToString() => $"{Name} {Address}:{Port} {(Up ? "up" : "down")}, {(Ready ? "ready" : InMaintenance ? "maint" : "drain")}";
}

internal static class HaproxyState
{
    public static string Name(string name, string parameter) => DslArguments.UnitName(name, parameter);

    public static Command Read(string socket, string request) =>
        Shell.Script("printf '%s\\n' \"$2\" | socat -t 2 stdio \"UNIX-CONNECT:$1\"", socket, request).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    // The runtime API answers a refused command with a message and socat exits 0: any answer to a set is a failure.
    public static Command Change(string socket, string request) =>
        Shell.Script("answer=$(printf '%s\\n' \"$2\" | socat -t 2 stdio \"UNIX-CONNECT:$1\") && [ -z \"$answer\" ] || { echo \"haproxy: $answer\" >&2; exit 1; }", socket, request)
            .WithTimeout(TimeSpan.FromSeconds(10));

    // The columns Parse reads. The others include the seconds since the last change and the health check's progress,
    // which move by themselves between a plan and its run.
    private static readonly string[] Decided = ["be_name", "srv_name", "srv_addr", "srv_port", "srv_op_state", "srv_admin_state"];

    /// <summary><c>show servers state</c> as a saved plan hashes it: only the columns <see cref="Parse"/> reads, every server.</summary>
    public static string WithoutChecks(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2 || !lines[1].StartsWith('#'))
        {
            return text;
        }

        var header = lines[1].TrimStart('#').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var kept = Decided.Select(c => Array.IndexOf(header, c)).Where(i => i >= 0).ToList();
        return string.Join("\n", [lines[0], .. lines.Skip(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => string.Join(' ', kept.Select(i => i < f.Length ? f[i] : "")))]);
    }

    public static string Describe(IEnumerable<HaproxyServer> servers) => string.Join("; ", servers);

    /// <summary>
    /// Format version 1: a version line, a <c># name name …</c> header naming the columns, one line per server.
    /// Columns are found by the header's names, so a version that adds columns still parses.
    /// </summary>
    public static IReadOnlyList<HaproxyServer> Parse(string text, string backend)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || lines[0] != "1")
        {
            throw new FormatException($"show servers state: expected format version 1, got '{lines.FirstOrDefault()}'");
        }

        if (lines.Length > 1 && !lines[1].StartsWith('#'))
        {
            // "Can't find backend." and the like: the API's refusal, in words.
            throw new FormatException($"show servers state {backend}: {lines[1]}");
        }

        var header = lines.Length > 1 ? lines[1].TrimStart('#').Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new FormatException($"show servers state has no column {name}");
        var (be, srv, addr, port, op, admin) = (Column("be_name"), Column("srv_name"), Column("srv_addr"), Column("srv_port"), Column("srv_op_state"), Column("srv_admin_state"));
        return [.. lines.Skip(2).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= header.Length && f[be] == backend)
            .Select(f => new HaproxyServer(f[be], f[srv], f[addr], int.Parse(f[port], CultureInfo.InvariantCulture), int.Parse(f[op], CultureInfo.InvariantCulture), int.Parse(f[admin], CultureInfo.InvariantCulture)))];
    }
}
