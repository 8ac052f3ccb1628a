using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// One host, <c>local</c>, whose daemons are supervised by runit (<c>runsvdir</c> over <c>/etc/service</c>) inside a
    /// network and mount namespace. Services are defined with the <c>Service</c> noun.
    /// </summary>
    /// <example><c>Services();</c></example>
    public ServicesDeclaration Services() => Declare(new ServicesDeclaration());
}

/// <summary>The supervised-services host a scenario needs.</summary>
public sealed class ServicesDeclaration : BackendDeclaration
{
    internal ServicesDeclaration()
    {
    }

    public override string Name => "services";

    public override IReadOnlyList<string> HostNames => [RunitBackend.HostName];

    internal override IBackend CreateBackend() => new RunitBackend();
}
