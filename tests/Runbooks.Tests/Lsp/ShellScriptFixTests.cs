using System.Text.Json.Nodes;
using Runbooks.Compiler;
using Runbooks.Lsp.Features;
using Runbooks.Lsp.Workspace;
using Runbooks.Scripting;

namespace Runbooks.Tests.Lsp;

/// <summary>
/// The RB002 quick fix as data: a runbook line with an interpolated shell script, and the line the fix makes of it.
/// Each result must also compile under <c>runbook check</c> with no RB002, so the fix cannot trade one error for another.
/// </summary>
public class ShellScriptFixTests
{
    private const string Prelude = "var device = \"loop1\"; var size = 42; var ratio = 0.5; var token = Secret.Of(\"t\");\n";

    public static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("a hole becomes a quoted positional parameter",
            "Shell.Script($\"lsblk /dev/{device}\");", "Shell.Script(\"lsblk /dev/\\\"$1\\\"\", device);");
        yield return Case("the same expression twice is one parameter",
            "Shell.Script($\"wipefs {device} && lsblk {device}\");", "Shell.Script(\"wipefs \\\"$1\\\" && lsblk \\\"$1\\\"\", device);");
        yield return Case("a hole already in double quotes keeps them",
            "Shell.Script($\"test -b \\\"/dev/{device}\\\"\");", "Shell.Script(\"test -b \\\"/dev/$1\\\"\", device);");
        yield return Case("single quotes would not expand $1, so they become double quotes",
            "Shell.Script($\"echo '{device}' > /tmp/x\");", "Shell.Script(\"echo \\\"$1\\\" > /tmp/x\", device);");
        yield return Case("inside a longer single-quoted word the quote closes around the parameter",
            "Shell.Script($\"echo 'disk {device} gone'\");", "Shell.Script(\"echo 'disk '\\\"$1\\\"' gone'\", device);");
        yield return Case("a digit after a hole in double quotes gets braces",
            "Shell.Script($\"ls \\\"/dev/{device}1\\\"\");", "Shell.Script(\"ls \\\"/dev/${1}1\\\"\", device);");
        yield return Case("holes number after the values already passed",
            "Shell.Script($\"dd if=\\\"$1\\\" count={size}\", \"/dev/zero\");", "Shell.Script(\"dd if=\\\"$1\\\" count=\\\"$2\\\"\", \"/dev/zero\", size.ToString());");
        yield return Case("a format clause is kept, invariant",
            "Shell.Script($\"echo {ratio:F2}\");", "Shell.Script(\"echo \\\"$1\\\"\", ratio.ToString(\"F2\", System.Globalization.CultureInfo.InvariantCulture));");
        yield return Case("a secret stays a secret argument instead of rendering as ***",
            "Shell.Script($\"curl -H {token} http://x\");", "Shell.Script(\"curl -H \\\"$1\\\" http://x\", token);");
        yield return Case("an expression hole is parenthesised before ToString",
            "Shell.Script($\"seq {size + 1}\");", "Shell.Script(\"seq \\\"$1\\\"\", (size + 1).ToString());");
        yield return Case("new Command(\"sh\", [\"-c\", $\"…\"]) becomes Shell.Script",
            "new Command(\"sh\", [\"-c\", $\"mount /dev/{device} /mnt\"]);", "Shell.Script(\"mount /dev/\\\"$1\\\" /mnt\", device);");
    }

    private static TestCaseData Case(string name, string before, string after) => new TestCaseData(before, after).SetName(name.Replace(' ', '_').Replace(".", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal));

    [TestCaseSource(nameof(Cases))]
    public async Task The_RB002_fix_turns_the_interpolation_into_positional_parameters(string before, string after)
    {
        var fixedText = await ApplyFixAsync(Prelude + before);

        Assert.That(fixedText, Is.EqualTo(Prelude + after));
        Assert.That(() => Compile(fixedText), Throws.Nothing, "the fixed runbook compiles with no RB002");
    }

    [Test]
    public async Task A_hole_with_an_alignment_gets_no_fix_rather_than_a_different_script()
    {
        var actions = await ActionsAsync(Prelude + "Shell.Script($\"printf {device,10}\");");

        Assert.That(actions, Is.Empty);
    }

    private static async Task<string> ApplyFixAsync(string text)
    {
        var actions = await ActionsAsync(text);
        Assert.That(actions, Has.Count.EqualTo(1), actions.ToJsonString());
        var edit = actions[0]!["edit"]!["changes"]!.AsObject().Single().Value!.AsArray().Single()!;
        var lines = text.Split('\n');
        var start = edit["range"]!["start"]!;
        var end = edit["range"]!["end"]!;
        Assert.That(start["line"]!.GetValue<int>(), Is.EqualTo(end["line"]!.GetValue<int>()), "the fix stays on its line");
        var line = lines[start["line"]!.GetValue<int>()];
        lines[start["line"]!.GetValue<int>()] = line[..start["character"]!.GetValue<int>()] + edit["newText"]!.GetValue<string>() + line[end["character"]!.GetValue<int>()..];
        return string.Join('\n', lines);
    }

    private static async Task<JsonArray> ActionsAsync(string text)
    {
        using var workspace = new RunbookWorkspace(_ => ScriptKind.Runbook);
        var uri = new Uri(Path.Combine(Path.GetTempPath(), "rb002-fix.csx")).AbsoluteUri;
        workspace.Open(uri, text);
        var document = workspace.Find(uri, "test")!;
        var lines = text.Split('\n');
        var range = new JsonObject
        {
            ["start"] = new JsonObject { ["line"] = 1, ["character"] = 0 },
            ["end"] = new JsonObject { ["line"] = lines.Length - 1, ["character"] = lines[^1].Length },
        };
        return await CodeActionFeature.CodeActionsAsync(uri, document, new JsonObject { ["range"] = range, ["context"] = new JsonObject { ["diagnostics"] = new JsonArray() } }, CancellationToken.None);
    }

    private static void Compile(string text)
    {
        var directory = Directory.CreateTempSubdirectory("rb002-fix-");
        try
        {
            var path = Path.Combine(directory.FullName, "fixed.csx");
            File.WriteAllText(path, text);
            RunbookCompiler.Compile(ScriptSource.Read(path));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
