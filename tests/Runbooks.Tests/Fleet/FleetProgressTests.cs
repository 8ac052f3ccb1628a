using Runbooks.Cli.Output;
using Runbooks.Engine;
using Runbooks.Fleet;

namespace Runbooks.Tests.Fleet;

/// <summary>Fleet progress: plain lines prefixed with the machine in CI, one line per machine redrawn in place on a terminal.</summary>
public sealed class FleetProgressTests
{
    private static async Task<PreparedFleet> TwoMachinesAsync(string dir)
    {
        System.IO.File.WriteAllText(Path.Combine(dir, "r.csx"), "Target(\"default\", Sysctl.Value(\"net.core.somaxconn\", \"1024\"));\nawait RunAsync(Args);\n");
        var path = Path.Combine(dir, "p.constellation.csx");
        System.IO.File.WriteAllText(path, "Role(\"r\", \"r.csx\");\nMachine(\"alpha\", \"local\").Runs(\"r\");\nMachine(\"beta\", \"local\").Runs(\"r\");\n");
        var compile = (Runbooks.Scripting.ScriptSource s) => Runbooks.Compiler.RunbookCompiler.Compile(s, ConstellationFile.Kind);
        var constellation = await ConstellationFile.LoadAsync(path, compile, null);
        return await PreparedFleet.PrepareAsync(constellation, [], [], p => Runbooks.Scripting.LoadedRunbook.Load(p, s => Runbooks.Compiler.RunbookCompiler.Compile(s), null));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Every_machine_gets_its_own_line(bool live)
    {
        var dir = Directory.CreateTempSubdirectory("rb-progress-").FullName;
        try
        {
            await using var fleet = await TwoMachinesAsync(dir);
            var output = new StringWriter();
            var progress = new FleetProgress(output, live);
            progress.BatchStarted(1, 1, fleet.Machines);
            foreach (var machine in fleet.Machines)
            {
                progress.MachineStarted(machine);
                var target = machine.Graph.Targets[0];
                progress.For(machine).StepStarted(target, 0, target.Steps[0]);
            }

            progress.MachineEnded(new MachineResult(fleet.Machines[0], MachineStatus.Unchanged, null, null, TimeSpan.FromSeconds(1)));
            progress.MachineEnded(new MachineResult(fleet.Machines[1], MachineStatus.Unreachable, null, "connection refused", TimeSpan.FromSeconds(2)));
            progress.Stop();
            var text = output.ToString();

            Assert.That(text, Does.StartWith("batch 1/1: alpha, beta"));
            if (live)
            {
                Assert.That(text.Contains("\u001b[2A", StringComparison.Ordinal), Is.True, "the block of two machine lines is redrawn in place");
                Assert.That(text, Does.Contain("r/default · step 1/1: sysctl net.core.somaxconn = 1024"), "the step each machine is on");
                Assert.That(text.Split('\n').Last(l => l.Contains("beta", StringComparison.Ordinal)), Does.Contain("UNREACHABLE: connection refused"));
            }
            else
            {
                Assert.That(text.Contains('\u001b', StringComparison.Ordinal), Is.False, "no escape codes in a CI log");
                Assert.That(text, Does.Contain("[alpha] done: nothing to change (1.00 s)").And.Contain("[beta] UNREACHABLE: connection refused (2.00 s)"));
                Assert.That(text, Does.Not.Contain("step 1/1"), "no per-step noise in plain lines");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
