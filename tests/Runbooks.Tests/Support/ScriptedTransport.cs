using System.Collections.Concurrent;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// A transport for pure tests: answers each command by a rule over its argv and records what ran.
/// Unknown commands fail the test loudly rather than returning something plausible.
/// </summary>
internal sealed class ScriptedTransport(string name = "scripted") : ITransport
{
    private readonly List<(Func<Command, bool> Match, Func<Command, CommandResult> Answer)> _rules = [];

    public string Name => name;

    public ConcurrentQueue<Command> Ran { get; } = new();

    public IEnumerable<Command> Mutations => Ran.Where(c => !c.ReadOnly);

    public ScriptedTransport On(Func<Command, bool> match, Func<Command, CommandResult> answer)
    {
        _rules.Insert(0, (match, answer));
        return this;
    }

    public ScriptedTransport On(string program, int exit = 0, string stdout = "", string stderr = "") =>
        On(c => c.Program == program, _ => Result(exit, stdout, stderr));

    public static CommandResult Result(int exit = 0, string stdout = "", string stderr = "") =>
        new(exit, stdout, stderr, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        Ran.Enqueue(command);
        var rule = _rules.FirstOrDefault(r => r.Match(command));
        if (rule.Answer is null)
        {
            Assert.Fail($"unexpected command: {command.Render()}");
        }

        return Task.FromResult(rule.Answer!(command));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
