using Runbooks.Tests.Support;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Runbooks.Journal;

namespace Runbooks.Tests.Watch;

/// <summary>
/// <c>runbook watch</c> as operators run it: the built CLI as a child process on this machine's local transport,
/// against files in a temporary directory that the test changes behind its back.
/// </summary>
[Category("process"), NonParallelizable]
public class WatchProcessTests : TempFolderTest
{
    [Test, CancelAfter(120_000)]
    public async Task A_drift_introduced_while_watching_is_repaired_within_one_interval(CancellationToken ct)
    {
        var config = Path.Combine(Folder, "app.conf");
        var runbook = Write("keep.csx", $$"""
            Target("config", "the app listens on every address", File.Content("{{config}}", "listen = 0.0.0.0:8080\n"));
            await RunAsync(Args);
            """);
        var journal = Path.Combine(Folder, "watch.jsonl");
        var interval = TimeSpan.FromSeconds(2);
        using var watch = Start("watch", runbook, "--every", "2s", "--journal", journal);

        // The first pass creates the file; wait for a quiet pass so the drift below is the only one in play.
        await UntilAsync(() => PassEnds(journal).Any(p => (bool?)p["drift"] == false), TimeSpan.FromSeconds(60), watch, ct);
        var quiet = PassEnds(journal).Count;
        await System.IO.File.WriteAllTextAsync(config, "listen = 127.0.0.1:8080\n", ct);
        var changed = Stopwatch.StartNew();
        await UntilAsync(() => System.IO.File.ReadAllText(config) == "listen = 0.0.0.0:8080\n", interval * 3, watch, ct);
        var repairedAfter = changed.Elapsed;
        // The file is right before its pass has verified it and written pass-end: stopping now would cut that pass short.
        await UntilAsync(() => PassEnds(journal).Skip(quiet).Any(p => (bool?)p["drift"] == true), interval * 3, watch, ct);
        await StopAsync(watch, ct);

        Assert.That(repairedAfter, Is.LessThanOrEqualTo(interval + TimeSpan.FromSeconds(1)), "repaired within one interval (plus the pass itself)");
        var repaired = PassEnds(journal).Last(p => (bool?)p["drift"] == true);
        Assert.Multiple(() =>
        {
            Assert.That((bool?)repaired["failed"], Is.False);
            Assert.That((double?)repaired["detectMs"], Is.GreaterThan(0));
            Assert.That((double?)repaired["repairMs"], Is.GreaterThan(0));
            Assert.That((string?)repaired["driftAt"], Does.Contain("content differs"));
            Assert.That(watch.ExitCode, Is.Zero, "a stopped watch exits 0");
            Assert.That(JournalMarkdown.Render(JournalReader.Read(journal)), Does.Contain($"**pass {repaired["pass"]}**: drift in config step 1").And.Contain("**watch ended**"));
        });
        TestContext.Out.WriteLine($"repaired {repairedAfter.TotalSeconds:0.000} s after the change; journal: detect {repaired["detectMs"]} ms, repair {repaired["repairMs"]} ms");
    }

