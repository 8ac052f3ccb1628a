using System.Security.Cryptography;
using System.Text;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// Hostile and broken input: each case must be refused with its own clear message and exit code, and the
/// host must look exactly as before (a fingerprint of the scratch directory the runbooks aim at, and of the
/// places an injected command would write).
/// </summary>
[Category("process"), Category("reliability"), NonParallelizable]
public class HostileInputTests
{
    private const string Scratch = "/tmp/rb-hostile";

    // Where the payloads in the corpus would land if any reached a shell.
    private static readonly string[] Witnesses = ["/etc/rb-pwned", $"{Scratch}/pwned", "/tmp/rb-pwned"];

    public static IEnumerable<TestCaseData> Corpus()
    {
        TestCaseData Case(string name, string script, string expected, params string[] args) =>
            new TestCaseData(script, args, expected).SetName($"{name} is refused with exit 2 and nothing changes");

        yield return Case("a syntax error", "scripts/syntax-error.csx", "error CS1002");
        yield return Case("a dependency cycle", "scripts/cycle.csx", "dependency cycle: a -> b -> a");
        yield return Case("an unknown target", "hostile/files.csx", "no target named 'nosuch'", "nosuch");
        yield return Case("a device name with shell metacharacters", "hostile/device-shell-metacharacters.csx",
            "device-shell-metacharacters.csx(2,1): error RB100: the runbook failed while defining its targets: '/dev/loop1; touch /tmp/rb-hostile/pwned' is not a device path");
        yield return Case("an interface name with command substitution", "hostile/interface-command-substitution.csx", "interface name 'wg0$(id)' is not valid");
        yield return Case("a path climbing out with ..", "hostile/path-traversal.csx", "must not contain '.' or '..' segments");
        yield return Case("a zero size", "hostile/size-zero.csx", "size 0 bytes must be > 0 and at most 1 PiB");
        yield return Case("a negative size", "hostile/size-negative.csx", "size -4096 bytes must be > 0");
        yield return Case("an absurd size", "hostile/size-absurd.csx", "size 9223372036854775807 bytes must be > 0 and at most 1 PiB");
        yield return Case("a malformed WireGuard key", "hostile/wireguard-key-malformed.csx", "'not-a-key=' is not a WireGuard key");
        yield return Case("a malformed inventory", "hostile/files.csx", "malformed.inventory:1: unknown host address", "--inventory", "{fixtures}/hostile/malformed.inventory");
        yield return Case("an unreadable inventory", "hostile/files.csx", "cannot read inventory /nonexistent/hosts.inventory", "--inventory", "/nonexistent/hosts.inventory");
        yield return Case("an SSH address with a shell metacharacter", "hostile/files.csx", "host 'local': 'ssh://root@h;touch /tmp/rb-pwned' is not an SSH address", "--host", "local=ssh://root@h;touch /tmp/rb-pwned");
        yield return Case("a netns address climbing out", "hostile/files.csx", "expected netns:NAME", "--host", "local=netns:../../etc");
    }

    [TestCaseSource(nameof(Corpus)), CancelAfter(60_000)]
    public void Hostile_input_is_refused_with_a_clear_error_and_the_host_is_unchanged(string script, string[] args, string expected)
    {
        Directory.CreateDirectory(Scratch);
        System.IO.File.WriteAllText($"{Scratch}/seed", "before\n");
        var journal = Path.Combine(Path.GetTempPath(), $"rb-hostile-{Environment.ProcessId}.jsonl");
        var fixtures = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures");
        try
        {
            var before = Fingerprint();

            var (exit, output, error) = CliRunner.Run(["run", Path.Combine(fixtures, script), "--journal", journal, .. args.Select(a => a.Replace("{fixtures}", fixtures, StringComparison.Ordinal))]);

            Assert.That(exit, Is.EqualTo(2), output + error);
            Assert.That(error, Does.Contain(expected));
            Assert.That(error, Does.Contain("nothing was run").IgnoreCase);
            Assert.That(error, Does.Not.Contain("   at "), "a stack trace reached the operator");
            Assert.That(Fingerprint(), Is.EqualTo(before), "the host changed");
            ReliabilityFigures.Record("hostile input (run refused, host unchanged)", 0, 0, 1, 0);
        }
        finally
        {
            Directory.Delete(Scratch, recursive: true);
            System.IO.File.Delete(journal);
        }
    }

    [Test]
    public void The_fingerprint_sees_a_change_in_the_scratch_directory()
    {
        Directory.CreateDirectory(Scratch);
        try
        {
            var before = Fingerprint();
            System.IO.File.WriteAllText($"{Scratch}/marker", "ran\n");

            Assert.That(Fingerprint(), Is.Not.EqualTo(before));
        }
        finally
        {
            Directory.Delete(Scratch, recursive: true);
        }
    }

    /// <summary>Paths, modes and content hashes under the scratch directory, and whether a witness exists.</summary>
    private static string Fingerprint()
    {
        var text = new StringBuilder();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Scratch, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var hash = System.IO.File.Exists(entry) ? Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(entry))) : "dir";
            text.Append(entry).Append(' ').Append(System.IO.File.GetUnixFileMode(entry)).Append(' ').AppendLine(hash);
        }

        foreach (var witness in Witnesses)
        {
            text.Append(witness).Append(' ').AppendLine(Path.Exists(witness) ? "EXISTS" : "absent");
        }

        return text.ToString();
    }
}
