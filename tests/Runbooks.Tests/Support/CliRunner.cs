namespace Runbooks.Tests.Support;

/// <summary>Runs the CLI in-process with its console captured and a private compile cache.</summary>
internal static class CliRunner
{
    private static readonly Lock Gate = new();

    public static (int Exit, string Out, string Error) Run(params string[] args)
    {
        lock (Gate)
        {
            var (outWriter, errorWriter) = (new StringWriter(), new StringWriter());
            var (oldOut, oldError) = (Console.Out, Console.Error);
            Environment.SetEnvironmentVariable("RUNBOOK_CACHE_DIR", Path.Combine(Path.GetTempPath(), "runbooks-test-cache"));
            Environment.SetEnvironmentVariable("NO_COLOR", "1");
            Console.SetOut(outWriter);
            Console.SetError(errorWriter);
            try
            {
                var exit = Runbooks.Cli.CommandLine.RunAsync(args).GetAwaiter().GetResult();
                return (exit, outWriter.ToString(), errorWriter.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
    }

    public static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "scripts", name);
}
