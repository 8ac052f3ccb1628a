using Runbooks.Dsl;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

/// <summary>
/// Step tests as data (Fixtures/steps/*.json): given these recorded facts and this DSL call, expect this decision
/// and exactly these actions, as the plan renders them. A case file is a list of
/// <c>{ name, step, facts, decision, actions, unmet?, diff?, undo?, notRead? }</c> (<c>undo</c>: per action, what undo
/// would do, <c>cannot: why</c>, or <c>nothing</c>; <c>notRead</c>: the step's declared reads this case's path skips); <c>step</c> is a DSL call such as
/// <c>Lvm.Pv("/dev/loop1").Evacuate()</c>; a fact's key is an argv (or PVS, VGS, LVS, ALL_LVS, PVMOVES for the
/// LVM reports; PG_STATUS, PG_STATUS_AT ADDRESS and PG_CONTROLDATA for cluster 15/main's status query, the same query
/// asked of ADDRESS:5432 and pg_controldata; HAPROXY_STATE BACKEND for <c>show servers state</c>) and its value the output, <c>@path</c> for a fixture file, or <c>{ stdout, exit, stderr }</c>.
/// </summary>
public partial class StepCaseTests
{
    public sealed record StepCase(string File, string Name, JsonObject Case)
    {
        public override string ToString() => $"{File}: {Name}";
    }

    private static readonly Dictionary<string, Runbooks.Commands.Command> Reports = new(StringComparer.Ordinal)
    {
        ["PVS"] = LvmReads.Pvs,
        ["VGS"] = LvmReads.Vgs,
        ["LVS"] = LvmReads.Lvs,
        ["ALL_LVS"] = LvmReads.AllLvs,
        ["PVMOVES"] = LvmReads.Pvmoves,
    };

    // Reads whose argv is long (a multi-line query, a shell script): named in the case files, built here by the noun.
    private static Runbooks.Commands.Command? Alias(string key) => key.Split(' ') switch
    {
        ["PG_STATUS"] => Postgres.Cluster("15/main").StatusQuery,
        ["PG_STATUS_AT", var address] => PostgresCluster.RemoteStatusQuery(address, 5432),
        ["PG_CONTROLDATA"] => Postgres.Cluster("15/main").ControlDataRead,
        ["HAPROXY_STATE", var backend] => Haproxy.Backend(backend).StateRead,
        _ => null,
    };

