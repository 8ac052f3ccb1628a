using System.Diagnostics;
using Runbooks.Compiler;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness;
using Runbooks.Scripting;

namespace Runbooks.Tests.Harness.Netns;

[Category("harness")]
[NonParallelizable]
public sealed class ConnectionLifecycleTests
{
    private const string ServerSixPn = "fdaa:3:a396:a7b:88dc:68d5:bd36:2";

    /// <summary>The shipped scenario file, as `runbook harness run connection` loads it.</summary>
    private static readonly Lazy<Task<ScenarioDefinition>> Scenario = new(() => HarnessCatalog.LoadAsync("connection", 0.1));

    /// <summary>The real runbook, compiled once: the lifecycle converges with the script itself.</summary>
    private static readonly Lazy<Task<TargetGraph>> RunbookGraph = new(() => GraphOf(FindRunbook()));

    private static async Task<TargetGraph> GraphOf(string runbook)
    {
        var loaded = LoadedRunbook.Load(runbook, s => RunbookCompiler.Compile(s), cache: null);
        TargetGraph? graph = null;
        await loaded.ExecuteAsync([], (g, _) =>
        {
            graph = g;
            return Task.CompletedTask;
        });
        return graph ?? throw new AssertionException($"{runbook} did not call RunAsync");
    }

