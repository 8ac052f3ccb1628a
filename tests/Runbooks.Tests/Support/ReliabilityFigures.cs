namespace Runbooks.Tests.Support;

/// <summary>
/// The figures a reliability test establishes: faults injected and survived, bad inputs rejected, data lost.
/// Printed with the test; appended as one tab-separated row to the file named by
/// <c>RUNBOOK_RELIABILITY_FIGURES</c> when set, from which <c>bench/reliability.sh</c> prints its table.
/// </summary>
internal static class ReliabilityFigures
{
    private static readonly Lock Gate = new();

    public static void Record(string fault, int injected, int survived, int rejected, int lost)
    {
        var row = $"{fault}\t{injected}\t{survived}\t{rejected}\t{lost}";
        TestContext.Out.WriteLine($"figures: {row.Replace('\t', ' ')}");
        if (Environment.GetEnvironmentVariable("RUNBOOK_RELIABILITY_FIGURES") is { Length: > 0 } path)
        {
            lock (Gate)
            {
                System.IO.File.AppendAllText(path, row + "\n");
            }
        }
    }
}
