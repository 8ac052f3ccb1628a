using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The node is the primary; a standby close enough behind is promoted.</summary>
internal sealed class PromotedStep(PostgresCluster cluster, long maxLag, int maxSecondsBehind) : Step
{
    private static readonly TimeSpan PromotionTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public override string Description => $"{cluster} is the primary (a standby at most {Bytes.Show(maxLag)} and {maxSecondsBehind} s behind is promoted)";

    public override IEnumerable<IFact> Reads => [cluster.StatusFact];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var status = await cluster.StatusAsync(host, cancellationToken).ConfigureAwait(false);
        if (status.IsPrimary)
        {
            return StepProbe.Satisfied(status.ToString());
        }

        if (!status.Answers)
        {
            return StepProbe.Blocked(status.ToString(), host.Reason($"{cluster} is not running, and only a running standby can be promoted: start it first"));
        }

        // What promotion would have to replay before it accepts a write, and how stale the newest replayed commit is:
        // a standby cut off long before its primary died holds little to replay and an hour-old last commit.
        var behind = new List<string>();
        if (status.UnreplayedBytes > maxLag)
        {
            behind.Add($"{status.UnreplayedBytes} bytes ({Bytes.Show(status.UnreplayedBytes)}) of received WAL not replayed (limit {Bytes.Show(maxLag)})");
        }

        if (status.SecondsSinceReplayedCommit is { } seconds && seconds > maxSecondsBehind)
        {
            behind.Add($"its last replayed commit is {seconds:0} s old (limit {maxSecondsBehind} s)");
        }

        if (behind.Count > 0)
        {
            return StepProbe.Blocked(status.ToString(), host.Reason(
                $"{cluster} is too far behind to promote safely: {string.Join(", and ", behind)}; promote a standby closer to the primary, or raise maxLag/maxSecondsBehind if losing that is acceptable"));
        }

        var actions = new List<StepAction>();
        var notes = new List<string>();
        if (status.SynchronousNames.Count > 0)
        {
            // A standby carries its primary's settings; as a primary it would make every commit wait for a standby
            // that is not there. ALTER SYSTEM works in recovery, so the setting is gone before the first commit.
            actions.Add(new RunCommand(cluster.Psql(["-c", "ALTER SYSTEM SET synchronous_standby_names = ''", "-c", "select pg_reload_conf()"])));
            notes.Add($"synchronous_standby_names '{status.SynchronousStandbyNames}' is cleared: no standby streams from a node just promoted; SynchronousStandby(…) sets it again once one does");
        }

        actions.Add(new RunCommand(cluster.Psql(["-c", "select pg_promote(true, 60)"])));
        actions.Add(new WaitUntil(cluster.Primary(), PromotionTimeout, Interval) { WhenItFails = $"read {cluster.LogFile}" });
        return StepProbe.Act(status.ToString(), actions) with { Notes = notes };
    }
}

