using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

/// <summary><c>Exec(…).Destroys("…")</c>: a raw destructive command flagged in the plan like the built-in destructive steps.</summary>
public sealed class ExecDestroysTests
{
    [TestCase(".Destroys(\"every file in the spool\").Until(Check.From(\"spool empty\", () => false))")]
    [TestCase(".Until(Check.From(\"spool empty\", () => false)).Destroys(\"every file in the spool\")")]
    public void The_plan_says_what_a_raw_command_destroys(string chain)
    {
        var dir = Directory.CreateTempSubdirectory("rb-destroys-").FullName;
        try
        {
            var runbook = Path.Combine(dir, "spool.csx");
            System.IO.File.WriteAllText(runbook, $$"""
                Target("spool", Exec("empty the spool", new Command("true", []))
                    {{chain}});
                await RunAsync(Args);
                """);

            var (exit, text, error) = CliRunner.Run("plan", runbook);
            var (_, json, _) = CliRunner.Run("plan", runbook, "--format", "json");

            Assert.That(exit, Is.EqualTo(0), text + error);
            Assert.That(text, Does.Contain("DESTROYS: every file in the spool"));
            Assert.That(json, Does.Contain("\"destroys\": \"every file in the spool\""));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Plain_exec_destroys_nothing_and_an_empty_declaration_is_refused()
    {
        var step = Runbooks.Scripting.RunbookGlobals.Exec("x", new Runbooks.Commands.Command("true", []));

        Assert.That(((Runbooks.Engine.Step)step).Destroys, Is.Null);
        Assert.That(() => step.Destroys(" "), Throws.ArgumentException);
    }
}
