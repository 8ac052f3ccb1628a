using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// Answers recorded tool output per argv and remembers every command it was asked to run, so a test reads
/// "given these facts, expect these commands". An argv with no answer fails the test loudly.
/// </summary>
public sealed class FakeTransport(string name = "fake") : ITransport
{
    private readonly Dictionary<string, Queue<CommandResult>> _answers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CommandResult> _sticky = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public List<Command> Ran { get; } = [];

    public IEnumerable<Command> Changes => Ran.Where(c => !c.ReadOnly);

    public static string Key(string program, params string[] args) => string.Join(' ', [program, .. args]);

    public static string Key(Command command) => string.Join(' ', [command.Program, .. command.Arguments.Select(a => a.Reveal())]);

    /// <summary>Answers this argv with <paramref name="stdout"/> every time (until <see cref="Then"/> queues a later answer).</summary>
    public FakeTransport On(string key, string stdout, int exit = 0, string stderr = "")
    {
        _sticky[key] = Result(exit, stdout, stderr);
        return this;
    }

    public FakeTransport On(Command command, string stdout, int exit = 0, string stderr = "") => On(Key(command), stdout, exit, stderr);

    /// <summary>Queues an answer used once, before the sticky one: the facts as they look after a change.</summary>
    public FakeTransport Then(Command command, string stdout, int exit = 0)
    {
        var key = Key(command);
        if (!_answers.TryGetValue(key, out var queue))
        {
            _answers[key] = queue = new Queue<CommandResult>();
        }

        queue.Enqueue(Result(exit, stdout, ""));
        return this;
    }

    /// <summary>Every changing command succeeds with empty output.</summary>
    public bool AcceptChanges { get; set; } = true;

    public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        Ran.Add(command);
        if (FileBatch.PathsOf(command) is { } paths)
        {
            // A batch of file reads is answered from each file's own answer, as the host would.
            return Task.FromResult(Result(0, FileBatch.Join(paths.Select(p => Answer(HostContext.FileRead(p)))), ""));
        }

        return Task.FromResult(Answer(command));
    }

    private CommandResult Answer(Command command)
    {
        var key = Key(command);
        if (_answers.TryGetValue(key, out var queue) && queue.Count > 0)
        {
            return queue.Dequeue();
        }

        if (_sticky.TryGetValue(key, out var result))
        {
            return result;
        }

        if (!command.ReadOnly && AcceptChanges)
        {
            return Result(0, "", "");
        }

        if (key.StartsWith("lvm fullreport ", StringComparison.Ordinal))
        {
            // Tests given as separate reports: the combined one fails the way an old LVM's does, and the steps
            // fall back to the separate ones — which are then strictly answered or fail loudly as ever.
            return Result(3, "", "  Invalid command name: fullreport (not recorded for this test)");
        }

        throw new InvalidOperationException($"FakeTransport has no answer for `{key}`");
    }

    public HostContext Context() => new Inventory().Add(Name, this).Context(Name);

    /// <summary>A context as a run binds it, with <paramref name="keepDirectory"/> as the run's directory for undo material.</summary>
    public HostContext RunContext(string keepDirectory)
    {
        var inventory = new Inventory().Add(Name, this);
        inventory.Bind(new RunObserver(), planOnly: false, keepDirectory);
        return inventory.Context(Name);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CommandResult Result(int exit, string stdout, string stderr) =>
        new(exit, stdout, stderr, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
}

public static class Fixture
{
    public static string Read(string relative) => System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", relative));
}