/// <summary>The node streams from a given primary: rewound with pg_rewind (or re-copied with pg_basebackup) and started.</summary>
internal sealed class RebuiltAsStandbyStep(PostgresCluster cluster, string primary, int port) : Step
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ResumeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    public override string Description => $"{cluster} is a standby streaming from {primary}:{port}";

    public override IEnumerable<IFact> Reads => [cluster.StatusFact];

    public override string? Destroys =>
        $"what {cluster} wrote after it stopped streaming from {primary} (pg_rewind discards it; a base backup replaces the data directory, the old one kept as {cluster.DataDirectory}.before-rebuild)";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var status = await cluster.StatusAsync(host, cancellationToken).ConfigureAwait(false);
        if (status.StreamsFrom(primary))
        {
            return StepProbe.Satisfied(status.ToString());
        }

        if (status.IsPrimary)
        {
            return StepProbe.Blocked(status.ToString(), host.Reason(
                $"{cluster} is still running as a primary (pg_is_in_recovery() is false): rebuilding it would discard a live primary's writes; promote {primary} and stop this node first"));
        }

        var source = await cluster.StatusAtAsync(host, primary, cancellationToken).ConfigureAwait(false);
        if (!source.IsPrimary)
        {
            return StepProbe.Blocked($"{status}; source {source}", host.Reason($"the source {primary}:{port} is not a primary ({source}): a standby can only be rebuilt from a running primary"));
        }

        var actions = new List<StepAction>();
        if (status.Answers)
        {
            actions.Add(new RunCommand(cluster.StopFast));
        }

        var control = await host.TryReadAsync(cluster.ControlDataRead, cancellationToken).ConfigureAwait(false);
        var copy = new StepAction[] { new RunCommand(cluster.MoveAside), new RunCommand(cluster.BaseBackup(primary, port)) };
        var notes = new List<string>();
        var data = control.ExitCode == 0 ? PostgresStatusParser.ParseControlData(control.StandardOutput) : null;
        if (!status.Answers && data is not null && data.StoppedAsStandbyOn(source.Timeline)
            && (await FileProbe.StatAsync(host, $"{cluster.DataDirectory}/standby.signal", cancellationToken).ConfigureAwait(false)).Exists)
        {
            // A standby that crashed has nothing of its own to discard, and a copy of a large cluster takes hours while
            // a synchronous primary waits for it: start it and let it catch up; copy it only if it does not stream.
            StepAction[] copyAfresh =
            [
                new Branch(cluster.ServerRuns(true), [new RunCommand(cluster.StopFast)], []),
                new Guard(cluster.ServerRuns(false)),
                .. copy,
                new RunCommand(cluster.Start) { WhenItFailsRead = cluster.LogTail },
            ];
            return StepProbe.Act(status.ToString(),
            [
                new RunCommand(cluster.StartAttempt),
                new Branch(ResumesStreaming(), [], copyAfresh),
                new WaitUntil(cluster.Standby(primary), StreamTimeout, Interval) { WhenItFails = $"read {cluster.LogFile}" },
            ]) with { Notes = [$"{data}: it stopped as a standby on timeline {data.TimelineId}, the one {primary} writes, so it is started again; a base backup only if it does not stream within {Poll.Seconds(ResumeTimeout)}"] };
        }

        if (data is { WhyNotRewindable: null })
        {
            if (source.CheckpointBehindTimeline)
            {
                // pg_rewind 15 reads the source's timeline from its control file, which a just-promoted primary updates
                // only when its first checkpoint ends; before that it rewinds to a fork on the old timeline, and the
                // standby it leaves cannot start (the failover drill's round 3 on a quiet machine).
                actions.Add(new RunCommand(PostgresCluster.CheckpointAt(primary, port)));
                notes.Add($"the source writes timeline {source.Timeline} but its latest checkpoint is on timeline {source.CheckpointTimeline} (promoted moments ago): a CHECKPOINT there first, so that pg_rewind sees the source's timeline");
            }

            // pg_rewind refuses (exit 1) when the WAL it needs is gone from the primary: then a whole copy is the way.
            actions.Add(new RunCommand(cluster.Rewind(primary, port)));
            actions.Add(new Branch(Rewound(), [], copy));
            notes.Add($"{data}: rewound; a base backup if pg_rewind refuses");
        }
        else
        {
            actions.AddRange(copy);
            notes.Add(data is not null
                ? $"{data}: {data.WhyNotRewindable}, so a base backup"
                : $"no readable cluster in {cluster.DataDirectory} ({PostgresCluster.FirstLine(control.StandardError)}): a base backup");
        }

        actions.Add(new RunCommand(cluster.Start) { WhenItFailsRead = cluster.LogTail });
        actions.Add(new WaitUntil(cluster.Standby(primary), StreamTimeout, Interval) { WhenItFails = $"read {cluster.LogFile}" });
        return StepProbe.Act(status.ToString(), actions) with { Notes = notes };
    }

    // Polled up to ResumeTimeout after the start, and given up at once when no server runs (the start failed).
    private Check ResumesStreaming() => new($"{cluster} streams from {primary} within {Poll.Seconds(ResumeTimeout)} of its start", async (h, ct) =>
    {
        var (_, last) = await Poll.UntilAsync(h, async c =>
        {
            var streams = await cluster.Standby(primary).EvaluateAsync(h, c).ConfigureAwait(false);
            var runs = streams.Holds || (await cluster.ServerRuns(true).EvaluateAsync(h, c).ConfigureAwait(false)).Holds;
            return (Streams: streams, Runs: runs);
        }, r => r.Streams.Holds || !r.Runs, ResumeTimeout, Interval, ct).ConfigureAwait(false);
        return last.Streams.Holds || last.Runs ? last.Streams : new CheckResult(false, $"no server runs: {last.Streams.Observed}");
    });

    // pg_rewind -R leaves the cluster stopped in archive recovery with standby.signal; a refused rewind leaves it as it
    // was, which is never that state: the probe sends a cluster already in archive recovery to a base backup.
    private Check Rewound() => new($"pg_rewind left {cluster.DataDirectory} a standby's", async (h, ct) =>
    {
        var control = await h.TryReadAsync(cluster.ControlDataRead, ct).ConfigureAwait(false);
        var signal = await FileProbe.StatAsync(h, $"{cluster.DataDirectory}/standby.signal", ct).ConfigureAwait(false);
        var state = control.ExitCode == 0 ? PostgresStatusParser.ParseControlData(control.StandardOutput).State : "unreadable";
        return new CheckResult(state == "in archive recovery" && signal.Exists, $"cluster state '{state}', standby.signal {(signal.Exists ? "present" : "absent")}");
    });
}

