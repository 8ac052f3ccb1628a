using System.Text.RegularExpressions;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// Services under a supervisor — systemd, runit or an LSB init script, found on the host — and restarting a set
/// of them in dependency order.
/// </summary>
public static partial class Service
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")]
    private static partial Regex NamePattern();

    /// <summary>A service by the name its supervisor knows (unit without <c>.service</c>, runit directory, init script).</summary>
    /// <example><c>Service.Named("db").HealthyWhen(Probe.Tcp("127.0.0.1", 27017, TcpOutcome.Connected))</c></example>
    public static ServiceDefinition Named(string name) => new(ValidateName(name, nameof(name)));

    /// <summary>
    /// Stops the services in reverse dependency order and starts them in order, each start gated on the one before
    /// being healthy — only from the first that is down, unhealthy, or older than a dependency. Unknown dependencies
    /// and cycles are reported here, before any host is touched; a service missing on the host blocks the step before
    /// anything is stopped.
    /// </summary>
    /// <example><c>Service.OrderedRestart(db, amqp, web.After("db"), master.After("amqp", "web"), slave.After("master"))</c></example>
    public static OrderedRestartStep OrderedRestart(params ServiceDefinition[] services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Length == 0)
        {
            throw new ArgumentException("name at least one service", nameof(services));
        }

        return new OrderedRestartStep(StartOrder(services));
    }

    /// <summary>Dependencies first, otherwise the declared order; every problem at once, cycles named <c>a -> b -> a</c>.</summary>
    internal static IReadOnlyList<ServiceDefinition> StartOrder(IReadOnlyList<ServiceDefinition> services)
    {
        var problems = new List<string>();
        var byName = new Dictionary<string, ServiceDefinition>(StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (!byName.TryAdd(service.Name, service))
            {
                problems.Add($"service '{service.Name}' is declared twice");
            }
        }

        foreach (var service in services)
        {
            problems.AddRange(service.Dependencies.Where(d => !byName.ContainsKey(d))
                .Select(d => $"service '{service.Name}' comes after '{d}', which is not in the set ({string.Join(", ", byName.Keys)})"));
        }

        var sort = DependencyOrder.Sort(byName.Keys, n => byName[n].Dependencies.Where(byName.ContainsKey), StringComparer.Ordinal);
        problems.AddRange(sort.Cycles.Select(c => $"the service order has a cycle: {DependencyOrder.Chain(c)}"));
        return problems.Count > 0 ? throw new InvalidRunbookException(problems) : [.. sort.Order.Select(n => byName[n])];
    }

    internal static string ValidateName(string name, string parameter)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"service name '{name}' is not valid: letters, digits, '_', '.', '@', '-', not starting with '-' or '.'", parameter);
        }

        return name;
    }
}
