using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Scripting;
using Runbooks.Watch;

namespace Runbooks.Harness.Drill;

/// <summary>One watch pass as its journal tells it: from its <c>pass-start</c> and <c>pass-end</c> records.</summary>
/// <param name="DetectedAt">When the pass's plan probed the first drifted step (pass start + <c>detectMs</c>); null without drift.</param>
/// <param name="DriftAt">The journal's <c>driftAt</c>: the target, step and what it observed.</param>
public sealed record JournaledPass(int Number, DateTimeOffset Started, DateTimeOffset Ended, bool Drift, bool Failed, DateTimeOffset? DetectedAt, string? DriftAt, string? Error);

/// <summary>
/// A live <c>runbook watch</c> over the drill's hosts: the same <see cref="WatchLoop"/> the verb runs, in the background
/// for the whole drill, with its own journal. The drill learns what the watch saw only by reading that journal back.
/// </summary>
internal sealed class DrillWatch : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, DateTimeOffset> _starts = [];
    private readonly List<JournaledPass> _passes = [];
    private readonly StringBuilder _partial = new();
    private Task _loop = Task.CompletedTask;
    private long _offset;

    private DrillWatch(string journalPath) => JournalPath = journalPath;

    public string JournalPath { get; }

    /// <summary>Starts watching every target of <paramref name="runbook"/> on <paramref name="hosts"/>, a pass every <paramref name="every"/>.</summary>
    public static DrillWatch Start(LoadedRunbook runbook, Inventory hosts, string journalPath, TimeSpan every)
    {
        // An inventory is bound to one run at a time (its observer, plan or apply): the watch plans while the drill
        // applies a fault, so it gets its own over the same transports, which the environment still owns and closes.
        var inventory = new Inventory();
        foreach (var name in hosts.Names)
        {
            inventory.Add(name, hosts.Context(name).Transport);
        }

        var watch = new DrillWatch(journalPath);
        var writer = new JournalWriter(journalPath, new RunMetadata(
            runbook.Source.Path,
            runbook.Source.TextHash,
            inventory.Names.ToDictionary(n => n, n => inventory.Context(n).Transport.Name),
            [],
            Environment.UserName,
            "harness drill --watch"));
        watch._loop = Task.Run(async () =>
        {
            using (writer)
            {
                await runbook.ExecuteAsync([], (graph, names) => new WatchLoop(graph, inventory, names, writer, new WatchOptions(every, PassGate: watch.HoldAsync)).RunAsync(watch._stop.Token))
                    .ConfigureAwait(false);
            }
        });
        return watch;
    }

    /// <summary>
    /// Waits for the pass in progress to end and keeps the next from starting until the result is disposed: a fault goes
    /// in between two passes, as it would between two runs of a watch on a timer, rather than racing a repair step by step.
    /// </summary>
    public async Task<IDisposable> HoldAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(_gate);
    }

    /// <summary>The watch itself ended (its runbook threw): a drill cannot go on measuring it.</summary>
    public Exception? Fault => _loop.IsFaulted ? _loop.Exception?.GetBaseException() : null;

    /// <summary>Every pass the journal shows as ended so far, reading only what was appended since the last call.</summary>
    public IReadOnlyList<JournaledPass> Passes()
    {
        if (File.Exists(JournalPath))
        {
            using var stream = new FileStream(JournalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            _partial.Append(reader.ReadToEnd());
            _offset = stream.Length;
        }

        // Only whole lines: the writer may be in the middle of one.
        var text = _partial.ToString();
        var end = text.LastIndexOf('\n');
        if (end >= 0)
        {
            foreach (var line in text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Read(JsonNode.Parse(line)!.AsObject());
            }

            _partial.Remove(0, end + 1);
        }

        return _passes;
    }

    private void Read(JsonObject record)
    {
        var kind = (string?)record["event"];
        if (kind is not ("pass-start" or "pass-end") || record["pass"] is not { } number)
        {
            return;
        }

        var pass = (int)number;
        var at = DateTimeOffset.Parse((string)record["ts"]!, CultureInfo.InvariantCulture);
        if (kind == "pass-start")
        {
            _starts[pass] = at;
            return;
        }

        var started = _starts.GetValueOrDefault(pass, at);
        var detectMs = (double?)record["detectMs"];
        _passes.Add(new JournaledPass(pass, started, at, (bool?)record["drift"] ?? false, (bool?)record["failed"] ?? false,
            detectMs is { } ms ? started + TimeSpan.FromMilliseconds(ms) : null, (string?)record["driftAt"], (string?)record["error"]));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception) when (_loop.IsFaulted)
        {
            // Already reported through Fault by the round that saw it.
        }

        _stop.Dispose();
        _gate.Dispose();
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
