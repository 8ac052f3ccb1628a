namespace Runbooks.Engine;

/// <summary>
/// A named unit of a runbook: dependencies first, then the author's <c>Requires</c> checks, then each step
/// in order, then the <c>Ensures</c> checks. Built fluently by the script; read-only to the engine.
/// </summary>
public sealed class Target
{
    private readonly List<string> _dependencies;
    private readonly List<Step> _steps;
    private readonly List<Check> _requires = [];
    private readonly List<Check> _ensures = [];

    public Target(string name, string description, IEnumerable<string> dependencies, IEnumerable<Step> steps)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Description = description;
        _dependencies = [.. dependencies];
        _steps = [.. steps];
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>Where the script defined it, <c>file(line,col)</c>, for messages about the graph; null when built in C#.</summary>
    public string? DefinedAt { get; internal set; }

    /// <summary>The inventory host the target runs on.</summary>
    public string Host { get; private set; } = Inventory.DefaultHost;

    public IReadOnlyList<string> Dependencies => _dependencies;

    public IReadOnlyList<Step> Steps => _steps;

    public IReadOnlyList<Check> Requirements => _requires;

    public IReadOnlyList<Check> Guarantees => _ensures;

    /// <summary>Every fact its requires, steps and ensures declare (<see cref="Step.Reads"/>), in the order they are read.</summary>
    internal IEnumerable<IFact> DeclaredReads => [.. _requires.SelectMany(c => c.Reads), .. Steps.SelectMany(s => s.Reads), .. _ensures.SelectMany(c => c.Reads)];

    /// <summary>Binds the target to an inventory host.</summary>
    /// <example><c>Target("peer", …).On("client")</c></example>
    public Target On(string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        Host = host;
        return this;
    }

    /// <summary>A condition that must hold before any step of the target runs.</summary>
    public Target Requires(string description, Func<bool> check) => Requires(Check.From(description, check));

    public Target Requires(string description, Func<HostContext, Task<bool>> check) => Requires(Check.From(description, check));

    public Target Requires(Check check)
    {
        _requires.Add(check);
        return this;
    }

    /// <summary>A condition that must hold after the target's steps ran; checked again on every run.</summary>
    public Target Ensures(string description, Func<bool> check) => Ensures(Check.From(description, check));

    public Target Ensures(string description, Func<HostContext, Task<bool>> check) => Ensures(Check.From(description, check));

    public Target Ensures(Check check)
    {
        _ensures.Add(check);
        return this;
    }

    /// <summary>Adds steps after construction (for targets assembled in loops).</summary>
    public Target Then(params Step[] steps)
    {
        _steps.AddRange(steps);
        return this;
    }

    public override string ToString() => Name;
}
