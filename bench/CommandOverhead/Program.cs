using System.Diagnostics;
using System.Globalization;
using Renci.SshNet;
using Runbooks.Commands;
using Runbooks.Transport;

// CommandOverhead ADDRESS COUNT: connects once (the connection is not timed: one warm-up command opens it),
// then runs `true` COUNT times in sequence and prints the seconds those took. ADDRESS is `local`, `ssh://…`.
// CommandOverhead ssh://… COUNT watchdog: over a bare SSH.NET client with the connection's orphan watchdog started, one
// channel per command as SshTransport opens them, COUNT rounds of three commands in turn: SshTransport's remote text
// (the command marked for the connection watchdog), the per-command watchdog it replaced (a wrapper shell and a
// polling subshell per command, as it stood at 82ee0fc) and the bare command. Taking them in turn gives all three the
// same machine load, which on a shared machine moves more between runs than the watchdog costs. Prints the three
// totals in seconds: connection-watchdog per-command bare.
// CommandOverhead ssh://… COUNT watchdog connection|per-command|bare: only that one of the three, COUNT times, on a
// connection of its own that it closes at the end, so that the sshd's reaped children hold what it cost on the host.
if (args.Length is < 2 or > 4 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var count) || count < 1 ||
    (args.Length >= 3 && args[2] != "watchdog") || (args.Length == 4 && args[3] is not ("connection" or "per-command" or "bare")))
{
    Console.Error.WriteLine("usage: CommandOverhead local|ssh://user@host:port COUNT [watchdog [connection|per-command|bare]]");
    return 2;
}

var command = new Command("true", []);
if (args.Length >= 3)
{
    var endpoint = SshEndpoint.Parse(args[0]);
    var key = Environment.GetEnvironmentVariable("RUNBOOK_SSH_KEY") ?? throw new InvalidOperationException("RUNBOOK_SSH_KEY names the client key");
    // The bench's own throwaway sshd on loopback: its host key is not what this measures.
    using var client = new SshClient(endpoint.Host, endpoint.Port, endpoint.User, new PrivateKeyFile(key));
    client.Connect();
    using var watchdog = client.CreateCommand(SshTransport.WatchdogCommandText("bench"));
    _ = watchdog.BeginExecute();
    string[] texts =
    [
        SshTransport.RemoteCommandText(command, "bench.1"),
        "exec sh -c " + ShellQuote.Quote(PerCommandWatchdog) + " runbooks-command " + ShellQuote.Quote(command.Program),
        "exec " + ShellQuote.Quote(command.Program),
    ];
    if (args.Length == 4)
    {
        texts = [texts[Array.IndexOf(["connection", "per-command", "bare"], args[3])]];
    }

    var totals = new TimeSpan[texts.Length];
    foreach (var text in texts)
    {
        client.RunCommand(text).Dispose();
    }

    for (var i = 0; i < count; i++)
    {
        for (var t = 0; t < texts.Length; t++)
        {
            var timer = Stopwatch.StartNew();
            using var ssh = client.RunCommand(texts[t]);
            totals[t] += timer.Elapsed;
            if (ssh.ExitStatus != 0)
            {
                Console.Error.WriteLine($"`{texts[t]}` exited {ssh.ExitStatus}: {ssh.Error}");
                return 1;
            }
        }
    }

    Console.WriteLine(string.Join(' ', totals.Select(t => t.TotalSeconds.ToString("0.0000", CultureInfo.InvariantCulture))));
    client.Disconnect();
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