/// <summary>On the primary, commits wait for the named standby, which streams as <c>sync</c>.</summary>
internal sealed class SynchronousStandbyStep(PostgresCluster cluster, string standby) : Step
{
    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public override string Description => $"{cluster} commits wait for standby {standby} (synchronous)";

    public override IEnumerable<IFact> Reads => [cluster.StatusFact];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var status = await cluster.StatusAsync(host, cancellationToken).ConfigureAwait(false);
        if (!status.IsPrimary)
        {
            return StepProbe.Blocked(status.ToString(), host.Reason($"{cluster} is not the primary ({status}): synchronous_standby_names matters on a primary only"));
        }

        var connection = status.Standbys.FirstOrDefault(s => s.ApplicationName == standby);
        var named = status.SynchronousNames.Count == 1 && status.SynchronousNames[0] == standby;
        if (named && connection?.SyncState == "sync")
        {
            return StepProbe.Satisfied(status.ToString());
        }

        if (connection is not { Streaming: true })
        {
            return StepProbe.Blocked(status.ToString(), host.Reason(
                $"standby {standby} is not streaming from {cluster} ({(status.Standbys.Count == 0 ? "no standby is connected" : string.Join(", ", status.Standbys))}): every commit would wait for it; rebuild it first (RebuiltAsStandbyOf)"));
        }

        var actions = new List<StepAction>();
        if (!named)
        {
            actions.Add(new RunCommand(cluster.Psql(["-c", $"ALTER SYSTEM SET synchronous_standby_names = '{standby}'", "-c", "select pg_reload_conf()"])));
        }

        actions.Add(new WaitUntil(new Check($"{standby} streams as sync", async (h, ct) =>
        {
            var now = await cluster.StatusAsync(h, ct).ConfigureAwait(false);
            return new CheckResult(now.Standbys.Any(s => s.ApplicationName == standby && s.SyncState == "sync"), now.ToString());
        }), SyncTimeout, Interval));
        return StepProbe.Act(status.ToString(), actions);
    }
}
