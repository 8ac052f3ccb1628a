using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Specs;
using Runbooks.Transport;

namespace Runbooks.Harness.Scenarios.Talus;

/// <summary>
/// The talus incident (incidents/talus-service-notes.rst): five daemons that must come up in order
/// db → amqp → web → master → slave, found with db stopped and master wedged. master ignores SIGTERM, so only a
/// KILL after a grace period stops it; web refuses to start while db is down; slave refuses while master is.
/// </summary>
public sealed class TalusScenario
{
    private const string WriteFile = "printf '%s' \"$2\" > \"$1\" && chmod \"$3\" \"$1\"";

    public string Name => "talus";

    public string Backend => "runit";

    public async Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken)
    {
        var host = inventory.Context(RunitBackend.HostName);
        var on = host.Transport;
        await on.RunCheckedAsync(new Command("mkdir", ["-p", "/var/log/talus"]), cancellationToken);
        await on.RunCheckedAsync(Shell.Script(WriteFile, TalusServices.Program, TalusServices.ProgramText, "644"), cancellationToken);
        foreach (var daemon in TalusServices.All)
        {
            var dir = $"/etc/sv/{daemon.Name}";
            var ports = daemon.After.Select(a => TalusServices.Named(a).Port);
            await on.RunCheckedAsync(new Command("mkdir", ["-p", $"{dir}/log/main"]), cancellationToken);
            await on.RunCheckedAsync(Shell.Script(WriteFile, $"{dir}/run", TalusServices.RunScript(daemon, ports), "755"), cancellationToken);
            await on.RunCheckedAsync(Shell.Script(WriteFile, $"{dir}/finish", TalusServices.FinishScript(daemon), "755"), cancellationToken);
            await on.RunCheckedAsync(Shell.Script(WriteFile, $"{dir}/log/run", TalusServices.LogRunScript, "755"), cancellationToken);
        }

        // All five at once, as a boot would: runsvdir notices within 5 s; web, master and slave refuse and are
        // retried by runsv each second until what they need answers.
        foreach (var daemon in TalusServices.All)
        {
            await on.RunCheckedAsync(new Command("ln", ["-sfn", $"/etc/sv/{daemon.Name}", $"/etc/service/{daemon.Name}"]), cancellationToken);
        }

        await WaitAsync(host, "all five healthy after boot", TimeSpan.FromSeconds(40), TalusSpecs.Healthy().Select(s => s.Check).ToList(), cancellationToken);

        // The incident: db stopped (its dependants keep running on a dead connection), master wedged.
        await on.RunCheckedAsync(new Command("sv", ["down", "/etc/service/db"]), cancellationToken);
        // "down:" only once db's finish script has logged its exit: a break that returns earlier lets that
        // line land after a test has taken its "nothing was signalled" snapshot of the event log.
        await on.RunCheckedAsync(Shell.Script(
            "i=0; until sv status \"$1\" | grep -q '^down:'; do i=$((i + 1)); if [ \"$i\" -gt 150 ]; then echo \"$1 not down within 15 s: $(sv status \"$1\")\" >&2; exit 1; fi; sleep 0.1; done",
            "/etc/service/db"), cancellationToken);
        await on.RunCheckedAsync(new Command("sv", ["1", "/etc/service/master"]), cancellationToken);
        await WaitAsync(host, "db down and master wedged", TimeSpan.FromSeconds(15),
            [Dsl.Probe.Tcp("127.0.0.1", TalusServices.Named("db").Port, Dsl.TcpOutcome.Refused), Dsl.Probe.Tcp("127.0.0.1", TalusServices.Named("master").Port, Dsl.TcpOutcome.Refused)],
            cancellationToken);
    }

    public IReadOnlyList<Spec> Specs(HarnessOptions options) => TalusSpecs.All();

    private static async Task WaitAsync(HostContext host, string what, TimeSpan deadline, IReadOnlyList<Check> checks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < deadline)
        {
            host.InvalidateFacts();
            var failing = new List<string>();
            foreach (var check in checks)
            {
                var result = await check.EvaluateAsync(host, cancellationToken);
                if (!result.Holds)
                {
                    failing.Add($"{check.Description}: {result.Observed}");
                }
            }

            if (failing.Count == 0)
            {
                return;
            }

            last = string.Join("; ", failing);
            await Task.Delay(200, cancellationToken);
        }

        var status = await host.Transport.RunAsync(Shell.Script("sv status /etc/service/*; tail -n 20 \"$1\"", TalusServices.EventLog), cancellationToken);
        throw new RunbookException($"talus scenario: not {what} within {deadline.TotalSeconds:0} s ({last}).\n{status.StandardOutput}");
    }
}
