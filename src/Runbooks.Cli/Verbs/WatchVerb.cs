using System.CommandLine;
using System.Globalization;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Watch;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook watch FILE [targets] [--every 30s]</c>: keep the hosts as the runbook describes them.</summary>
internal static class WatchVerb
{
    public static Command Create()
    {
        var run = new TargetRun();
        var every = new Option<string>("--every") { Description = "time from one pass's start to the next (500ms, 30s, 5m, 1h)", DefaultValueFactory = _ => "30s" };
        var maxPasses = new Option<int?>("--max-passes") { Description = "stop after this many passes (default: until SIGTERM or Ctrl+C)" };
        var journal = new Option<FileInfo?>("--journal") { Description = "one journal for every pass (default ./.runbook/journal/NAME-TIME.jsonl)" };
        var install = new Option<string?>("--install") { Description = "print (or write with --install-to) a service that runs this watch: systemd or runit" };
        install.AcceptOnlyFromAmong([.. WatchServiceUnit.Kinds]);
        var installTo = new Option<DirectoryInfo?>("--install-to") { Description = "with --install: the directory to write the unit into (/etc/systemd/system, /etc/sv) instead of stdout" };
        var command = new Command("watch", "reconcile on an interval: plan each pass, apply only on drift, verify, journal; back off after failures");
        run.AddTo(command);
        command.Add(every);
        command.Add(maxPasses);
        command.Add(journal);
        command.Add(install);
        command.Add(installTo);
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var intervalText = parse.GetValue(every)!;
                var interval = Duration.Parse(intervalText, "--every");
                var file = parse.GetValue(run.File)!;
                if (parse.GetValue(maxPasses) is <= 0)
                {
                    throw new InvalidRunbookException($"--max-passes {parse.GetValue(maxPasses)}: give a positive number of passes");
                }

                if (parse.GetValue(install) is { } kind)
                {
                    return Install(kind, parse.GetValue(installTo), file.FullName, ServiceArguments(parse, run, intervalText, journal, maxPasses), Duration.Format(interval));
                }

                var runbook = SharedOptions.Load(file, parse.GetValue(run.NoCache), Console.Error);
                await using var inventory = InventoryParser.Parse(parse.GetValue(run.Hosts) ?? [], parse.GetValue(run.Inventory)?.FullName);
                var journalPath = parse.GetValue(journal)?.FullName ?? Path.GetFullPath(JournalWriter.DefaultPath(file.FullName));
                var options = new WatchOptions(interval, parse.GetValue(maxPasses), Locking: RunVerb.Locking(file.FullName, breakStale: false),
                    SkipDependencies: parse.GetValue(run.SkipDependencies), Parallel: parse.GetValue(run.Parallel));
                WatchResult? result = null;
                using (var writer = new JournalWriter(journalPath, new RunMetadata(
                    runbook.Source.Path,
                    runbook.Source.TextHash,
                    inventory.Names.ToDictionary(n => n, n => inventory.Context(n).Transport.Name),
                    parse.GetValue(run.Targets) ?? [],
                    Environment.UserName,
                    ToolVersion.Value)))
                {
                    Console.WriteLine($"watching {file.Name} every {Duration.Format(interval)}; journal: {journalPath}");
                    await runbook.ExecuteAsync(parse.GetValue(run.Targets) ?? [], async (graph, requested) =>
                        result = await new WatchLoop(graph, inventory, requested, writer, options).RunAsync(cancellationToken, pass => Console.WriteLine(Describe(pass))).ConfigureAwait(false))
                        .ConfigureAwait(false);
                }

                Console.WriteLine($"{(result!.Stopped ? "stopped" : "done")} after {result.Passes.Count} pass(es); journal: {journalPath}");
                return result.Stopped || result.Healthy ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }

    private static string Describe(WatchPass pass)
    {
        static string S(TimeSpan span) => span.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";
        var what = (pass.Drift, pass.Failed) switch
        {
            (true, false) => $"drift detected after {S(pass.TimeToDetect!.Value)}, repaired in {S(pass.TimeToRepair!.Value)} ({pass.Changed} step(s) changed)",
            (false, false) => "no drift",
            _ => $"FAILED: {pass.Reason}",
        };
        var next = pass.ConsecutiveFailures > 0 ? $"; backing off, next pass in {Duration.Format(pass.NextPassIn)}" : "";
        return $"pass {pass.Number} ({pass.Started:HH:mm:ss}): {what}{next}";
    }

    // The watch the service runs is this one, with absolute paths (a service does not start where the operator stood).
    private static List<string> ServiceArguments(ParseResult parse, TargetRun run, string interval, Option<FileInfo?> journal, Option<int?> maxPasses)
    {
        var words = new List<string>(ToolCommand()) { "watch", parse.GetValue(run.File)!.FullName, "--every", interval };
        foreach (var host in parse.GetValue(run.Hosts) ?? [])
        {
            words.AddRange(["--host", host]);
        }

        if (parse.GetValue(run.Inventory) is { } inventory)
        {
            words.AddRange(["--inventory", inventory.FullName]);
        }

        // One journal across restarts of the service, where a service's state lives; a stamped file per start would scatter it.
        words.AddRange(["--journal", parse.GetValue(journal)?.FullName ?? $"/var/lib/runbook/journal/{WatchServiceUnit.Name(parse.GetValue(run.File)!.FullName)}.jsonl"]);

        if (parse.GetValue(maxPasses) is { } passes)
        {
            words.AddRange(["--max-passes", passes.ToString(CultureInfo.InvariantCulture)]);
        }

        if (parse.GetValue(run.SkipDependencies))
        {
            words.Add("--skip-dependencies");
        }

        if (parse.GetValue(run.Parallel))
        {
            words.Add("--parallel");
        }

        words.AddRange(parse.GetValue(run.Targets) ?? []);
        return words;
    }

    // The installed tool is an apphost named runbook; a build run as `dotnet runbook.dll` needs dotnet in front.
    private static IEnumerable<string> ToolCommand()
    {
        var process = Environment.ProcessPath ?? "runbook";
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, typeof(WatchVerb).Assembly.Location] : [process];
    }

    private static int Install(string kind, DirectoryInfo? directory, string runbookPath, IReadOnlyList<string> command, string interval)
    {
        var (relative, content, executable) = WatchServiceUnit.Render(kind, runbookPath, command, interval);
        if (directory is null)
        {
            Console.Write(content);
            return ExitCodes.Done;
        }

        var path = Path.Combine(directory.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (executable && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        Console.WriteLine(kind == "systemd"
            ? $"wrote {path}; start it with `systemctl daemon-reload && systemctl enable --now {Path.GetFileName(path)}`"
            : $"wrote {path}; start it with `ln -s {Path.GetDirectoryName(path)} /etc/service/`");
        return ExitCodes.Done;
    }
}
