using System.Diagnostics;

namespace Runbooks.Tests.Support;

/// <summary>A real program run to its end with a timeout: its exit code and what it printed (stdout then stderr).</summary>
internal static class ChildProcess
{
    public static (int Exit, string Output) Run(string program, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, output.Result + error.Result);
    }
}
