using System.Reflection;

namespace Runbooks.Cli;

internal static class ToolVersion
{
    public static readonly string Value =
        typeof(ToolVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