    private static async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken) =>
        await (await Scenario.Value).CreateBackend().CreateAsync(options, cancellationToken);

    private static async Task BreakAsync(IHarnessEnvironment environment, HarnessOptions options, CancellationToken cancellationToken)
    {
        var (ok, detail) = await HarnessRunner.BreakAsync(await Scenario.Value, environment, Path.Combine(options.WorkDirectory, "break.jsonl"), cancellationToken);
        Assert.That(ok, Is.True, detail);
    }

    [OneTimeSetUp]
    public void RequirePrerequisites()
    {
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            Assert.Ignore("NETNS HARNESS SKIPPED: creating network namespaces needs root");
        }

        foreach (var tool in new[] { "ip", "nsenter", "unshare", "wg", "wireguard-go", "iptables", "ip6tables", "python3", "curl", "ping", "ss" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => System.IO.File.Exists(Path.Combine(d, tool))))
            {
                Assert.Ignore($"NETNS HARNESS SKIPPED: '{tool}' is not installed (apt-get install iproute2 util-linux wireguard-tools wireguard-go iptables python3 curl iputils-ping)");
            }
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Broken_hosts_fail_the_specs_and_the_runbook_repairs_them_idempotently_without_leaks(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = await RunLifecycleAsync(cancellationToken);
        TestContext.Out.WriteLine($"lifecycle {clock.Elapsed.TotalSeconds:0.00} s: {string.Join(", ", result.Phases.Select(p => $"{p.Key} {p.Value.TotalSeconds:0.00} s"))}");

        Assert.Multiple(() =>
        {
            Assert.That(result.BrokenSpecsThatPassed, Is.Empty, "every spec must fail on the broken hosts");
            Assert.That(result.FirstRun.Succeeded, Is.True, () => Describe(result.FirstRun));
            Assert.That(result.FailingSpecsAfter, Is.Empty, "every spec must pass after the runbook");
            Assert.That(result.SecondRun.Targets.SelectMany(t => t.Steps).Where(s => s.Outcome != StepOutcome.Satisfied).Select(s => $"{s.Description}: {s.Outcome} ({s.Observed})"),
                Is.Empty, "the second run must find every step satisfied");
            Assert.That(result.Leaks, Is.Empty, "destroy must leave nothing behind");
        });
    }

    [Test]
    [CancelAfter(240_000)]
    [Explicit("benchmark: three full lifecycles, prints the median")]
    public async Task Lifecycle_median_of_three(CancellationToken cancellationToken)
    {
        var times = new List<double>();
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var result = await RunLifecycleAsync(cancellationToken);
            times.Add(clock.Elapsed.TotalSeconds);
            Assert.That(result.FailingSpecsAfter, Is.Empty);
            TestContext.Out.WriteLine($"run {i + 1}: {clock.Elapsed.TotalSeconds:0.00} s ({string.Join(", ", result.Phases.Select(p => $"{p.Key} {p.Value.TotalSeconds:0.00}"))})");
        }

        times.Sort();
        TestContext.Out.WriteLine($"median {times[1]:0.00} s");
        Assert.That(times[1], Is.LessThan(15), "the whole lifecycle should stay under 15 s");
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task An_endpoint_that_never_answers_fails_the_handshake_step_naming_host_peer_endpoint_and_the_redacted_dump(CancellationToken cancellationToken)
    {
        var options = Options();
        var environment = await CreateAsync(options, cancellationToken);
        try
        {
            await BreakAsync(environment, options, cancellationToken);
            // The shipped runbook with the server's endpoint moved to an address nobody has.
            var wrong = Path.Combine(options.WorkDirectory, "wrong-endpoint.csx");
            System.IO.File.WriteAllText(wrong, System.IO.File.ReadAllText(FindRunbook()).Replace($"\"{ServerSixPn}\"", "\"fdaa:3:a396:a7b::99\"", StringComparison.Ordinal));
            var summary = await new Runner(await GraphOf(wrong), environment.Inventory, new RunObserver())
                .RunAsync(new RunRequest(RunMode.Run, ["client"]), cancellationToken);
            var client = summary.Targets.Single(t => t.Name == "client");
            Assert.That(client.Status, Is.EqualTo(TargetStatus.Failed));
            Assert.That(client.Error, Does.Contain("on host client: no WireGuard handshake on wg0")
                .And.Contain("[fdaa:3:a396:a7b::99]:51820")
                .And.Contain("wg show wg0 (private key hidden)")
                .And.Contain("private key ***"));
            TestContext.Out.WriteLine(client.Error);
        }
        finally
        {
            var leaks = await environment.DestroyAsync(CancellationToken.None);
            Assert.That(leaks, Is.Empty);
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Attach_from_a_later_process_finds_the_hosts_and_destroy_removes_them(CancellationToken cancellationToken)
    {
        var options = Options();
        var created = await CreateAsync(options, cancellationToken);
        IReadOnlyList<string> leaks;
        try
        {
            var attached = await (await Scenario.Value).CreateBackend().AttachAsync(options, cancellationToken);
            var result = await attached.Inventory.Context("server").Transport.RunAsync(new Runbooks.Commands.Command("ip", ["-j", "addr", "show", "dev", "eth0"]), cancellationToken);
            Assert.That(result.StandardOutput, Does.Contain(ServerSixPn));
            leaks = await attached.DestroyAsync(cancellationToken);
        }
        catch
        {
            await created.DestroyAsync(CancellationToken.None);
            throw;
        }

        Assert.That(leaks, Is.Empty);
        Assert.That(System.IO.File.Exists(Path.Combine(options.WorkDirectory, "netns-state.json")), Is.False);
    }

    private static readonly HarnessOptions Manual = new("manual01", Path.Combine(Path.GetTempPath(), "runbooks-netns-manual"));

    [Test]
    [CancelAfter(60_000)]
    [Explicit("leaves broken hosts up for `runbook plan|run --host server=netns:rbanual01-server --host client=netns:rbanual01-client`; take them down with Manual_down")]
    public async Task Manual_up(CancellationToken cancellationToken)
    {
        var environment = await CreateAsync(Manual, cancellationToken);
        await BreakAsync(environment, Manual, cancellationToken);
        TestContext.Out.WriteLine(environment.HowToReach);
        Assert.That(environment.HowToReach, Does.Contain("--host server=netns:"));
    }

    [Test]
    [CancelAfter(60_000)]
    [Explicit("checks the specs on the hosts left by Manual_up, then destroys them")]
    public async Task Manual_down(CancellationToken cancellationToken)
    {
        var environment = await (await Scenario.Value).CreateBackend().AttachAsync(Manual, cancellationToken);
        try
        {
            var results = await EvaluateAsync(environment.Inventory, (await Scenario.Value).Specs, cancellationToken);
            Assert.That(results.Where(r => !r.Holds).Select(r => r.Name), Is.Empty);
        }
        finally
        {
            Assert.That(await environment.DestroyAsync(CancellationToken.None), Is.Empty);
        }
    }

    internal sealed record LifecycleResult(
        List<string> BrokenSpecsThatPassed,
        RunSummary FirstRun,
        List<string> FailingSpecsAfter,
        RunSummary SecondRun,
        IReadOnlyList<string> Leaks,
        Dictionary<string, TimeSpan> Phases);

    private static HarnessOptions Options()
    {
        var runId = Guid.NewGuid().ToString("N")[..8];
        return new HarnessOptions(runId, Path.Combine(Path.GetTempPath(), "runbooks-netns-tests", runId));
    }

    [TearDown]
    public void RemoveWorkDirectories()
    {
        var root = Path.Combine(Path.GetTempPath(), "runbooks-netns-tests");
        foreach (var dir in Directory.Exists(root) ? Directory.GetDirectories(root) : [])
        {
            if (!System.IO.File.Exists(Path.Combine(dir, "netns-state.json")))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task<LifecycleResult> RunLifecycleAsync(CancellationToken cancellationToken)
    {
        var phases = new Dictionary<string, TimeSpan>();
        var clock = Stopwatch.StartNew();
        void Mark(string phase)
        {
            phases[phase] = clock.Elapsed;
            clock.Restart();
        }

        var graph = await RunbookGraph.Value;
        clock.Restart();
        var options = Options();
        var environment = await CreateAsync(options, cancellationToken);
        Mark("create");
        IReadOnlyList<string> leaks = [];
        try
        {
            await BreakAsync(environment, options, cancellationToken);
            Mark("break");
            var specs = (await Scenario.Value).Specs;
            var broken = await EvaluateAsync(environment.Inventory, specs, cancellationToken);
            Mark("verify-broken");
            var first = await new Runner(graph, environment.Inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), cancellationToken);
            Mark("converge");
            var after = await EvaluateAsync(environment.Inventory, specs, cancellationToken);
            Mark("verify");
            var second = await new Runner(graph, environment.Inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), cancellationToken);
            Mark("idempotence");
            return new LifecycleResult(
                [.. broken.Where(r => r.Holds).Select(r => $"{r.Name}: {r.Observed}")],
                first,
                [.. after.Where(r => !r.Holds).Select(r => $"{r.Name}: {r.Observed}")],
                second,
                leaks,
                phases);
        }
        finally
        {
            leaks = await environment.DestroyAsync(CancellationToken.None);
            Mark("destroy");
            Assert.That(leaks, Is.Empty, "destroy must leave nothing behind");
        }
    }

    private static async Task<List<(string Name, bool Holds, string Observed)>> EvaluateAsync(Inventory inventory, IReadOnlyList<Spec> specs, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(specs.Select(async spec =>
        {
            var result = await spec.Check.EvaluateAsync(inventory.Context(spec.Host), cancellationToken);
            TestContext.Out.WriteLine($"  {(result.Holds ? "pass" : "FAIL")} {spec.Name}: {result.Observed.Replace("\n", " | ", StringComparison.Ordinal)}");
            return (spec.Name, result.Holds, result.Observed);
        }));
        return [.. results];
    }

    private static string FindRunbook()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "runbooks", "connection", "wireguard-link.csx");
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new AssertionException("runbooks/connection/wireguard-link.csx not found above the test directory");
    }

    private static string Describe(RunSummary summary) =>
        string.Join("\n", summary.Targets.Select(t => $"{t.Name} on {t.Host}: {t.Status} {t.Error}"));
}
