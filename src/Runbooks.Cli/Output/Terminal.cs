namespace Runbooks.Cli.Output;

internal static class Terminal
{
    /// <summary>Live progress and colour only on a real terminal, and never with NO_COLOR or --no-color (CI logs stay plain).</summary>
    public static bool IsInteractive(bool noColorOption) =>
        !noColorOption
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && !Console.IsOutputRedirected
        && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
}
