using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// Answers recorded tool output per argv, for the network nouns' pure tests. An unexpected command fails the
/// test loudly, so a step that starts reading something new shows up.
/// </summary>
internal sealed class NetworkFakeTransport(string name = "server") : ITransport
{
    private readonly List<(Func<Command, bool> Match, CommandResult Result)> _answers = [];

    public string Name { get; } = name;

    public List<Command> Ran { get; } = [];

    public IEnumerable<string> Applied => Ran.Where(c => !c.ReadOnly).Select(c => c.Render());

    public static string Fixture(string file) => System.IO.File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "network", file));

    public NetworkFakeTransport Answer(string argv, string stdout, int exit = 0, string stderr = "")
    {
        _answers.Add((c => Argv(c) == argv, Result(exit, stdout, stderr)));
        return this;
    }

    public NetworkFakeTransport AnswerWhen(Func<Command, bool> match, string stdout, int exit = 0, string stderr = "")
    {
        _answers.Add((match, Result(exit, stdout, stderr)));
        return this;
    }

    public Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        Ran.Add(command);
        foreach (var (match, result) in _answers)
        {
            if (match(command))
            {
                return Task.FromResult(result);
            }
        }

        if (!command.ReadOnly)
        {
            return Task.FromResult(Result(0, "", ""));
        }

        throw new AssertionException($"{Name}: no recorded answer for `{Argv(command)}`");
    }

    public static string Argv(Command command) => string.Join(' ', [command.Program, .. command.Arguments.Select(a => a.ToString())]);

    public HostContext Context(Inventory? inventory = null)
    {
        inventory ??= new Inventory();
        if (!inventory.Contains(Name))
        {
            inventory.Add(Name, this);
        }

        return inventory.Context(Name);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CommandResult Result(int exit, string stdout, string stderr) => new(exit, stdout, stderr, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
}
