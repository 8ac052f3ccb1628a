using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// One host, <c>local</c>, whose daemons are supervised by runit (<c>runsvdir</c> over <c>/etc/service</c>) inside a
    /// network and mount namespace. Services are defined with the <c>Service</c> noun. <c>/etc/sv</c>,
    /// <c>/etc/service</c> and <c>/var/log</c> are private to it; add more with <see cref="ServicesDeclaration.Private"/>.
    /// </summary>
    /// <example><c>Services().Private("/etc/app");</c></example>
    public ServicesDeclaration Services() => Declare(new ServicesDeclaration());
}

/// <summary>The supervised-services host a scenario needs.</summary>
public sealed class ServicesDeclaration : BackendDeclaration
{
    private readonly List<string> _private = [];

    internal ServicesDeclaration()
    {
    }

    public override string Name => "services";

    public override IReadOnlyList<string> HostNames => [RunitBackend.HostName];

    /// <summary>The directories private to the host beyond <see cref="RunitBackend.AlwaysPrivate"/>, in the order declared.</summary>
    public IReadOnlyList<string> PrivatePaths => _private;

    /// <summary>
    /// Directories private to the host: each is an empty scratch directory bind-mounted over that path inside the
    /// host's mount namespace, so the break may write <c>/etc/app</c> without touching the machine's own. A path
    /// that does not exist on the machine gets an empty mountpoint there for the run, removed at destroy.
    /// </summary>
    /// <example><c>Services().Private("/etc/app", "/var/lib/app");</c></example>
    public ServicesDeclaration Private(params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var path in paths)
        {
            _private.Add(PrivatePath.Check(path, "Services().Private", _private, RunitBackend.AlwaysPrivate));
        }

        return this;
    }

    internal override IBackend CreateBackend() => new RunitBackend(_private);
}