    public static IEnumerable<StepCase> Cases()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "steps");
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            foreach (var node in JsonNode.Parse(System.IO.File.ReadAllText(file))!.AsArray())
            {
                yield return new StepCase(Path.GetFileName(file), (string)node!["name"]!, node.AsObject());
            }
        }
    }

    private static FakeTransport Recorded(StepCase c)
    {
        var transport = new FakeTransport();
        foreach (var (key, value) in c.Case["facts"]!.AsObject())
        {
            var (stdout, exit, stderr) = Answer(value!);
            if ((Reports.TryGetValue(key, out var named) ? named : Alias(key)) is { } report)
            {
                transport.On(report, stdout, exit, stderr);
            }
            else
            {
                transport.On(key, stdout, exit, stderr);
            }
        }

        return transport;
    }

    // A declared read the probe does not make is read ahead for nothing, and one that differs from the probe's as the
    // fact cache tells commands apart (program, arguments, stdin, environment) is read twice. Each must be the very
    // command the probe asks for; a case whose path skips one (an absent file's content) names it in notRead, which must
    // be true too.
    [TestCaseSource(nameof(Cases))]
    public async Task Every_read_the_step_declares_is_one_its_probe_makes(StepCase c)
    {
        var transport = Recorded(c);
        var step = Build((string)c.Case["step"]!);

        await step.ProbeAsync(transport.Context(), CancellationToken.None);

        var unread = step.Reads.Select(f => f.Read).Where(read => !transport.Ran.Contains(read)).Select(FakeTransport.Key);
        Assert.That(unread, Is.EquivalentTo(c.Case["notRead"]?.AsArray().Select(r => (string)r!) ?? []), "declared reads the probe did not make");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Given_recorded_facts_the_step_plans_these_actions(StepCase c)
    {
        var transport = Recorded(c);
        var step = Build((string)c.Case["step"]!);
        var probe = await step.ProbeAsync(transport.Context(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Decision.ToString(), Is.EqualTo((string)c.Case["decision"]!), probe.Observed + " " + string.Join("; ", probe.Unmet));
            Assert.That(probe.Actions.Select(a => a.Summary), Is.EqualTo(c.Case["actions"]!.AsArray().Select(a => (string)a!)));
            Assert.That(transport.Changes, Is.Empty, "a probe must not change anything");
            if (c.Case["unmet"] is { } unmet)
            {
                Assert.That(string.Join("; ", probe.Unmet), Does.Contain((string)unmet!));
            }

            if (c.Case["undo"] is JsonArray undo)
            {
                var run = transport.RunContext("/var/lib/runbook/undo/case");
                Assert.That(probe.Actions.Select(a => a.ReversalOn(run)).Select(r => r.Impossible is { } why ? "cannot: " + why : r.LeavesNothing ? "nothing" : r.Description),
                    Is.EqualTo(undo.Select(u => (string)u!)));
            }

            if (c.Case["diff"] is JsonArray diff)
            {
                Assert.That(probe.Actions.SelectMany(a => a.Detail), Is.EqualTo(diff.Select(d => (string)d!)));
            }
        });
    }

    [Test]
    public void Every_case_file_has_cases() => Assert.That(Cases().Count(), Is.GreaterThanOrEqualTo(10));

    private static (string Stdout, int Exit, string Stderr) Answer(JsonNode value) => value switch
    {
        JsonValue v when ((string)v!).StartsWith('@') => (Fixture.Read(((string)v!)[1..]), 0, ""),
        JsonValue v => ((string)v!, 0, ""),
        JsonObject o => (o["stdout"] is { } s ? Text((string)s!) : "", (int?)o["exit"] ?? 0, o["stderr"] is { } e ? Text((string)e!) : ""),
        _ => throw new ArgumentException($"fact answer {value} is neither text nor {{ stdout, exit, stderr }}"),
    };

    private static string Text(string value) => value.StartsWith('@') ? Fixture.Read(value[1..]) : value;

    // A DSL call as a runbook writes it: Noun.Member(args).Member(args)…, with string, number, bool and enum (<c>IpFamily.V4</c>) arguments.
    private static Step Build(string expression)
    {
        var calls = Call().Matches(expression);
        Assert.That(string.Concat(calls.Select(m => m.Value)), Is.EqualTo(expression), $"'{expression}' is not Noun.Member(args)… with literal arguments");
        object? target = null;
        var type = typeof(Runbooks.Dsl.Lvm).Assembly.GetType("Runbooks.Dsl." + calls[0].Groups["noun"].Value)
                   ?? throw new ArgumentException($"no DSL noun {calls[0].Groups["noun"].Value}");
        foreach (Match call in calls)
        {
            var arguments = Arguments(call.Groups["args"].Value);
            var name = call.Groups["member"].Value;
            var method = type.GetMethods(BindingFlags.Public | (target is null ? BindingFlags.Static : BindingFlags.Instance))
                .Where(m => m.Name == name)
                .FirstOrDefault(m => Fits(m, arguments))
                ?? throw new ArgumentException($"{type.Name} has no {name} taking ({string.Join(", ", arguments)})");
            var parameters = method.GetParameters();
            var values = parameters.Select((p, i) => i < arguments.Count ? Convert(arguments[i], p.ParameterType) : p.DefaultValue).ToArray();
            target = method.Invoke(target, values);
            type = target!.GetType();
        }

        return (Step)target!;
    }

    private static bool Fits(MethodInfo method, IReadOnlyList<object> arguments)
    {
        var parameters = method.GetParameters();
        return arguments.Count <= parameters.Length && parameters.Skip(arguments.Count).All(p => p.HasDefaultValue) &&
               arguments.Select((a, i) => Convert(a, parameters[i].ParameterType) is not null).All(ok => ok);
    }

    private static object? Convert(object value, Type type) => (value, type) switch
    {
        (string s, _) when type == typeof(string) => s,
        (long n, _) when type == typeof(int) => (int)n,
        (long n, _) when type == typeof(long) => n,
        (bool b, _) when type == typeof(bool) => b,
        (EnumLiteral e, _) when type.IsEnum && type.Name == e.Type && Enum.IsDefined(type, e.Member) => Enum.Parse(type, e.Member),
        _ => null,
    };

    private sealed record EnumLiteral(string Type, string Member);

    private static List<object> Arguments(string text) =>
        [.. Argument().Matches(text).Select(m => m.Groups["s"].Success ? m.Groups["s"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal)
            : m.Groups["n"].Success ? long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)
            : m.Groups["e"].Success ? new EnumLiteral(m.Groups["e"].Value, m.Groups["m"].Value)
            : (object)(m.Groups["b"].Value == "true"))];

    [GeneratedRegex(@"(?:^(?<noun>[A-Z][A-Za-z]*))?\.(?<member>[A-Z][A-Za-z]*)\((?<args>(?:""(?:[^""\\]|\\.)*""|[^()""])*)\)")]
    private static partial Regex Call();

    [GeneratedRegex(@"""(?<s>(?:[^""\\]|\\.)*)""|(?<e>[A-Z][A-Za-z]*)\.(?<m>[A-Z][A-Za-z0-9]*)|(?<n>-?\d+)|(?<b>true|false)")]
    private static partial Regex Argument();
}
