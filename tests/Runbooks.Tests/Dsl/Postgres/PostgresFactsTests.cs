using Runbooks.Dsl;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Postgres;

/// <summary>The status query's JSON, pg_controldata and show servers state, as the tools printed them in the failover scenario.</summary>
public sealed class PostgresFactsTests
{
    [Test]
    public void A_standby_with_replay_paused_counts_the_WAL_it_holds_but_has_not_replayed()
    {
        var status = PostgresStatusParser.Parse(Fixture.Read("postgres/status-standby-replay-paused.json"));

        Assert.That(status.IsStandby, Is.True);
        Assert.That(status.UnreplayedBytes, Is.EqualTo(0x307C960 - 0x307BAA0));
        Assert.That(status.StreamsFrom("10.31.0.12"), Is.True);
        Assert.That(status.StreamsFrom("10.31.0.11"), Is.False);
    }

    [Test]
    public void A_primary_lists_its_standbys_and_their_sync_state()
    {
        var status = PostgresStatusParser.Parse(Fixture.Read("postgres/status-primary-sync-standby.json"));

        Assert.That(status.IsPrimary, Is.True);
        Assert.That(status.CurrentPosition, Is.EqualTo(WalPosition.Parse("0/307B940")));
        Assert.That(status.Standbys.Select(s => (s.ApplicationName, s.SyncState, s.Streaming)), Is.EqualTo(new[] { ("db1", "sync", true) }));
        Assert.That(status.SynchronousNames, Is.EqualTo(new[] { "db1" }));
    }

    [Test]
    public void A_saved_plan_hashes_the_status_without_the_positions_and_commit_age_a_live_pair_moves_by_itself()
    {
        var status = Fixture.Read("postgres/status-primary-sync-standby.json");
        var later = status.Replace("0/307B940", "0/3A00000", StringComparison.Ordinal);
        var demoted = status.Replace("\"in_recovery\":false", "\"in_recovery\":true", StringComparison.Ordinal).Replace("\"in_recovery\" : false", "\"in_recovery\" : true", StringComparison.Ordinal);

        Assert.That(later, Is.Not.EqualTo(status), "the fixture holds the position");
        Assert.That(demoted, Is.Not.EqualTo(status), "the fixture holds the role");
        Assert.That(PostgresStatusParser.WithoutMovingPositions(later), Is.EqualTo(PostgresStatusParser.WithoutMovingPositions(status)));
        Assert.That(PostgresStatusParser.WithoutMovingPositions(demoted), Is.Not.EqualTo(PostgresStatusParser.WithoutMovingPositions(status)));
        Assert.That(PostgresStatusParser.WithoutMovingPositions(status), Does.Contain("\"sync_state\":\"sync\"").And.Not.Contain("lsn"));
        Assert.That(PostgresStatusParser.WithoutMovingPositions(""), Is.EqualTo(""), "a server that is down prints nothing to parse");
    }

    [Test]
    public void A_saved_plan_hashes_haproxy_servers_by_what_decisions_read_not_by_their_check_timers()
    {
        var ready = Fixture.Read("haproxy/servers-state-db1-down-both-ready.txt");
        // The same servers a few seconds on: the time since the last change and the check's progress moved.
        var later = ready.Replace("10.31.1.11 0 0 1 1 1 8 0 0 7", "10.31.1.11 0 0 1 1 9 8 1 0 7", StringComparison.Ordinal);
        var maint = Fixture.Read("haproxy/servers-state-db1-maint.txt");

        Assert.That(later, Is.Not.EqualTo(ready));
        Assert.That(HaproxyState.WithoutChecks(later), Is.EqualTo(HaproxyState.WithoutChecks(ready)));
        Assert.That(HaproxyState.WithoutChecks(maint), Is.Not.EqualTo(HaproxyState.WithoutChecks(ready)), "maintenance is a decision's fact");
        Assert.That(HaproxyState.WithoutChecks(ready), Is.EqualTo("1\npg db1 10.31.1.11 5432 0 0\npg db2 10.31.2.12 5432 2 0"));
    }

    [TestCase("db2", new[] { "db2" })]
    [TestCase("\"db2\", db3", new[] { "db2", "db3" })]
    [TestCase("FIRST 1 (db2, db3)", new[] { "db2", "db3" })]
    [TestCase("ANY 1 (\"db2\")", new[] { "db2" })]
    [TestCase("", new string[0])]
    public void Synchronous_standby_names_are_read_in_each_of_their_forms(string setting, string[] names) =>
        Assert.That(PostgresStatusParser.Names(setting), Is.EqualTo(names));

