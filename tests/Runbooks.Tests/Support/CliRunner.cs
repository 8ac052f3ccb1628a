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
            // Runs of this test process lock a private path, not the machine's /run/lock/runbook, which
            // another test process or a real run on the same machine may hold. Tests that want the real
            // path set the variable to "" themselves.
            if (Environment.GetEnvironmentVariable("RUNBOOK_LOCK") is null)
            {
                Environment.SetEnvironmentVariable("RUNBOOK_LOCK", TestLockPath);
            }
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

    /// <summary>Where CLI runs of this test process keep the host lock (see above).</summary>
    public static readonly string TestLockPath = Path.Combine(Path.GetTempPath(), $"runbooks-test-lock-{Environment.ProcessId}", "runbook");

    public static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "scripts", name);
}
