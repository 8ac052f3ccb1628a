using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// PostgreSQL streaming replication: which node is the primary, which stream from it and how synchronously, read from
/// the server's own status functions and views; promotion, rebuilding a node as a standby, synchronous commit.
/// </summary>
public static partial class Postgres
{
    /// <summary>
    /// A cluster in Debian's layout by <c>VERSION/NAME</c> (data in <c>/var/lib/postgresql/15/main</c>, config in
    /// <c>/etc/postgresql/15/main</c>, socket in <c>/var/run/postgresql</c>, port 5432).
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main")</c></example>
    public static PostgresCluster Cluster(string versionAndName)
    {
        var match = ClusterName().Match(versionAndName ?? "");
        if (!match.Success)
        {
            throw new ArgumentException($"'{versionAndName}' is not a cluster like \"15/main\" (major version, '/', cluster name as pg_lsclusters shows it)", nameof(versionAndName));
        }

        var (version, name) = (match.Groups["version"].Value, match.Groups["name"].Value);
        return new PostgresCluster(version, name, $"/var/lib/postgresql/{version}/{name}", $"/etc/postgresql/{version}/{name}/postgresql.conf", 5432);
    }

    [GeneratedRegex(@"^(?<version>[1-9][0-9]?)/(?<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$")]
    private static partial Regex ClusterName();

    // An application_name as synchronous_standby_names can name it without quoting.
    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex StandbyName();

    internal static string Standby(string name, string parameter) =>
        name is not null && StandbyName().IsMatch(name) ? name
        : throw new ArgumentException($"'{name}' is not a standby's application_name (lower-case letters, digits, '_'; at most 63)", parameter);
}

/// <summary>One PostgreSQL cluster on the host a target runs on; every verb returns a step or a check.</summary>
public sealed class PostgresCluster
{
    internal PostgresCluster(string version, string name, string dataDirectory, string configFile, int port) =>
        (Version, Name, DataDirectory, ConfigFile, Port) = (version, name, dataDirectory, configFile, port);

    public string Version { get; }

    public string Name { get; }

    public string DataDirectory { get; }

    public string ConfigFile { get; }

    public int Port { get; }

    private string Bin(string program) => $"/usr/lib/postgresql/{Version}/bin/{program}";

    internal string LogFile => $"/var/log/postgresql/postgresql-{Version}-{Name}.log";

    /// <summary>The same cluster listening on another port.</summary>
    /// <example><c>Postgres.Cluster("15/main").OnPort(5433)</c></example>
    public PostgresCluster OnPort(int port) => new(Version, Name, DataDirectory, ConfigFile, DslArguments.Port(port));

    /// <summary>This node runs as the primary (<c>pg_is_in_recovery()</c> is false).</summary>
    /// <example><c>Spec("db2-primary", Postgres.Cluster("15/main").Primary()).On("db2")</c></example>
    public Check Primary() => new($"postgres {Version}/{Name} runs as the primary", async (h, ct) =>
    {
        var status = await StatusAsync(h, ct).ConfigureAwait(false);
        return new CheckResult(status.IsPrimary, status.ToString());
    });

    /// <summary>This node is a standby streaming from the primary at <paramref name="of"/>.</summary>
    /// <example><c>Postgres.Cluster("15/main").Standby(of: "10.31.0.2")</c></example>
    public Check Standby(string of)
    {
        var primary = DslArguments.Address(of, nameof(of));
        return new($"postgres {Version}/{Name} is a standby streaming from {primary}", async (h, ct) =>
        {
            var status = await StatusAsync(h, ct).ConfigureAwait(false);
            return new CheckResult(status.StreamsFrom(primary), status.ToString());
        });
    }