    [Test, CancelAfter(120_000)]
    public async Task A_runbook_that_fails_every_pass_backs_off_and_the_journal_says_why(CancellationToken ct)
    {
        var runbook = Write("failing.csx", $$"""
            Target("never", "a repair that cannot work",
                Exec("a command that always fails", new Command("false", [])).Until(File.Exists("{{Folder}}/never-there")));
            await RunAsync(Args);
            """);
        var journal = Path.Combine(Folder, "watch.jsonl");
        using var watch = Start("watch", runbook, "--every", "300ms", "--max-passes", "4", "--journal", journal);
        await watch.WaitForExitAsync(ct);

        var starts = JournalReader.Read(journal).Records.Where(r => (string?)r["event"] == "pass-start")
            .Select(r => DateTimeOffset.Parse((string)r["ts"]!, CultureInfo.InvariantCulture)).ToList();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => (b - a).TotalSeconds).ToList();
        var ends = PassEnds(journal);
        // Passes start at a fixed rate from the previous start, so a pass longer than its backoff (a loaded machine)
        // starts the next one as it ends: the gap expected is the longer of the two.
        var durations = ends.Select((e, i) => (DateTimeOffset.Parse((string)e["ts"]!, CultureInfo.InvariantCulture) - starts[i]).TotalSeconds).ToList();
        double Expected(int i, double backoff) => Math.Max(backoff, durations[i]);
        TestContext.Out.WriteLine($"gaps between pass starts: {string.Join(", ", gaps.Select(g => g.ToString("0.00", CultureInfo.InvariantCulture)))} s; passes took {string.Join(", ", durations.Select(d => d.ToString("0.00", CultureInfo.InvariantCulture)))} s");
        Assert.Multiple(() =>
        {
            Assert.That(watch.ExitCode, Is.EqualTo(1), "the last pass failed");
            Assert.That(gaps, Has.Count.EqualTo(3));
            // ×2, ×4, ×8 the 0.3 s interval (the journal's clock reads a few ms after the loop's).
            Assert.That(gaps[0], Is.EqualTo(Expected(0, 0.6)).Within(0.3));
            Assert.That(gaps[1], Is.EqualTo(Expected(1, 1.2)).Within(0.3));
            Assert.That(gaps[2], Is.EqualTo(Expected(2, 2.4)).Within(0.3));
            Assert.That(ends.Select(e => (bool?)e["failed"]), Is.All.True);
            Assert.That((string?)ends[^1]["backoff"], Does.Contain("after 4 failing pass(es)").And.Contain("false"));
            Assert.That((double?)ends[0]["nextPassInSeconds"], Is.EqualTo(0.6).Within(0.001));
        });
    }

    [Test, CancelAfter(120_000)]
    public async Task SIGTERM_mid_pass_stops_cleanly_and_leaves_a_journal_that_reads_back(CancellationToken ct)
    {
        var runbook = Write("slow.csx", $$"""
            Target("slow", "a slow repair",
                Exec("take a while, then mark it done", Shell.Script("sleep 30 && touch \"$1\"", "{{Folder}}/done")).Until(File.Exists("{{Folder}}/done")));
            await RunAsync(Args);
            """);
        var journal = Path.Combine(Folder, "watch.jsonl");
        using var watch = Start("watch", runbook, "--every", "1s", "--journal", journal);
        await UntilAsync(() => Records(journal).Any(r => (string?)r["event"] == "run-start" && (string?)r["mode"] == "run"), TimeSpan.FromSeconds(60), watch, ct);
        await Task.Delay(300, ct);
        var clock = Stopwatch.StartNew();
        await StopAsync(watch, ct);

        var read = JournalReader.Read(journal);
        Assert.Multiple(() =>
        {
            Assert.That(watch.ExitCode, Is.Zero, "a clean stop exits 0");
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the 30 s command was abandoned, not waited for");
            Assert.That(read.TornLine, Is.Null);
            Assert.That(read.Records.Select(r => (string?)r["event"]), Does.Contain("run-aborted"));
            Assert.That((string?)read.Records[^1]["event"], Is.EqualTo("watch-end"));
            Assert.That((string?)read.Records[^1]["reason"], Does.Contain("during pass 1"));
            Assert.That(System.IO.File.Exists(Path.Combine(Folder, "done")), Is.False);
        });
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(TestContext.CurrentContext.TestDirectory, "runbook.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["RUNBOOK_CACHE_DIR"] = Path.Combine(Path.GetTempPath(), "runbooks-test-cache");
        start.Environment["RUNBOOK_LOCK"] = Path.Combine(Folder, "lock", "runbook");
        start.Environment["NO_COLOR"] = "1";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => TestContext.Progress.WriteLine($"watch: {e.Data}");
        process.ErrorDataReceived += (_, e) => TestContext.Progress.WriteLine($"watch (stderr): {e.Data}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    // SIGTERM, as systemd and runit stop a service.
    private static async Task StopAsync(Process process, CancellationToken ct)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(ct);
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill();
            Assert.Fail("the watch did not stop within 20 s of SIGTERM");
        }
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan within, Process watch, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.HasExited)
            {
                Assert.Fail($"the watch exited {watch.ExitCode} before the condition held");
            }

            if (clock.Elapsed > within)
            {
                watch.Kill();
                Assert.Fail($"the condition did not hold within {within.TotalSeconds:0.#} s");
            }

            await Task.Delay(50, ct);
        }
    }

    private static IReadOnlyList<JsonObject> Records(string journal) =>
        System.IO.File.Exists(journal) ? JournalReader.Read(journal).Records : [];

    private static List<JsonObject> PassEnds(string journal) =>
        [.. Records(journal).Where(r => (string?)r["event"] == "pass-end")];
}