    [TestCase("0/0", 0UL)]
    [TestCase("0/3000148", 0x3000148UL)]
    [TestCase("1/0", 0x100000000UL)]
    public void A_WAL_position_is_two_hex_halves_of_one_byte_offset(string text, ulong bytes)
    {
        Assert.That(WalPosition.Parse(text)!.Value.Bytes, Is.EqualTo(bytes));
        Assert.That(WalPosition.Parse(text).ToString(), Is.EqualTo(text));
    }

    [Test]
    public void A_WAL_position_that_is_not_one_is_an_error_naming_it() =>
        Assert.That(() => WalPosition.Parse("3000148"), Throws.TypeOf<FormatException>().With.Message.Contains("'3000148'"));

    [Test]
    public void Control_data_of_a_crashed_primary_says_in_production_and_rewindable()
    {
        var control = PostgresStatusParser.ParseControlData(Fixture.Read("postgres/controldata-crashed-primary.txt"));

        Assert.That((control.State, control.Rewindable, control.TimelineId), Is.EqualTo(("in production", true, "1")));
        Assert.That(PostgresStatusParser.ParseControlData(Fixture.Read("postgres/controldata-no-wal-log-hints.txt")).Rewindable, Is.False);
    }

    [Test]
    public void A_primary_promoted_moments_ago_writes_a_timeline_its_control_file_does_not_name_yet()
    {
        var promoted = PostgresStatusParser.Parse(Fixture.Read("postgres/status-primary-promoted-checkpoint-behind.json"));
        var checkpointed = PostgresStatusParser.Parse(Fixture.Read("postgres/status-primary-promoted-after-checkpoint.json"));

        Assert.That((promoted.Timeline, promoted.CheckpointTimeline, promoted.CheckpointBehindTimeline), Is.EqualTo((2, 1, true)));
        Assert.That((checkpointed.Timeline, checkpointed.CheckpointTimeline, checkpointed.CheckpointBehindTimeline), Is.EqualTo((2, 2, false)));
    }

    [Test]
    public void A_cluster_stopped_in_archive_recovery_is_not_rewindable_and_says_why()
    {
        var control = PostgresStatusParser.ParseControlData(Fixture.Read("postgres/controldata-rewound-in-archive-recovery.txt"));

        Assert.That((control.State, control.Rewindable), Is.EqualTo(("in archive recovery", false)));
        Assert.That(control.WhyNotRewindable, Does.Contain("single-user"));
    }

    [Test]
    public void Servers_state_is_read_by_its_header_names()
    {
        var servers = HaproxyState.Parse(Fixture.Read("haproxy/servers-state-db1-maint.txt"), "pg");

        Assert.That(servers.Select(s => s.ToString()), Is.EqualTo(new[] { "db1 10.31.1.11:5432 down, maint", "db2 10.31.2.12:5432 up, ready" }));
    }

    [Test]
    public void A_refusal_of_the_runtime_API_is_an_error_in_its_words() =>
        Assert.That(() => HaproxyState.Parse("1\nCan't find backend.\n", "nope"), Throws.TypeOf<FormatException>().With.Message.Contains("Can't find backend."));

    [Test]
    public void A_cluster_name_that_is_not_version_slash_name_is_refused_before_any_host_is_touched() =>
        Assert.That(() => Runbooks.Dsl.Postgres.Cluster("main"), Throws.ArgumentException.With.Message.Contains("\"15/main\""));

    [Test]
    public void A_standby_that_crashed_on_the_timeline_its_primary_writes_can_simply_be_started_again()
    {
        var crashed = PostgresStatusParser.ParseControlData(Fixture.Read("postgres/controldata-crashed-standby.txt"));

        Assert.That((crashed.State, crashed.TimelineId, crashed.MinRecoveryTimeline), Is.EqualTo(("in archive recovery", "1", "1")));
        Assert.That(crashed.StoppedAsStandbyOn(1), Is.True);
        Assert.That(crashed.StoppedAsStandbyOn(2), Is.False, "the primary moved to a new timeline since: a start would not follow it");
        Assert.That(crashed.StoppedAsStandbyOn(null), Is.False, "a source whose timeline is unknown");
        Assert.That((crashed with { State = "shut down in recovery" }).StoppedAsStandbyOn(1), Is.True, "a standby shut down cleanly");
        Assert.That(PostgresStatusParser.ParseControlData(Fixture.Read("postgres/controldata-crashed-primary.txt")).StoppedAsStandbyOn(1), Is.False, "a primary that crashed is rewound, never just started as a standby");
        // A rewind to the wrong fork leaves the checkpoint on the source's timeline and a minimum recovery point on an
        // older one, which no start reaches.
        Assert.That((crashed with { TimelineId = "4", MinRecoveryTimeline = "1" }).StoppedAsStandbyOn(4), Is.False);
    }
}