    /// <summary>
    /// This node is the primary: a standby is promoted (<c>pg_promote()</c>) unless it is too far behind — more than
    /// <paramref name="maxLag"/> of received WAL not replayed yet, or its last replayed commit more than
    /// <paramref name="maxSecondsBehind"/> old — which it refuses, saying by how much. After promotion, commits wait for
    /// no standby (its old <c>synchronous_standby_names</c> names one that is gone) until <see cref="SynchronousStandby"/>.
    /// The age of the last replayed commit measures staleness on a primary that was writing; one that was idle makes an
    /// up-to-date standby look old, so give such a pair a larger <paramref name="maxSecondsBehind"/>.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").Promoted(maxLag: "16M", maxSecondsBehind: 30)</c></example>
    public Step Promoted(string maxLag = "16M", int maxSecondsBehind = 60)
    {
        if (maxSecondsBehind <= 0)
        {
            throw new ArgumentException($"maxSecondsBehind {maxSecondsBehind} must be above 0", nameof(maxSecondsBehind));
        }

        return new PromotedStep(this, Bytes.Parse(maxLag), maxSecondsBehind);
    }

    /// <summary>
    /// This node is a standby streaming from <paramref name="primary"/>: a standby that stopped on the primary's timeline
    /// (crashed, killed) is started again and resumes streaming, copied afresh only when it does not stream within 30 s;
    /// any other stopped (or crashed) node is rewound to the primary's timeline with <c>pg_rewind</c> (after a
    /// <c>CHECKPOINT</c> on a primary promoted so recently that its control file still names the old timeline), falling
    /// back to a fresh <c>pg_basebackup</c> when the rewind cannot run or fails, then started. A node still running as a
    /// primary is refused: stop it (or fail over) first.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").RebuiltAsStandbyOf("10.31.0.2")</c></example>
    public Step RebuiltAsStandbyOf(string primary, int port = 5432) =>
        new RebuiltAsStandbyStep(this, DslArguments.Address(primary, nameof(primary)), DslArguments.Port(port));

    /// <summary>
    /// On the primary: commits wait for <paramref name="standby"/> (<c>synchronous_standby_names</c>), and it streams as
    /// <c>sync</c>. Refused while that standby is not streaming: every commit would hang until it connects.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").SynchronousStandby("db1")</c></example>
    public Step SynchronousStandby(string standby) => new SynchronousStandbyStep(this, Postgres.Standby(standby, nameof(standby)));

    /// <summary>
    /// The verbs for one node of a two-node pair whose roles swap with each failover, each a no-op for the role this
    /// node does not have right now, so one runbook repairs the pair whichever node died.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").PairedWith("db2", "10.31.0.12")</c></example>
    public PostgresPairNode PairedWith(string peerName, string peerAddress) =>
        new(this, Postgres.Standby(peerName, nameof(peerName)), DslArguments.Address(peerAddress, nameof(peerAddress)));

    /// <summary>Reads this node's status (a fact for a check); a server that does not answer is <see cref="PostgresStatus.Answers"/> false.</summary>
    /// <example><c>var status = await Postgres.Cluster("15/main").StatusAsync(host, ct);</c></example>
    public Task<PostgresStatus> StatusAsync(HostContext host, CancellationToken cancellationToken) => host.FactAsync(StatusFact, cancellationToken);

    /// <summary>Reads the status of the server at <paramref name="address"/>, asked from <paramref name="host"/> over the network.</summary>
    /// <example><c>var primary = await Postgres.Cluster("15/main").StatusAtAsync(host, "10.31.0.12", ct);</c></example>
    public async Task<PostgresStatus> StatusAtAsync(HostContext host, string address, CancellationToken cancellationToken) =>
        Status(await host.TryReadAsync(RemoteStatusQuery(DslArguments.Address(address, nameof(address)), Port), cancellationToken).ConfigureAwait(false));

    internal static PostgresStatus Status(CommandResult result) =>
        result.ExitCode == 0
            ? PostgresStatusParser.Parse(result.StandardOutput)
            : PostgresStatus.Down(FirstLine(result.StandardError) ?? $"psql exited {result.ExitCode}");

    internal static string? FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    /// <summary>This node's status as a fact: what <see cref="StatusAsync"/> reads and a step declares.</summary>
    internal Fact<PostgresStatus> StatusFact => new(StatusQuery, Status, mustSucceed: false);

