using System.Diagnostics;
using System.Text.Json.Nodes;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// The way to a host breaks while a command runs on it: the sshd processes serving the connection are
/// SIGKILLed, or the whole sshd dies and comes back. The command must end at once with a typed error that
/// names the host, the command, that the connection was lost mid-command and what to do; a re-run must work.
/// And the case to tell apart from it: a command that outlives its timeout while the connection stays up.
/// </summary>
[Category("process"), Category("reliability"), NonParallelizable]
public class SshConnectionLossTests
{
    private const string Fault = "SSH connection lost mid-command";

    private LoopbackSshd? _sshd;

    private LoopbackSshd Sshd => _sshd!;

    [SetUp]
    public async Task StartSshd()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _sshd = await LoopbackSshd.StartAsync(cts.Token);
    }

    [TearDown]
    public void StopSshd() => _sshd?.Dispose();

    [Test, CancelAfter(120_000)]
    public async Task Killing_the_session_mid_command_is_a_transport_error_saying_so_and_the_same_transport_reconnects(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts);
        await ssh.RunCheckedAsync(new Command("true", []), ct);

        var (error, elapsed) = await CutMidCommandAsync(ssh, () => Task.FromResult(Sshd.DropSessions()), ct);
        var rerun = await ssh.RunAsync(new Command("echo", ["after"]), ct);

        var typed = error is TransportException && SaysConnectionLost(error.Message);
        ReliabilityFigures.Record(Fault, 1, typed && rerun.StandardOutput == "after\n" ? 1 : 0, 0, 0);
        Assert.That(error, Is.InstanceOf<TransportException>(), error?.ToString());
        AssertSaysConnectionLost(error!.Message);
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "the loss is reported when it happens, not when `sleep 30` would have ended");
        Assert.That(rerun.StandardOutput, Is.EqualTo("after\n"), "the next command on the same transport opens a new connection");
    }

    [Test, CancelAfter(120_000)]
    public async Task When_the_whole_sshd_dies_and_returns_a_rerun_on_a_new_transport_succeeds(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts);
        await ssh.RunCheckedAsync(new Command("true", []), ct);

        var (error, _) = await CutMidCommandAsync(ssh, async () =>
        {
            await Sshd.RestartAsync(ct);
            return 1;
        }, ct);
        await using var fresh = SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts);
        var rerun = await fresh.RunAsync(new Command("echo", ["after"]), ct);

        var typed = error is TransportException && SaysConnectionLost(error.Message);
        ReliabilityFigures.Record(Fault, 1, typed && rerun.StandardOutput == "after\n" ? 1 : 0, 0, 0);
        Assert.That(error, Is.InstanceOf<TransportException>(), error?.ToString());
        AssertSaysConnectionLost(error!.Message);
        Assert.That(rerun.StandardOutput, Is.EqualTo("after\n"));
    }

    [Test, CancelAfter(180_000)]
    public async Task A_step_cut_off_fails_its_target_with_the_loss_in_the_journal_skips_its_dependents_and_a_rerun_converges(CancellationToken ct)
    {
        var marker = Path.Combine(Sshd.Directory, "batch-done");
        var journalPath = Path.Combine(Sshd.Directory, "run.jsonl");
        // The step's postcondition is the marker its command writes last: a run cut before the marker
        // exists must run the command again, and a run after it must find the step satisfied.
        Target Batch(string seconds) => new("batch", "the nightly batch ran", [], [
            new CommandStep("run the batch", [Shell.Script("sleep \"$1\" && touch \"$2\"", seconds, marker)])
                .Until(Check.From("the batch marker exists", () => System.IO.File.Exists(marker))),
        ]);
        var report = new Target("report", "the report is sent", ["batch"], [new CommandStep("send the report", [new Command("true", [])])]);

        TargetResult[] cut;
        await using (var inventory = new Inventory().Add(Inventory.DefaultHost, SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts)))
        using (var journal = new JournalWriter(journalPath, new RunMetadata("batch.csx", "hash", new Dictionary<string, string> { [Inventory.DefaultHost] = Sshd.Uri }, [], "test", "test")))
        {
            var run = new Runner(new TargetGraph([Batch("30"), report]), inventory, journal).RunAsync(new RunRequest(RunMode.Run, ["report"]), ct);
            await WaitUntilAsync(() => Sshd.IsRunning("sleep"), ct);
            Assert.That(Sshd.DropSessions(), Is.GreaterThan(0), "no sshd session to kill");
            cut = [.. (await run).Targets];
        }

        var records = System.IO.File.ReadAllLines(journalPath).Select(l => JsonNode.Parse(l)!).ToList();
        var stepEnd = records.Single(r => (string?)r["event"] == "step-end" && (string?)r["target"] == "batch");
        var reportEnd = records.Single(r => (string?)r["event"] == "target-end" && (string?)r["target"] == "report");

        RunSummary rerun;
        await using (var inventory = new Inventory().Add(Inventory.DefaultHost, SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts)))
        {
            rerun = await new Runner(new TargetGraph([Batch("1"), report]), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, ["report"]), ct);
        }

        var batch = cut.Single(t => t.Name == "batch");
        ReliabilityFigures.Record(Fault, 1, batch.Status == TargetStatus.Failed && SaysConnectionLost(batch.Error ?? "") && rerun.Succeeded ? 1 : 0, 0, 0);
        Assert.That(batch.Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(batch.Error, Does.StartWith("step 1 'run the batch (until the batch marker exists)'"));
        AssertSaysConnectionLost(batch.Error!);
        Assert.That(cut.Single(t => t.Name == "report").Status, Is.EqualTo(TargetStatus.NotRun));
        Assert.That((string?)stepEnd["outcome"], Is.EqualTo("Failed"));
        Assert.That((string?)stepEnd["error"], Does.Contain("was lost mid-command"), "the journal records why the step failed");
        Assert.That((string?)reportEnd["status"], Is.EqualTo("NotRun"));
        Assert.That(rerun.Succeeded, Is.True, string.Join("; ", rerun.Targets.Select(t => $"{t.Name}: {t.Status} {t.Error}")));
        Assert.That(System.IO.File.Exists(marker), Is.True);
    }

    [Test, CancelAfter(120_000)]
    public async Task A_command_cut_off_by_a_dropped_connection_is_killed_on_the_host_with_its_process_group_and_the_journal_records_it(CancellationToken ct)
    {
        // A duration no other process on the machine has: it finds this test's processes wherever they are reparented.
        var seconds = $"600.{Random.Shared.Next(100_000, 999_999)}";
        var journalPath = Path.Combine(Sshd.Directory, "lost.jsonl");
        // Two processes below the command's shell: the group, not only the process sshd started, must go.
        var step = new CommandStep("run the long batch", [Shell.Script("sleep \"$1\" & sleep \"$1\"; wait", seconds)]);
        try
        {
            TargetResult cut;
            await using (var inventory = new Inventory().Add(Inventory.DefaultHost, SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts)))
            using (var journal = new JournalWriter(journalPath, new RunMetadata("batch.csx", "hash", new Dictionary<string, string> { [Inventory.DefaultHost] = Sshd.Uri }, [], "test", "test")))
            {
                var run = new Runner(new TargetGraph([new Target("batch", "", [], [step])]), inventory, journal).RunAsync(new RunRequest(RunMode.Run, ["batch"]), ct);
                // The script's shell and its two sleeps (and the watchdog's wrapper, which carries the same arguments).
                await WaitUntilAsync(() => ProcessesWithArgument(seconds).Count >= 3, ct);
                Assert.That(Sshd.DropSessions(), Is.GreaterThan(0), "no sshd session to kill");
                cut = (await run).Targets.Single();
            }

            var watch = Stopwatch.StartNew();
            while (ProcessesWithArgument(seconds).Count > 0 && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100, ct);
            }

            var left = ProcessesWithArgument(seconds);
            var lost = System.IO.File.ReadAllLines(journalPath).Select(l => JsonNode.Parse(l)!).Where(r => (string?)r["event"] == "command-lost").ToList();
            TestContext.Out.WriteLine($"orphans gone after {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.That(cut.Status, Is.EqualTo(TargetStatus.Failed));
            Assert.That(left, Is.Empty, $"the cut-off command's processes still run on the host 10 s after the connection dropped: pids {string.Join(", ", left)}");
            Assert.That(lost, Has.Count.EqualTo(1), "the journal records the command the connection took with it");
            Assert.That((string?)lost[0]["host"], Is.EqualTo(Inventory.DefaultHost));
            Assert.That((string?)lost[0]["rendered"], Does.Contain(seconds));
            Assert.That((string?)lost[0]["detail"], Does.Contain("was lost mid-command").And.Contain("watchdog kills its process group"));
        }
        finally
        {
            KillProcessesWithArgument(seconds);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task A_command_past_its_timeout_on_a_live_connection_is_killed_with_its_process_group_and_journaled_as_timed_out_not_lost(CancellationToken ct)
    {
        var seconds = $"600.{Random.Shared.Next(100_000, 999_999)}";
        var journalPath = Path.Combine(Sshd.Directory, "timed-out.jsonl");
        // The script's shell leads the group; the backgrounded sleep is a second process in it, the one a signal to
        // the shell alone would leave behind.
        var step = new CommandStep("run the long batch", [Shell.Script("sleep \"$1\" & sleep \"$1\"; wait", seconds).WithTimeout(TimeSpan.FromSeconds(3))]);
        var after = new Target("after", "", ["batch"], [new CommandStep("after", [new Command("true", [])])]);
        try
        {
            RunSummary run;
            CommandResult next;
            var watch = Stopwatch.StartNew();
            var transport = SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts);
            await using (var inventory = new Inventory().Add(Inventory.DefaultHost, transport))
            using (var journal = new JournalWriter(journalPath, new RunMetadata("batch.csx", "hash", new Dictionary<string, string> { [Inventory.DefaultHost] = Sshd.Uri }, [], "test", "test")))
            {
                run = await new Runner(new TargetGraph([new Target("batch", "", [], [step]), after]), inventory, journal).RunAsync(new RunRequest(RunMode.Run, ["after"]), ct);
                watch.Stop();
                next = await transport.RunAsync(new Command("echo", ["still connected"]), ct);
            }

            var left = ProcessesWithArgument(seconds);
            var records = System.IO.File.ReadAllLines(journalPath).Select(l => JsonNode.Parse(l)!).ToList();
            var timedOut = records.Where(r => (string?)r["event"] == "command-timed-out").ToList();
            var batch = run.Targets.Single(t => t.Name == "batch");
            TestContext.Out.WriteLine($"{batch.Error} ({watch.Elapsed.TotalSeconds:0.0} s)");
            Assert.That(batch.Status, Is.EqualTo(TargetStatus.Failed));
            Assert.That(batch.Error, Does.Contain("timed out after 3 s with the connection up").And.Contain("ended on SIGTERM"));
            Assert.That(batch.Error, Does.Not.Contain("lost mid-command"));
            Assert.That(run.Targets.Single(t => t.Name == "after").Status, Is.EqualTo(TargetStatus.NotRun));
            Assert.That(left, Is.Empty, $"the timed-out command's processes still run on the host: pids {string.Join(", ", left)}");
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the step ends at its timeout, not when the command would have");
            Assert.That(timedOut, Has.Count.EqualTo(1), "the journal records the command that ran past its timeout");
            Assert.That((string?)timedOut[0]["rendered"], Does.Contain(seconds));
            Assert.That((double?)timedOut[0]["timeoutSeconds"], Is.EqualTo(3));
            Assert.That(records.Where(r => (string?)r["event"] == "command-lost"), Is.Empty, "a timeout is not a lost connection");
            Assert.That(next.StandardOutput, Is.EqualTo("still connected\n"), "the connection stays up and usable");
        }
        finally
        {
            KillProcessesWithArgument(seconds);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task A_daemon_a_finished_command_started_outlives_the_connection_and_its_watchdog(CancellationToken ct)
    {
        // A runbook that starts a server (`setsid -f …`) must not lose it when the connection goes: only commands still
        // in flight are reaped. Before, the watchdog killed every process carrying the connection's marker.
        var seconds = $"600.{Random.Shared.Next(100_000, 999_999)}";
        try
        {
            await using (var ssh = SshTransport.FromUri(Sshd.Uri, Sshd.UserKey, Sshd.KnownHosts))
            {
                await ssh.RunCheckedAsync(Shell.Script("setsid -f sleep \"$1\" </dev/null >/dev/null 2>&1", seconds), ct);
                await WaitUntilAsync(() => ProcessesWithArgument(seconds).Count == 1, ct);
                await WaitUntilAsync(() => ProcessesWithArgument("runbooks-watchdog").Count > 0, ct);
                Assert.That(Sshd.DropSessions(), Is.GreaterThan(0), "no sshd session to kill");
            }

            // The watchdog reaps and exits once its sshd is gone: wait for that, not for a guessed time.
            var watch = Stopwatch.StartNew();
            while (ProcessesWithArgument("runbooks-watchdog").Count > 0 && watch.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(100, ct);
            }

            Assert.That(ProcessesWithArgument("runbooks-watchdog"), Is.Empty, "the watchdog did not end after its connection dropped");
            Assert.That(ProcessesWithArgument(seconds), Has.Count.EqualTo(1), "the daemon the finished command started was killed with the connection");
        }
        finally
        {
            KillProcessesWithArgument(seconds);
        }
    }

    /// <summary>Kills what a test left running on this machine (found by its unique argument).</summary>
    private static void KillProcessesWithArgument(string argument)
    {
        foreach (var pid in ProcessesWithArgument(argument))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>Processes anywhere on this machine with <paramref name="argument"/> as one of their arguments.</summary>
    private static List<int> ProcessesWithArgument(string argument)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && System.IO.File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(argument))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we read it.
            }
        }

        return found;
    }

    /// <summary>Starts <c>sleep 30</c> through the transport, breaks the connection once it runs, returns what the call threw.</summary>
    private async Task<(Exception? Error, TimeSpan Elapsed)> CutMidCommandAsync(ITransport ssh, Func<Task<int>> cut, CancellationToken ct)
    {
        var command = ssh.RunAsync(new Command("sleep", ["30"]), ct);
        await WaitUntilAsync(() => Sshd.IsRunning("sleep"), ct);
        var watch = Stopwatch.StartNew();
        Assert.That(await cut(), Is.GreaterThan(0), "nothing was killed");
        try
        {
            await command;
            return (null, watch.Elapsed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            TestContext.Out.WriteLine($"{ex.GetType().Name} after {watch.Elapsed.TotalSeconds:0.00} s: {ex.Message}");
            return (ex, watch.Elapsed);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(50, ct);
        }
    }

    private bool SaysConnectionLost(string message) =>
        message.Contains($"on root@127.0.0.1:{Sshd.Port}", StringComparison.Ordinal) &&
        message.Contains("was lost mid-command", StringComparison.Ordinal) &&
        message.Contains("may or may not have completed", StringComparison.Ordinal) &&
        message.Contains("re-run", StringComparison.Ordinal);

    private void AssertSaysConnectionLost(string message)
    {
        Assert.That(message, Does.Contain($"on root@127.0.0.1:{Sshd.Port}"), "names the host");
        Assert.That(message, Does.Contain("`sleep 30`").Or.Contain("sleep \"$1\""), "names the command");
        Assert.That(message, Does.Contain("was lost mid-command"));
        Assert.That(message, Does.Contain("may or may not have completed on the host"));
        Assert.That(message, Does.Contain("re-run: every step re-probes"), "says what to do next");
    }
}
