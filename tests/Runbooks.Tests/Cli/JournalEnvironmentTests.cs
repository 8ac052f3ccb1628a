using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Cli;

/// <summary>A journal says what the runbook's meaning rested on: the environment it read and the script's whole hash.</summary>
[NonParallelizable]
public sealed class JournalEnvironmentTests
{
    [Test]
    public void The_journal_records_each_variable_the_runbook_read_with_secrets_masked_and_the_full_runbook_hash()
    {
        var dir = Directory.CreateTempSubdirectory("rb-journal-env-").FullName;
        var variables = new Dictionary<string, string?> { ["RUNBOOK_SCALE"] = "0.5", ["RB_TEST_COLOR"] = "green", ["RB_TEST_TOKEN"] = "s3cr3t-token-value", ["RB_TEST_UNSET"] = null };
        var previous = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            var runbook = Path.Combine(dir, "env.csx");
            System.IO.File.WriteAllText(runbook, """
                var color = Env("RB_TEST_COLOR");
                var missing = Env("RB_TEST_UNSET", "fallback");
                var token = Secret.FromEnvironment("RB_TEST_TOKEN");
                var size = (int)(100 * Scale);
                Target("nothing", Exec("nothing to do", new Command("true", [])).Until(Check.From("always", () => true)));
                await RunAsync(Args);
                """);
            var journal = Path.Combine(dir, "j.jsonl");

            var (exit, output, error) = CliRunner.Run("run", runbook, "--journal", journal);

            Assert.That(exit, Is.EqualTo(0), output + error);
            var text = System.IO.File.ReadAllText(journal);
            var start = System.IO.File.ReadLines(journal).Select(l => JsonNode.Parse(l)!).First(r => (string?)r["event"] == "run-start");
            var environment = start["environment"]!.AsObject().ToDictionary(e => e.Key, e => (string?)e.Value);
            Assert.That(environment, Is.EqualTo(new Dictionary<string, string?> { ["RB_TEST_COLOR"] = "green", ["RB_TEST_TOKEN"] = "***", ["RB_TEST_UNSET"] = null, ["RUNBOOK_SCALE"] = "0.5" }));
            Assert.That(text, Does.Not.Contain("s3cr3t-token-value"));
            Assert.That((string?)start["runbookHash"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(System.IO.File.ReadAllBytes(runbook)))));

            var (_, markdown, _) = CliRunner.Run("journal", "show", journal);
            Assert.That(markdown, Does.Contain("`RB_TEST_COLOR=green`").And.Contain("`RB_TEST_TOKEN=***`").And.Contain("`RB_TEST_UNSET` (not set)"));
        }
        finally
        {
            foreach (var (name, value) in previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            Directory.Delete(dir, recursive: true);
        }
    }
}
