// Repairs the failover incident (README.md beside this file): the primary of a synchronous PostgreSQL pair is gone.
//   runbook run runbooks/failover/failover.csx --host db1=ssh://root@db1 --host db2=ssh://root@db2 --host app=ssh://root@app
// In order: the surviving standby takes over (refused when it is too far behind), HAProxy sends writes to the one
// primary (refused while two claim it), the old primary is rewound and rejoins as a standby, and commits wait for
// it again. Every step looks at both nodes and acts only for the role a node has now, so the same runbook repairs
// the pair whichever node died — the drill kills db1, then db2, then db1 …

const string Db1Replication = "10.31.0.11";
const string Db2Replication = "10.31.0.12";

var db = Postgres.Cluster("15/main");
var pair = new[] { (Node: "db1", Peer: "db2", PeerAddress: Db2Replication), (Node: "db2", Peer: "db1", PeerAddress: Db1Replication) };

foreach (var (node, peer, peerAddress) in pair)
{
    // 16 MiB of WAL is a second or two of replay here; a last replayed commit a minute old means the standby was cut
    // off before the primary died, and promoting it would drop that minute.
    Target($"{node}-takes-over", $"{node} is promoted if it is a standby and {peer} no longer answers as the primary",
        db.PairedWith(peer, peerAddress).TakesOverWhenPeerFails(maxLag: "16M", maxSecondsBehind: 60))
        .On(node);
}

Target("proxy", "HAProxy sends writes to the primary only", DependsOn("db1-takes-over", "db2-takes-over"),
    Haproxy.Backend("pg").RoutesToPostgresPrimary())
    .On("app");

foreach (var (node, peer, peerAddress) in pair)
{
    Target($"{node}-rejoins", $"{node} streams from {peer} when {peer} is the primary", DependsOn("proxy"),
        db.PairedWith(peer, peerAddress).RejoinsAsStandby())
        .On(node);
}

foreach (var (node, peer, peerAddress) in pair)
{
    Target($"{node}-synchronous", $"{node}, when it is the primary, waits for {peer} on every commit", DependsOn("db1-rejoins", "db2-rejoins"),
        db.PairedWith(peer, peerAddress).SynchronousWhenPrimary())
        .On(node);
}

await RunAsync(Args);
