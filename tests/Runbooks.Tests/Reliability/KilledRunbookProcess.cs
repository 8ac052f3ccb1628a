using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// The built <c>runbook</c> CLI as a child process, SIGKILLed the moment a condition on the host holds — the
/// way an operator's laptop dies mid-repair — and the checks every kill test makes on the journal it leaves.
/// </summary>
internal static class KilledRunbookProcess
{
    /// <summary>
    /// Starts <c>runbook ARGS</c>, polls <paramref name="killWhen"/> until it answers non-null, then SIGKILLs the
    /// process and returns that answer. Fails when the run ends on its own first.
    /// </summary>
    public static async Task<string> RunUntilAsync(string[] args, Func<CancellationToken, Task<string?>> killWhen, TimeSpan within, CancellationToken ct) =>
        (await RunUntilAsync(args, killWhen, within, TimeSpan.Zero, ct)).Seen;

    /// <summary>
    /// As above, but after the condition held the process gets <paramref name="grace"/> to end on its own (when the
    /// condition itself broke the host away under it) before the SIGKILL; returns what it printed too.
    /// </summary>
    public static async Task<(string Seen, int? Exit, string Output)> RunUntilAsync(string[] args, Func<CancellationToken, Task<string?>> killWhen, TimeSpan within, TimeSpan grace, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(TestContext.CurrentContext.TestDirectory, "runbook.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        var clock = Stopwatch.StartNew();
        string? seen = null;
        while (!process.HasExited && seen is null && clock.Elapsed < within)
        {
            seen = await killWhen(ct);
        }

        if (seen is not null && grace > TimeSpan.Zero)
        {
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
            patience.CancelAfter(grace);
            try
            {
                await process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }
        }

        var exitedAlone = process.HasExited;
        if (!exitedAlone)
        {
            process.Kill(); // SIGKILL: no finally block, no journal footer, the host lock stays.
        }

        await process.WaitForExitAsync(ct);
        var text = await output + await error;
        return seen is null
            ? throw new AssertionException($"the kill condition never held within {within.TotalSeconds:0} s (the run exited {process.ExitCode}):\n{text}")
            : (seen, exitedAlone ? process.ExitCode : null, text);
    }

    /// <summary>Every line but a torn last one must be a JSON object.</summary>
    public static IReadOnlyList<string> JournalProblems(string journal)
    {
        var lines = System.IO.File.ReadAllLines(journal);
        var problems = new List<string>();
        if (lines.Length == 0)
        {
            problems.Add("the journal is empty");
        }

        for (var i = 0; i < lines.Length - 1; i++)
        {
            try
            {
                if (JsonNode.Parse(lines[i]) is not JsonObject)
                {
                    problems.Add($"journal line {i + 1} is not a JSON object");
                }
            }
            catch (JsonException)
            {
                problems.Add($"journal line {i + 1} is not JSON");
            }
        }

        return problems;
    }

    /// <summary>The records of the journal that parse, for looking up what a run probed and ran.</summary>
    public static IReadOnlyList<JsonObject> Records(string journal) =>
        System.IO.File.ReadAllLines(journal).Select(l =>
        {
            try
            {
                return JsonNode.Parse(l) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }).OfType<JsonObject>().ToList();

    public static int MutatingCommands(string journal) =>
        Records(journal).Count(r => (string?)r["event"] == "command" && (bool?)r["readOnly"] == false);
}
