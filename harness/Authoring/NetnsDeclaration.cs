using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// Simulated hosts as network namespaces, each with its own mount namespace, joined by veth links. Seconds, no VM.
    /// </summary>
    /// <example><c>Netns().Host("server").Host("client").Link("server", "client");</c></example>
    public NetnsDeclaration Netns() => Declare(new NetnsDeclaration());
}

/// <summary>The network namespaces a scenario needs, refined fluently.</summary>
public sealed class NetnsDeclaration : BackendDeclaration
{
    internal NetnsDeclaration()
    {
    }

    public override string Name => "netns";

    public override IReadOnlyList<string> HostNames => ["server", "client"];

    internal override IBackend CreateBackend() => new NetnsBackend();
}
