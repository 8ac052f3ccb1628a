using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// The one transport of the pure tests: answers recorded tool output per argv (<see cref="On(string, string, int, string)"/>),
/// later states of the same read (<see cref="Then"/>), commands matched by a rule (<see cref="When(Func{Command, bool}, Func{Command, CommandResult})"/>),
/// or passes them to a real transport (<see cref="Forwarding"/>), and remembers every command it was asked to run, so a
/// test reads "given these facts, expect these commands". A read with no answer fails the test loudly, so a step that
/// starts reading something new shows up.
/// </summary>
public sealed class FakeTransport(string name = "fake") : ITransport
{
    private readonly Dictionary<string, Queue<CommandResult>> _answers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CommandResult> _sticky = new(StringComparer.Ordinal);
    private readonly List<(Func<Command, bool> Match, Func<Command, CommandResult> Answer)> _rules = [];
    private readonly List<Command> _ran = [];
    private ITransport? _inner;

    public string Name { get; } = name;

    /// <summary>What ran, in order; a copy, since steps may run commands from several threads.</summary>
    public IReadOnlyList<Command> Ran
    {
        get
        {
            lock (_ran)
            {
                return [.. _ran];
            }
        }
    }

    public IEnumerable<Command> Changes => Ran.Where(c => !c.ReadOnly);

    /// <summary>Every changing command succeeds with empty output; false makes an unanswered change fail like an unanswered read.</summary>
    public bool AcceptChanges { get; set; } = true;

    /// <summary>The argv as the host sees it (secrets revealed): the key answers are recorded under.</summary>
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

    /// <summary>
    /// Answers every command <paramref name="match"/> accepts by calling <paramref name="answer"/>, for answers that
    /// depend on the argv or on what ran before. Exact argv answers come first; among rules the latest added wins.
    /// </summary>
    public FakeTransport When(Func<Command, bool> match, Func<Command, CommandResult> answer)
    {
        _rules.Insert(0, (match, answer));
        return this;
    }

    public FakeTransport When(Func<Command, bool> match, string stdout, int exit = 0, string stderr = "") =>
        When(match, _ => Result(exit, stdout, stderr));

    /// <summary>Answers every command of <paramref name="program"/>, whatever its arguments.</summary>
    public FakeTransport WhenProgram(string program, string stdout = "", int exit = 0, string stderr = "") =>
        When(c => c.Program == program, stdout, exit, stderr);

    /// <summary>Runs what has no answer on <paramref name="inner"/>, still recording it: a real host with a count of round trips.</summary>
    public FakeTransport Forwarding(ITransport inner)
    {
        _inner = inner;
        return this;
    }

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        lock (_ran)
        {
            _ran.Add(command);
        }

        if (Answer(command) is { } answer)
        {
            return answer;
        }

        return _inner is null ? Unanswered(command) : await _inner.RunAsync(command, cancellationToken).ConfigureAwait(false);
    }

    private CommandResult? Answer(Command command)
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

        foreach (var (match, answer) in _rules)
        {
            if (match(command))
            {
                return answer(command);
            }
        }

        return null;
    }

    private CommandResult Unanswered(Command command)
    {
        if (!command.ReadOnly && AcceptChanges)
        {
            return Result(0, "", "");
        }

        if (command.Combines.Length > 0)
        {
            // Tests record the separate reads: the combined one fails (as fullreport does on an old LVM) and the
            // engine runs each part, which is then strictly answered or fails loudly as ever.
            return Result(3, "", "combined read not recorded for this test; its parts are read one by one");
        }

        throw new AssertionException($"{Name}: no recorded answer for `{Key(command)}`");
    }

    /// <summary>A context on a fresh inventory, or on <paramref name="inventory"/> (added to it when not there yet).</summary>
    public HostContext Context(Inventory? inventory = null)
    {
        inventory ??= new Inventory();
        if (!inventory.Contains(Name))
        {
            inventory.Add(Name, this);
        }

        return inventory.Context(Name);
    }

    /// <summary>A context as a run binds it, with <paramref name="keepDirectory"/> as the run's directory for undo material.</summary>
    public HostContext RunContext(string keepDirectory)
    {
        var inventory = new Inventory().Add(Name, this);
        inventory.Bind(new RunObserver(), planOnly: false, keepDirectory);
        return inventory.Context(Name);
    }

    public ValueTask DisposeAsync() => _inner?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>An answer stamped now, as a host's would be (service uptimes are read against it).</summary>
    public static CommandResult Result(int exit = 0, string stdout = "", string stderr = "") =>
        new(exit, stdout, stderr, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
}

public static class Fixture
{
    public static string Read(string relative) => System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", relative));
}
