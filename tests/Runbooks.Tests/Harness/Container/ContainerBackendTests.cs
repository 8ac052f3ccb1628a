using Runbooks.Commands;
using Runbooks.Compiler;
using Runbooks.Harness.Backends.Container;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Container;

/// <summary>
/// The containers backend against the real engine (podman here): hosts reached as <c>container:NAME</c>, from the
/// CLI too, and the bad inputs that must stop a run before its break: an image that does not exist, a container that
/// exits at once, no engine at all.
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class ContainerBackendTests
{
    private string _dir = "";

    [OneTimeSetUp]
    public void RequireAnEngine()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("CONTAINER BACKEND NOT TESTED: the harness's containers need root (rootful podman, nsenter); CI runs as root");
        }

        if (!ContainerTransport.OnPath("podman") && !ContainerTransport.OnPath("docker"))
        {
            Assert.Ignore("CONTAINER BACKEND NOT TESTED: neither podman nor docker is installed (harness/prerequisites.sh installs podman and runc)");
        }
    }

    [SetUp]
    public void Create() => _dir = Directory.CreateTempSubdirectory("rb-containers-").FullName;

    [TearDown]
    public void Remove() => Directory.Delete(_dir, recursive: true);

    [Test, CancelAfter(900_000)]
    public async Task A_container_host_is_reached_as_container_NAME_with_its_network_parameters_its_own(CancellationToken cancellationToken)
    {
        var declaration = new ContainersDeclaration(null);
        declaration.Host("solo").SmallFilesystem("/var/log/app", 8);
        var environment = await declaration.CreateBackend().CreateAsync(new HarnessOptions($"ct{Environment.ProcessId}", Path.Combine(_dir, "work")), cancellationToken);
        try
        {
            var container = ((ContainerTransport)environment.Inventory.Context("solo").Transport).Container;
            Assert.That(environment.HowToReach, Does.Contain($"--host solo=container:{container}"));
            await using var transport = TransportUri.Create($"container:{container}");

            var echoed = await transport.RunAsync(new Command("cat", []).WithStdin("through stdin"), cancellationToken);
            var exit = await transport.RunAsync(Shell.Script("echo out; echo err >&2; exit 3"), cancellationToken);
            var small = await transport.RunCheckedAsync(new Command("df", ["-B1", "--output=size", "/var/log/app"]), cancellationToken);
            var somaxconn = await transport.RunAsync(new Command("sysctl", ["-w", "net.core.somaxconn=517"]), cancellationToken);
            var kernel = await transport.RunAsync(new Command("sysctl", ["-w", "kernel.domainname=rb-should-not-land"]), cancellationToken);
            var machineSomaxconn = File.ReadAllText("/proc/sys/net/core/somaxconn").Trim();

            Assert.That(echoed.StandardOutput, Is.EqualTo("through stdin"));
            Assert.That((exit.ExitCode, exit.StandardOutput, exit.StandardError), Is.EqualTo((3, "out\n", "err\n")));
            Assert.That(small.StandardOutput, Does.Contain((8L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)), "the small filesystem is 8 MiB");
            Assert.That(somaxconn.ExitCode, Is.EqualTo(0), "the container's own network parameters are writable: " + somaxconn.StandardError);
            Assert.That(machineSomaxconn, Is.Not.EqualTo("517"), "the container's somaxconn landed on the machine");
            Assert.That(kernel.ExitCode, Is.Not.EqualTo(0), "the machine's kernel parameters are writable from a container");
            Assert.That(File.ReadAllText("/proc/sys/kernel/domainname").Trim(), Is.Not.EqualTo("rb-should-not-land"));

            // The CLI takes the same address: a plan against the container reads its facts there.
            var runbook = Path.Combine(_dir, "marker.csx");
            File.WriteAllText(runbook, "Target(\"marker\", File.Content(\"/etc/rb-container-marker\", \"on\\n\"));\nawait RunAsync(Args);\n");
            var (planExit, planOut, planError) = CliRunner.Run("plan", runbook, "--host", $"container:{container}", "--detailed-exitcode");
            Assert.That(planExit, Is.EqualTo(3), planOut + planError);
            Assert.That(planOut, Does.Contain("/etc/rb-container-marker").And.Contain(container));

            // A container that has stopped is the engine's failure, named as such, not a command's exit code.
            await new LocalTransport().RunCheckedAsync(new Command(((ContainerTransport)transport).Engine, ["stop", "--time", "0", container]), cancellationToken);
            var ex = await Assert.ThrowsAsync<TransportException>(() => transport.RunAsync(new Command("true", []), cancellationToken));
            Assert.That(ex!.Message, Does.Contain($"in container '{container}'"));
        }
        finally
        {
            Assert.That(await environment.DestroyAsync(CancellationToken.None), Is.Empty, "destroy left something behind");
        }
    }

    public static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData("Containers(image: \"localhost/runbooks-no-such-image:1\").Host(\"web\");",
                "image 'localhost/runbooks-no-such-image:1' is not in")
            .SetName("An image that does not exist stops the run at create, before the break");
        yield return new TestCaseData("Containers().Host(\"web\").Runs(\"sh\", \"-c\", \"echo no config found; exit 4\");",
                "host 'web' (")
            .SetName("A container that exits at once stops the run at create with its output");
    }

    [TestCaseSource(nameof(BadInputs)), CancelAfter(900_000)]
    public async Task A_bad_container_host_fails_create_and_nothing_is_broken_or_left(string declaration, string expected, CancellationToken cancellationToken)
    {
        var report = await RunAsync(declaration, cancellationToken);

        Assert.That(report.Phases.Select(p => (p.Name, p.Passed)), Is.EqualTo(new[] { ("compile", true), ("create", false) }), string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        var create = report.Phases[1].Detail;
        Assert.That(create, Does.Contain(expected));
        if (declaration.Contains("exit 4", StringComparison.Ordinal))
        {
            Assert.That(create, Does.Contain("exited at once (exit code 4)").And.Contain("no config found"));
        }

        var engine = ContainerTransport.DefaultEngine();
        var left = await new LocalTransport().RunCheckedAsync(new Command(engine, ["ps", "--all", "--quiet", "--filter", $"label={ContainerBackend.Label(report.RunId)}"]), cancellationToken);
        Assert.That(left.StandardOutput.Trim(), Is.Empty, "a container of the failed run was left");
    }

    [Test, CancelAfter(60_000)]
    public async Task Without_podman_or_docker_the_run_stops_at_create_saying_what_to_install(CancellationToken cancellationToken)
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", "/nonexistent-rb");
        HarnessReport report;
        try
        {
            report = await RunAsync("Containers().Host(\"web\");", cancellationToken);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }

        Assert.That(report.Phases.Select(p => (p.Name, p.Passed)), Is.EqualTo(new[] { ("compile", true), ("create", false) }));
        Assert.That(report.Phases[1].Detail, Does.Contain("neither podman nor docker is installed").And.Contain("apt-get install podman runc"));
    }

    private async Task<HarnessReport> RunAsync(string declaration, CancellationToken cancellationToken)
    {
        File.WriteAllText(Path.Combine(_dir, "repair.csx"), "Target(\"fix\", File.Line(\"/tmp/rb-container-fixed\", \"y\", create: true)).On(\"web\");\nawait RunAsync(Args);\n");
        var scenarioPath = Path.Combine(_dir, "bad.scenario.csx");
        File.WriteAllText(scenarioPath, $"""
            {declaration}
            Proves("repair.csx");
            Target("break", File.Line("/tmp/rb-container-never", "broken", create: true)).On("web");
            Spec("fixed", File.Exists("/tmp/rb-container-fixed")).On("web");
            """);
        var scenario = await ScenarioFile.LoadAsync(scenarioPath, 0.1, cache: null);
        var log = new StringWriter();
        var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log)
            .RunAsync(scenario, null, new HarnessRunOptions(Path.Combine(_dir, "out")), cancellationToken);
        TestContext.Out.WriteLine(log.ToString());
        return report;
    }
}
