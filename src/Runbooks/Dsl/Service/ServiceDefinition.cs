using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A service by name, as a runbook declares it: what it waits for, how to tell it is healthy, how long a polite
/// stop may take. Immutable: every <c>With…</c>-style call returns a new value. Its supervisor is found on the host.
/// </summary>
public sealed record ServiceDefinition
{
    internal ServiceDefinition(string name) => Name = name;

    public string Name { get; }

    /// <summary>Services that must be healthy before this one starts.</summary>
    public IReadOnlyList<string> Dependencies { get; private init; } = [];

    /// <summary>What "healthy" means; null means "its supervisor says it runs".</summary>
    public Check? Health { get; private init; }

    /// <summary>How long after SIGTERM (the supervisor's polite stop) before SIGKILL.</summary>
    public TimeSpan StopGrace { get; private init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after starting it may take to become healthy.</summary>
    public TimeSpan StartDeadline { get; private init; } = TimeSpan.FromSeconds(30);

    /// <summary>A log file to quote when it does not come back; by default the supervisor's own log.</summary>
    public string? LogFile { get; private init; }

    /// <summary>Declares services that must be healthy before this one starts (and stop after it).</summary>
    /// <example><c>Service.Named("web").After("db")</c></example>
    public ServiceDefinition After(params string[] services)
    {
        foreach (var service in services)
        {
            Service.ValidateName(service, nameof(services));
            if (service == Name)
            {
                throw new ArgumentException($"service '{Name}' cannot come after itself", nameof(services));
            }
        }

        return this with { Dependencies = [.. Dependencies.Concat(services).Distinct(StringComparer.Ordinal)] };
    }

    /// <summary>The check that says the service is serving, not just running.</summary>
    /// <example><c>Service.Named("db").HealthyWhen(Probe.Tcp("127.0.0.1", 27017, TcpOutcome.Connected))</c></example>
    public ServiceDefinition HealthyWhen(Check health)
    {
        ArgumentNullException.ThrowIfNull(health);
        return this with { Health = health };
    }

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    /// <example><c>Service.Named("master").GraceBeforeKill(TimeSpan.FromSeconds(3))</c></example>
    public ServiceDefinition GraceBeforeKill(TimeSpan grace) => this with { StopGrace = DslArguments.PositiveTime(grace, nameof(grace)) };

    /// <summary>How long a start waits for the service to be healthy before it fails.</summary>
    /// <example><c>Service.Named("web").HealthyWithin(TimeSpan.FromSeconds(20))</c></example>
    public ServiceDefinition HealthyWithin(TimeSpan deadline) => this with { StartDeadline = DslArguments.PositiveTime(deadline, nameof(deadline)) };

    /// <summary>The file to quote (its last lines) when the service does not come back.</summary>
    /// <example><c>Service.Named("slave").LogsTo("/var/log/talus/slave.log")</c></example>
    public ServiceDefinition LogsTo(string path) => this with { LogFile = DslArguments.AbsolutePath(path) };

    /// <summary>The service runs and is healthy; started (or, when running but unhealthy, restarted) if not.</summary>
    /// <example><c>Service.Named("db").Running()</c></example>
    public Step Running() => new ServiceRunningStep(this);

    /// <summary>The service is stopped: SIGTERM through its supervisor, then SIGKILL after the grace period.</summary>
    /// <example><c>Service.Named("master").GraceBeforeKill(TimeSpan.FromSeconds(5)).Stopped()</c></example>
    public Step Stopped() => new ServiceStoppedStep(this);

    /// <summary>
    /// Stops (with the grace and escalation of <see cref="Stopped"/>) and starts the service, then waits for it to be
    /// healthy. A restart always restarts: use it in a target chosen by name, not in a converging runbook.
    /// </summary>
    /// <example><c>Target("bounce-amqp", Service.Named("amqp").Restart())</c></example>
    public Step Restart() => new ServiceRestartStep(this);

    /// <summary>
    /// Restarts the service (as <see cref="Restart"/> does) only when one of <paramref name="targets"/> changed
    /// something earlier in this run — its config was rewritten — and otherwise leaves a running service alone, however
    /// its health looks: a healthy process is never restarted because something else (a firewall) was the problem.
    /// The plan shows the restart under "if target … changed something in this run"; each target must be this step's
    /// own or one its target depends on.
    /// </summary>
    /// <example><c>Target("app", DependsOn("app-config"), app.RestartedWhenChanged("app-config"))</c></example>
    public Step RestartedWhenChanged(params string[] targets)
    {
        if (targets is null || targets.Length == 0 || targets.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"name the targets whose changes restart {Name}, e.g. RestartedWhenChanged(\"{Name}-config\")", nameof(targets));
        }

        return new ServiceRestartOnChangeStep(this, [.. targets.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>A check: the service runs and its health check holds.</summary>
    /// <example><c>.Ensures(Service.Named("db").Healthy())</c></example>
    public Check Healthy() => new($"service {Name} runs and is healthy", async (host, ct) =>
    {
        var state = await ServiceControl.ObserveAsync(host, this, ct).ConfigureAwait(false);
        return new CheckResult(state.Ok, state.Describe());
    });

    public override string ToString() => Name;
}
