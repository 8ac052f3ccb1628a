using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// Crash and resume: the real <c>runbook</c> process is SIGKILLed after each step boundary in turn; after every
/// kill the journal must read back, <c>--resume</c> must converge, and a plain re-run must find every step
/// satisfied with every file's content intact.
/// </summary>
[Category("process"), Category("reliability"), NonParallelizable]
public class CrashResumeTests
{
    private static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        ["app.conf"] = "listen = 8000\n",
        ["app.env"] = "PORT=8000\n",
        ["motd"] = "maintenance 02:00-03:00 UTC\n",
        ["hosts"] = "fdaa::2 server\n",
    };

    private string _root = "";
    private string _runbook = "";

    [SetUp]
    public void CreateRunbook()
    {
        _root = Directory.CreateTempSubdirectory("rb-crash-").FullName;
        _runbook = Path.Combine(_root, "crash.csx");
        // Each change is followed by a short pause step so a kill sent when its step-end appears lands at
        // that boundary rather than somewhere later in a run that takes milliseconds.
        System.IO.File.WriteAllText(_runbook, $$"""
            var root = Environment.GetEnvironmentVariable("CRASH_ROOT")!;
            Target("dir", File.Directory(root, mode: "0750"), new Pause());
            Target("config", DependsOn("dir"), File.Content(root + "/app.conf", "listen = 8000\n", mode: "0600"), new Pause(), File.Content(root + "/app.env", "PORT=8000\n"), new Pause());
            Target("motd", DependsOn("dir"), File.Content(root + "/motd", "maintenance 02:00-03:00 UTC\n"), new Pause());
            Target("hosts", DependsOn("config", "motd"), File.Line(root + "/hosts", "fdaa::2 server", create: true), new Pause());
            await RunAsync(Args);

            sealed class Pause : Step
            {
                public override string Description => "pause";
                public override bool HasPostcondition => false;
                public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken ct)
                {
                    await Task.Delay(400, ct);
                    return StepProbe.Satisfied("paused");
                }
            }
            """);
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    [Test, CancelAfter(600_000)]
    public async Task A_run_killed_at_every_step_boundary_leaves_a_readable_journal_and_resumes_and_reruns_to_the_same_end_state(CancellationToken cancellationToken)
    {
        Environment.SetEnvironmentVariable("CRASH_ROOT", Path.Combine(_root, "unused"));
        var (checkExit, _, checkError) = CliRunner.Run("check", _runbook);
        Assert.That(checkExit, Is.EqualTo(0), checkError);
        const int steps = 10;
        var survived = 0;
        var lost = 0;
        var failures = new List<string>();
        for (var boundary = 1; boundary < steps; boundary++)
        {
            var state = Path.Combine(_root, $"state-{boundary}");
            var journal = Path.Combine(_root, $"run-{boundary}.jsonl");
            Environment.SetEnvironmentVariable("CRASH_ROOT", state);

            var records = await RunAndKillAfterStepEndAsync(journal, boundary, cancellationToken);

            var problems = new List<string>();
            if (records < boundary)
            {
                problems.Add($"the run ended before step-end {boundary} ({records} seen)");
            }

            problems.AddRange(JournalProblems(journal));
            var (showExit, markdown, showError) = CliRunner.Run("journal", "show", journal);
            if (showExit != 0 || !markdown.Contains("crash.csx", StringComparison.Ordinal))
            {
                problems.Add($"journal show exited {showExit}: {showError}");
            }

            if (boundary == 1)
            {
                // The killed run's lock is still on the host; resuming must say so rather than step over it.
                var (lockedExit, _, lockedError) = CliRunner.Run("run", _runbook, "--resume", journal);
                if (lockedExit != 1 || !lockedError.Contains("the lock is stale: run again with --break-lock", StringComparison.Ordinal))
                {
                    problems.Add($"a resume over the dead run's lock exited {lockedExit}: {lockedError}");
                }
            }

            var (resumeExit, resumeOut, resumeError) = CliRunner.Run("run", _runbook, "--resume", journal, "--break-lock");
            if (resumeExit != 0)
            {
                problems.Add($"resume exited {resumeExit}: {resumeOut}{resumeError}");
            }

            var rerunJournal = Path.Combine(_root, $"rerun-{boundary}.jsonl");
            var (rerunExit, rerunOut, rerunError) = CliRunner.Run("run", _runbook, "--journal", rerunJournal);
            if (rerunExit != 0 || !rerunOut.Contains("done: 4 satisfied", StringComparison.Ordinal) || MutatingCommands(rerunJournal) > 0)
            {
                problems.Add($"the re-run after resume was not all satisfied (exit {rerunExit}): {rerunOut}{rerunError}");
            }

            var damaged = Expected.Where(e => !System.IO.File.Exists(Path.Combine(state, e.Key)) || System.IO.File.ReadAllText(Path.Combine(state, e.Key)) != e.Value).ToList();
            lost += damaged.Count;
            problems.AddRange(damaged.Select(d => $"{d.Key} is missing or differs"));
            if (Convert.ToString((int)System.IO.File.GetUnixFileMode(Path.Combine(state, "app.conf")), 8) != "600")
            {
                problems.Add("app.conf mode is not 0600");
            }

            TestContext.Out.WriteLine($"kill after step-end {boundary}: journal had {records} step-end record(s); {(problems.Count == 0 ? "converged" : string.Join("; ", problems))}");
            if (problems.Count == 0)
            {
                survived++;
            }
            else
            {
                failures.Add($"kill after step-end {boundary}: {string.Join("; ", problems)}");
            }
        }

        ReliabilityFigures.Record("crash (SIGKILL at each step boundary, File runbook)", steps - 1, survived, 0, lost);
        Assert.That(failures, Is.Empty);
    }

    /// <summary>Starts the built CLI, waits for the Nth step-end in its journal, SIGKILLs it; returns the step-ends seen.</summary>
    private async Task<int> RunAndKillAfterStepEndAsync(string journal, int boundary, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(TestContext.CurrentContext.TestDirectory, "runbook.dll"), "run", _runbook, "--journal", journal])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The child shares the in-process runs' compile cache and test lock path (CliRunner set both).
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        var seen = 0;
        while (!process.HasExited && seen < boundary)
        {
            await Task.Delay(2, cancellationToken);
            seen = StepEnds(journal);
        }

        if (!process.HasExited)
        {
            process.Kill(); // SIGKILL on Unix: no finally block, no journal footer, the lock stays.
        }

        await process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(output, error);
        return StepEnds(journal);
    }

    private static int StepEnds(string journal)
    {
        try
        {
            using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var count = 0;
            while (reader.ReadLine() is { } line)
            {
                count += line.Contains("\"event\":\"step-end\"", StringComparison.Ordinal) ? 1 : 0;
            }

            return count;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Every line but a torn last one must be a JSON object; the journal reader must agree.</summary>
    private static IEnumerable<string> JournalProblems(string journal)
    {
        var lines = System.IO.File.ReadAllLines(journal);
        for (var i = 0; i < lines.Length - 1; i++)
        {
            JsonObject? record = null;
            try
            {
                record = JsonNode.Parse(lines[i]) as JsonObject;
            }
            catch (JsonException)
            {
            }

            if (record is null)
            {
                yield return $"journal line {i + 1} is not a JSON object";
            }
        }

        if (lines.Length == 0)
        {
            yield return "the journal is empty";
        }
    }

    private static int MutatingCommands(string journal) =>
        System.IO.File.ReadAllLines(journal).Select(l => JsonNode.Parse(l)!)
            .Count(r => (string?)r["event"] == "command" && (bool?)r["readOnly"] == false);
}
