using System.Diagnostics;
using System.Globalization;
using Renci.SshNet;
using Runbooks.Commands;
using Runbooks.Transport;

// CommandOverhead ADDRESS COUNT: connects once (the connection is not timed: one warm-up command opens it),
// then runs `true` COUNT times in sequence and prints the seconds those took. ADDRESS is `local`, `ssh://…`.
// CommandOverhead ssh://… COUNT watched|bare: the same over a bare SSH.NET client, one channel per command as
// SshTransport opens them: watched starts the connection's orphan watchdog and sends SshTransport's own remote
// text (the command marked for it), bare sends the command alone. The two differ only by what the watchdog costs.
// per-command sends the watchdog this one replaced (one per command, a wrapper shell and a polling subshell each;
// as it stood at 82ee0fc), for the before/after in the same run.
if (args.Length is < 2 or > 3 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var count) || count < 1 ||
    (args.Length == 3 && args[2] is not ("watched" or "bare" or "per-command")))
{
    Console.Error.WriteLine("usage: CommandOverhead local|ssh://user@host:port COUNT [watched|bare|per-command]");
    return 2;
}

var command = new Command("true", []);
if (args.Length == 3)
{
    var endpoint = SshEndpoint.Parse(args[0]);
    var key = Environment.GetEnvironmentVariable("RUNBOOK_SSH_KEY") ?? throw new InvalidOperationException("RUNBOOK_SSH_KEY names the client key");
    // The bench's own throwaway sshd on loopback: its host key is not what this pair measures.
    using var client = new SshClient(endpoint.Host, endpoint.Port, endpoint.User, new PrivateKeyFile(key));
    client.Connect();
    var watched = args[2] == "watched";
    using var watchdog = client.CreateCommand(SshTransport.WatchdogCommandText("bench"));
    if (watched)
    {
        _ = watchdog.BeginExecute();
    }

    var text = args[2] switch
    {
        "watched" => SshTransport.RemoteCommandText(command, "bench.1"),
        "per-command" => "exec sh -c " + ShellQuote.Quote(PerCommandWatchdog) + " runbooks-command " + ShellQuote.Quote(command.Program),
        _ => "exec " + ShellQuote.Quote(command.Program),
    };
    client.RunCommand(text);
    var timer = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        using var ssh = client.RunCommand(text);
        if (ssh.ExitStatus != 0)
        {
            Console.Error.WriteLine($"`{text}` exited {ssh.ExitStatus}: {ssh.Error}");
            return 1;
        }
    }

    Console.WriteLine(timer.Elapsed.TotalSeconds.ToString("0.0000", CultureInfo.InvariantCulture));
    return 0;
}

await using var transport = TransportUri.Create(args[0]);
await transport.RunAsync(command, CancellationToken.None);
var clock = Stopwatch.StartNew();
for (var i = 0; i < count; i++)
{
    var result = await transport.RunAsync(command, CancellationToken.None);
    if (result.ExitCode != 0)
    {
        Console.Error.WriteLine($"`true` exited {result.ExitCode} on {transport.Name}: {result.StandardError}");
        return 1;
    }
}

Console.WriteLine(clock.Elapsed.TotalSeconds.ToString("0.0000", CultureInfo.InvariantCulture));
return 0;

internal partial class Program
{
    private const string PerCommandWatchdog =
        "sshd=$PPID wrapper=$$; exec 3<&0; setsid \"$@\" <&3 3<&- & child=$!; exec 3<&-\n" +
        "( while read -r _ _ _ parent _ < /proc/$wrapper/stat && [ \"$parent\" = \"$sshd\" ] && [ -e /proc/$child ]; do sleep 1; done\n" +
        "  [ -e /proc/$child ] && kill -TERM -$child 2>/dev/null && sleep 2 && [ -e /proc/$child ] && kill -KILL -$child 2>/dev/null ) </dev/null >/dev/null 2>&1 &\n" +
        "watchdog=$!; wait $child; rc=$?; kill $watchdog 2>/dev/null; exit $rc";
}
