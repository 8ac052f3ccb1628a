using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runbooks.Dsl;

/// <summary>A WAL position as PostgreSQL prints it (<c>0/3000148</c>): two hex halves of one 64-bit byte offset.</summary>
public readonly record struct WalPosition(ulong Bytes)
{
    /// <summary>Parses <c>HI/LO</c>; null for an absent position (SQL NULL, or a standby that has received nothing yet).</summary>
    /// <example><c>WalPosition.Parse("0/3000148")</c></example>
    public static WalPosition? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !uint.TryParse(text[..slash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text[(slash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
        {
            throw new FormatException($"'{text}' is not a WAL position like 0/3000148");
        }

        return new WalPosition(((ulong)high << 32) | low);
    }

    public override string ToString() => $"{Bytes >> 32:X}/{Bytes & 0xFFFFFFFF:X}";
}

/// <summary>One standby as the primary sees it in <c>pg_stat_replication</c>.</summary>
public sealed record ReplicationConnection(string ApplicationName, string? ClientAddress, string State, string SyncState, WalPosition? ReplayPosition)
{
    public bool Streaming => State == "streaming";

    public override string ToString() => $"{ApplicationName} ({ClientAddress ?? "local"}) {State}, {SyncState}";
}

/// <summary>The standby's side of streaming in <c>pg_stat_wal_receiver</c>: whom it receives from and how.</summary>
public sealed record WalReceiver(string Status, string? SenderHost, int? SenderPort);

/// <summary>
/// A running server's answer to one status query: its role (<c>pg_is_in_recovery()</c>), its WAL positions
/// (<c>pg_current_wal_lsn()</c> on a primary; <c>pg_last_wal_receive_lsn()</c>/<c>pg_last_wal_replay_lsn()</c> on a
/// standby), <c>synchronous_standby_names</c>, its standbys (<c>pg_stat_replication</c>) and its upstream
/// (<c>pg_stat_wal_receiver</c>); on a primary also the timeline it writes and the one its control file's latest
/// checkpoint names (<c>pg_control_checkpoint()</c>). <see cref="Answers"/> is false when nothing listened;
/// <see cref="Error"/> says why.
/// </summary>
public sealed record PostgresStatus(
    bool Answers,
    string? Error,
    bool InRecovery,
    WalPosition? CurrentPosition,
    WalPosition? ReceivePosition,
    WalPosition? ReplayPosition,
    double? SecondsSinceReplayedCommit,
    string SynchronousStandbyNames,
    IReadOnlyList<ReplicationConnection> Standbys,
    WalReceiver? Receiver,
    int? Timeline = null,
    int? CheckpointTimeline = null)
{
    public bool IsPrimary => Answers && !InRecovery;

    /// <summary>
    /// A primary promoted moments ago writes a new timeline while its control file still names the old one: the
    /// checkpoint a promotion requests is spread out, and until it ends <c>pg_control</c> keeps the last checkpoint's
    /// timeline. pg_rewind before version 16 takes the source's timeline from there and rewinds to the wrong fork point.
    /// </summary>
    /// <example><c>var stale = (await Postgres.Cluster("15/main").StatusAtAsync(host, "10.31.0.12", ct)).CheckpointBehindTimeline;</c></example>
    public bool CheckpointBehindTimeline => IsPrimary && Timeline is { } writing && CheckpointTimeline is { } checkpointed && checkpointed < writing;

    public bool IsStandby => Answers && InRecovery;

    /// <summary>WAL the standby holds but has not replayed yet, in bytes: what a promotion must replay before it opens for writes.</summary>
    public long UnreplayedBytes => ReceivePosition is { } received && ReplayPosition is { } replayed && received.Bytes > replayed.Bytes ? (long)(received.Bytes - replayed.Bytes) : 0;

    /// <summary>True when the standby streams from <paramref name="address"/> right now.</summary>
    public bool StreamsFrom(string address) => IsStandby && Receiver is { Status: "streaming" } r && r.SenderHost == address;

    /// <summary>The names <c>synchronous_standby_names</c> lists (its <c>FIRST n (…)</c>/<c>ANY n (…)</c> forms included).</summary>
    public IReadOnlyList<string> SynchronousNames => PostgresStatusParser.Names(SynchronousStandbyNames);

    public static PostgresStatus Down(string error) => new(false, error, false, null, null, null, null, "", [], null);

    public override string ToString()
    {
        if (!Answers)
        {
            return $"not answering ({Error})";
        }

        if (InRecovery)
        {
            var upstream = Receiver is { } r ? $"{r.Status} from {r.SenderHost}:{r.SenderPort}" : "no WAL receiver";
            return $"standby ({upstream}), received {ReceivePosition?.ToString() ?? "nothing"}, replayed {ReplayPosition?.ToString() ?? "nothing"}";
        }

        var standbys = Standbys.Count == 0 ? "no standby" : string.Join(", ", Standbys);
        return $"primary at {CurrentPosition}, synchronous_standby_names '{SynchronousStandbyNames}', {standbys}";
    }
}

/// <summary>The cluster's control file as <c>pg_controldata</c> prints it: what a stopped server was when it stopped.</summary>
public sealed record ControlData(string State, string TimelineId, bool WalLogHints, bool DataChecksums, string MinRecoveryTimeline = "0")
{
    /// <summary>
    /// The server stopped as a standby (crashed, killed or shut down while in recovery) on <paramref name="timeline"/>,
    /// its minimum recovery point on that timeline too: started again it resumes streaming where it stopped. A rewind
    /// to the wrong fork leaves a minimum recovery point on an older timeline, which a start cannot reach.
    /// </summary>
    /// <example><c>control.StoppedAsStandbyOn(source.Timeline)</c></example>
    public bool StoppedAsStandbyOn(int? timeline) =>
        State is "in archive recovery" or "shut down in recovery"
        && timeline is { } t && TimelineId == t.ToString(System.Globalization.CultureInfo.InvariantCulture)
        && (MinRecoveryTimeline == "0" || MinRecoveryTimeline == TimelineId);

    /// <summary>pg_rewind can run on this data directory: <see cref="WhyNotRewindable"/> is null.</summary>
    public bool Rewindable => WhyNotRewindable is null;

    /// <summary>
    /// Why pg_rewind cannot run on this data directory, or null. It needs every hint-bit change WAL-logged
    /// (<c>wal_log_hints = on</c> or data checksums). A cluster in archive recovery — one that crashed or failed to
    /// start as a standby, or that a rewind left and nothing started yet — must first finish that recovery, which
    /// pg_rewind runs in single-user mode, and single-user mode refuses the standby mode <c>standby.signal</c> asks for.
    /// </summary>
    /// <example><c>control.WhyNotRewindable ?? "pg_rewind can run"</c></example>
    public string? WhyNotRewindable =>
        !WalLogHints && !DataChecksums ? "pg_rewind cannot run without wal_log_hints or checksums"
        : State == "in archive recovery" ? "pg_rewind cannot run on a cluster stopped in archive recovery (its single-user crash recovery refuses standby mode)"
        : null;

    public override string ToString() => $"cluster state '{State}', timeline {TimelineId}, wal_log_hints {(WalLogHints ? "on" : "off")}, checksums {(DataChecksums ? "on" : "off")}";
}

/// <summary>Pure parsers of the status query's JSON and of <c>pg_controldata</c>'s output.</summary>
internal static class PostgresStatusParser
{
    /// <summary>
    /// One query, one JSON value, so every fact comes from the same moment. <c>pg_current_wal_lsn()</c> and
    /// <c>pg_walfile_name()</c> raise an error on a standby: the CASEs keep them from being called there.
    /// </summary>
    public const string Query = """
        select json_build_object(
          'in_recovery', pg_is_in_recovery(),
          'current_lsn', case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end,
          'receive_lsn', pg_last_wal_receive_lsn()::text,
          'replay_lsn', pg_last_wal_replay_lsn()::text,
          'since_replayed_commit', extract(epoch from now() - pg_last_xact_replay_timestamp()),
          'synchronous_standby_names', current_setting('synchronous_standby_names'),
          'standbys', (select coalesce(json_agg(json_build_object('application_name', application_name, 'client_addr', client_addr::text,
                         'state', state, 'sync_state', sync_state, 'replay_lsn', replay_lsn::text) order by application_name), '[]'::json) from pg_stat_replication),
          'receiver', (select json_build_object('status', status, 'sender_host', sender_host, 'sender_port', sender_port) from pg_stat_wal_receiver limit 1),
          'timeline', case when pg_is_in_recovery() then null else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end,
          'checkpoint_timeline', (select timeline_id from pg_control_checkpoint()))
        """;

    /// <summary>
    /// The status as a saved plan hashes it: role, replication settings and connections, without the WAL positions and
    /// the age of the last replayed commit, which a live pair moves by itself between plan and run. A promotion's
    /// lag limits still hold: the step is probed again right before it runs and refuses when they no longer do.
    /// </summary>
    public static string WithoutMovingPositions(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json.Trim())?.AsObject() ?? throw new JsonException("empty status");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // What a server that is down prints: nothing in it moves.
            return json;
        }

        foreach (var moving in new[] { "current_lsn", "receive_lsn", "replay_lsn", "since_replayed_commit" })
        {
            root.Remove(moving);
        }

        foreach (var standby in root["standbys"] as JsonArray ?? [])
        {
            (standby as JsonObject)?.Remove("replay_lsn");
        }

        return root.ToJsonString();
    }

    public static PostgresStatus Parse(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json.Trim())?.AsObject() ?? throw new FormatException("empty status");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the status query's output is not JSON: {ex.Message}", ex);
        }

        var standbys = root["standbys"] is JsonArray list
            ? list.Select(s => new ReplicationConnection(
                (string?)s!["application_name"] ?? "", (string?)s["client_addr"], (string?)s["state"] ?? "", (string?)s["sync_state"] ?? "", WalPosition.Parse((string?)s["replay_lsn"]))).ToList()
            : [];
        var receiver = root["receiver"] is JsonObject r ? new WalReceiver((string?)r["status"] ?? "", (string?)r["sender_host"], (int?)r["sender_port"]) : null;
        return new PostgresStatus(
            true, null, (bool?)root["in_recovery"] ?? false,
            WalPosition.Parse((string?)root["current_lsn"]), WalPosition.Parse((string?)root["receive_lsn"]), WalPosition.Parse((string?)root["replay_lsn"]),
            root["since_replayed_commit"] is JsonValue since ? (double)since : null,
            (string?)root["synchronous_standby_names"] ?? "", standbys, receiver,
            (int?)root["timeline"], (int?)root["checkpoint_timeline"]);
    }

    /// <summary><c>Key: value</c> lines (the program's own labels, printed in the C locale the command asks for).</summary>
    public static ControlData ParseControlData(string text)
    {
        var fields = text.Split('\n')
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);
        string Field(string name) => fields.TryGetValue(name, out var value) ? value : throw new FormatException($"pg_controldata printed no '{name}'");
        return new ControlData(
            Field("Database cluster state"),
            Field("Latest checkpoint's TimeLineID"),
            Field("wal_log_hints setting") == "on",
            Field("Data page checksum version") != "0",
            fields.TryGetValue("Min recovery ending loc's timeline", out var minimum) ? minimum : "0");
    }

    /// <summary>Standby names in <c>synchronous_standby_names</c>: <c>db2</c>, <c>"db2", db3</c>, <c>FIRST 1 (db2, db3)</c>, <c>ANY 1 (db2)</c>.</summary>
    public static IReadOnlyList<string> Names(string setting)
    {
        var text = setting.Trim();
        var open = text.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0 && text.EndsWith(')'))
        {
            text = text[(open + 1)..^1];
        }

        return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.Trim('"')).Where(n => n.Length > 0)];
    }
}