    // psql exits 2 when it cannot connect: a fact (the server is down), not a failed read.
    internal Command StatusQuery => Psql(["-c", PostgresStatusParser.Query]).AsReadOnly().WithSuccessExitCodes(0, 2).WithFactView(PostgresStatusParser.WithoutMovingPositions);

    internal static Command RemoteStatusQuery(string address, int port) =>
        RemotePsql(address, port, PostgresStatusParser.Query).AsReadOnly().WithSuccessExitCodes(0, 2).WithTimeout(TimeSpan.FromSeconds(10)).WithFactView(PostgresStatusParser.WithoutMovingPositions);

    // A forced checkpoint returns when it has ended, which on a big cluster can take minutes.
    internal static Command CheckpointAt(string address, int port) => RemotePsql(address, port, "CHECKPOINT").WithTimeout(TimeSpan.FromMinutes(10));

    private static Command RemotePsql(string address, int port, string statement) =>
        new("psql", ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", ConnectionString(address, port), "-c", statement]);

    internal static string ConnectionString(string address, int port) => $"host={address} port={port} user=postgres dbname=postgres connect_timeout=2";

    /// <summary>psql as the postgres user over the local socket (Debian's peer authentication), one statement per <c>-c</c>.</summary>
    internal Command Psql(IEnumerable<Arg> statements) =>
        new Command("runuser", ["-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-d", "postgres", .. statements])
            .WithEnvironment("PGCONNECT_TIMEOUT", "2").WithTimeout(TimeSpan.FromSeconds(30));

    internal Command ControlDataRead =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_controldata"), "-D", DataDirectory]).WithEnvironment("LC_ALL", "C").AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    internal Command Start =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_ctl"), "start", "-w", "-t", "60", "-D", DataDirectory, "-l", LogFile, "-o", $"-c config_file={ConfigFile}"]).WithTimeout(TimeSpan.FromSeconds(90));

    // pg_ctl says only "could not start server"; the server's reason is at the end of its log.
    internal Command LogTail => new Command("tail", ["-n", "20", "--", LogFile]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    // A start that fails is answered by what comes after it (a standby's restart falls back to a base backup).
    internal Command StartAttempt => Start.WithSuccessExitCodes(0, 1);

    // pg_ctl status: 0 a server runs on the data directory, 3 none does, 4 there is no readable data directory.
    internal Command ServerStatus =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_ctl"), "status", "-D", DataDirectory]).AsReadOnly().WithSuccessExitCodes(0, 3, 4).WithTimeout(TimeSpan.FromSeconds(10));

    internal Check ServerRuns(bool runs) => new(runs ? $"a server runs on {DataDirectory}" : $"no server runs on {DataDirectory}", async (h, ct) =>
    {
        var running = (await h.TryReadAsync(ServerStatus, ct).ConfigureAwait(false)).ExitCode == 0;
        return new CheckResult(running == runs, running ? "a server runs" : "no server runs");
    });

    internal Command StopFast =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast", "-D", DataDirectory]).WithTimeout(TimeSpan.FromSeconds(90));

    // -R writes standby.signal and primary_conninfo; pg_rewind finishes an unclean shutdown itself (single-user mode,
    // which needs Debian's config file outside the data directory). Exit 1 is a refusal the plan's branch handles.
    internal Command Rewind(string primary, int port) =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_rewind"), "-D", DataDirectory, $"--config-file={ConfigFile}", $"--source-server={ConnectionString(primary, port)}", "-R"])
            .WithSuccessExitCodes(0, 1).WithTimeout(TimeSpan.FromMinutes(10));

    internal Command MoveAside => Shell.Script("rm -rf -- \"$1.before-rebuild\" && mv -- \"$1\" \"$1.before-rebuild\" && install -d -o postgres -g postgres -m 0700 -- \"$1\"", DataDirectory);

    internal Command BaseBackup(string primary, int port) =>
        new Command("runuser", ["-u", "postgres", "--", Bin("pg_basebackup"), "-D", DataDirectory, "-d", ConnectionString(primary, port), "-R", "-X", "stream", "-c", "fast"])
            .WithTimeout(TimeSpan.FromHours(2));

    public override string ToString() => $"postgres {Version}/{Name}";
}
