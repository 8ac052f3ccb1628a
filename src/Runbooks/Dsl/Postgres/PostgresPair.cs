using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// One node of a two-node pair. Its verbs look at both nodes (the peer is asked over the network from this host) and
/// act only when this node's current role calls for it, so the same targets repair the pair whichever node failed —
/// a drill that kills the primary every round kills a different node each time. A peer that does not answer counts
/// as gone: keep the proxy's routing (<see cref="HaproxyBackend.RoutesToPostgresPrimary"/>) in the same runbook, since it
/// refuses to route while two nodes claim to be primary.
/// </summary>
public sealed class PostgresPairNode
{
    private readonly PostgresCluster _cluster;
    private readonly string _peerName;
    private readonly string _peerAddress;

    internal PostgresPairNode(PostgresCluster cluster, string peerName, string peerAddress) => (_cluster, _peerName, _peerAddress) = (cluster, peerName, peerAddress);

    /// <summary>
    /// When this node is a standby whose primary (the peer) no longer answers as one, it is promoted with
    /// <see cref="PostgresCluster.Promoted"/>'s limits. A primary, a standby of a live peer, or a stopped node: nothing to do.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").PairedWith("db1", "10.31.0.11").TakesOverWhenPeerFails(maxLag: "16M")</c></example>
    public Step TakesOverWhenPeerFails(string maxLag = "16M", int maxSecondsBehind = 60) =>
        new PairStep($"{_cluster} takes over when {_peerName} ({_peerAddress}) is no longer a primary", _cluster, _peerAddress, _cluster.Promoted(maxLag, maxSecondsBehind),
            (self, peer) =>
                self.IsPrimary ? "this node is the primary"
                : !self.Answers ? "this node is not running: it cannot take over"
                : peer!.IsPrimary ? $"standby of {_peerName}, which is a live primary"
                : null);

    /// <summary>
    /// When the peer is the primary and this node does not stream from it (it was the primary that died, or it crashed as
    /// the standby), it is rebuilt as the peer's standby with <see cref="PostgresCluster.RebuiltAsStandbyOf"/> — a crashed
    /// standby is just started again. Both nodes running as primaries is refused.
    /// </summary>
    /// <example><c>Postgres.Cluster("15/main").PairedWith("db2", "10.31.0.12").RejoinsAsStandby()</c></example>
    public Step RejoinsAsStandby() =>
        new PairStep($"{_cluster} streams from {_peerName} ({_peerAddress}) whenever {_peerName} is the primary", _cluster, _peerAddress, _cluster.RebuiltAsStandbyOf(_peerAddress, _cluster.Port),
            (self, peer) =>
                self.StreamsFrom(_peerAddress) ? $"standby streaming from {_peerName}"
                : self.IsPrimary && !peer!.IsPrimary ? $"this node is the primary ({_peerName}: {peer})"
                : null,
            (self, peer) =>
                self.IsPrimary && peer!.IsPrimary ? $"both this node and {_peerName} run as primaries (split brain): decide which one's writes to keep, then stop the other"
                : !peer!.IsPrimary ? $"{_peerName} is not a primary ({peer}) and neither is this node ({self}): promote one first"
                : null);

    /// <summary>When this node is the primary, commits wait for the peer as <see cref="PostgresCluster.SynchronousStandby"/> does.</summary>
    /// <example><c>Postgres.Cluster("15/main").PairedWith("db2", "10.31.0.12").SynchronousWhenPrimary()</c></example>
    public Step SynchronousWhenPrimary() =>
        new PairStep($"{_cluster} commits wait for {_peerName} whenever this node is the primary", _cluster, null, _cluster.SynchronousStandby(_peerName),
            (self, _) => self.IsPrimary ? null : $"this node is not the primary ({self})");
}

/// <summary>
/// A step that applies another step only when the pair's roles call for it: <c>Idle</c> names why nothing is needed,
/// <c>Conflict</c> why nothing may be done; otherwise the inner step's own probe decides.
/// </summary>
internal sealed class PairStep(
    string description,
    PostgresCluster cluster,
    string? peerAddress,
    Step inner,
    Func<PostgresStatus, PostgresStatus?, string?> idle,
    Func<PostgresStatus, PostgresStatus?, string?>? conflict = null) : Step
{
    public override string Description => description;

    public override string? Destroys => inner.Destroys;

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var self = await cluster.StatusAsync(host, cancellationToken).ConfigureAwait(false);
        var peer = peerAddress is null ? null : await cluster.StatusAtAsync(host, peerAddress, cancellationToken).ConfigureAwait(false);
        var observed = peer is null ? self.ToString() : $"{self}; peer {peer}";
        if (idle(self, peer) is { } why)
        {
            return StepProbe.Satisfied($"{observed}: {why}");
        }

        if (conflict?.Invoke(self, peer) is { } reason)
        {
            return StepProbe.Blocked(observed, host.Reason(reason));
        }

        return await inner.ProbeAsync(host, cancellationToken).ConfigureAwait(false);
    }
}
