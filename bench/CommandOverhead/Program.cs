using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Transport;

// CommandOverhead ADDRESS COUNT: connects once (the connection is not timed: one warm-up command opens it),
// then runs `true` COUNT times in sequence and prints the seconds those took. ADDRESS is `local`, `ssh://…`.
if (args.Length != 2 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var count) || count < 1)
{
    Console.Error.WriteLine("usage: CommandOverhead local|ssh://user@host:port COUNT");
    return 2;
}

await using var transport = TransportUri.Create(args[0]);
var command = new Command("true", []);
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
