using System.Text;
using System.Text.Json.Nodes;

namespace Runbooks.Tests.Lsp;

/// <summary>
/// <c>runbook lsp</c> driven over real stdio as an editor drives it: one server for the fixture (as an
/// editor keeps one), each test on its own file so their diagnostics do not mix.
/// </summary>
[Category("process"), NonParallelizable]
public class LanguageServerTests
{
    private static readonly string[] Runbook =
    [
        "var device = Args.FirstOrDefault() ?? \"loop1\";",
        "Target(\"disk3\", \"loop3 is a physical volume\", Lvm.Pv(\"/dev/loop3\").Evacuat());",
        "Target(\"show\", DependsOn(\"disk3\"),",
        "    Exec(\"show the device\", Shell.Script($\"lsblk /dev/{device}\")).Until(File.Exists(\"/tmp/rb-never\")));",
        "await RunAsync(Args);",
    ];

    private string _folder = null!;
    private LspProcess _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _folder = Directory.CreateTempSubdirectory("runbooks-lsp-").FullName;
        _server = LspProcess.Start(_folder);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _server.InitializeAsync(cancel.Token);
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Test, CancelAfter(60_000)]
    public async Task Opening_a_runbook_publishes_the_typo_and_the_interpolated_shell_string_at_their_ranges(CancellationToken cancellationToken)
    {
        var uri = await OpenAsync("diagnostics.csx", Runbook, cancellationToken);

        var diagnostics = await _server.DiagnosticsAsync(uri, cancellationToken);

        var typo = Single(diagnostics, "CS1061");
        Assert.That(Range(typo), Is.EqualTo((1, Runbook[1].IndexOf("Evacuat", StringComparison.Ordinal), 1, Runbook[1].IndexOf("Evacuat", StringComparison.Ordinal) + "Evacuat".Length)));
        Assert.That(typo["severity"]!.GetValue<int>(), Is.EqualTo(1));
        var shell = Single(diagnostics, "RB002");
        var interpolated = "$\"lsblk /dev/{device}\"";
        Assert.That(Range(shell), Is.EqualTo((3, Runbook[3].IndexOf(interpolated, StringComparison.Ordinal), 3, Runbook[3].IndexOf(interpolated, StringComparison.Ordinal) + interpolated.Length)));
        Assert.That(shell["severity"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test, CancelAfter(60_000)]
    public async Task An_edit_republishes_diagnostics_and_an_unknown_dependency_gets_RB004(CancellationToken cancellationToken)
    {
        var uri = await OpenAsync("edit.csx", Runbook, cancellationToken);
        await _server.DiagnosticsAsync(uri, cancellationToken);

        var edited = Runbook.Select(l => l.Replace("Evacuat()", "Evacuate()", StringComparison.Ordinal).Replace("DependsOn(\"disk3\")", "DependsOn(\"nope\")", StringComparison.Ordinal)).ToArray();
        await _server.NotifyAsync("textDocument/didChange", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = 2 },
            ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = string.Join('\n', edited) }),
        }, cancellationToken);
        var diagnostics = await _server.DiagnosticsAsync(uri, cancellationToken);

        Assert.That(Codes(diagnostics), Does.Not.Contain("CS1061"));
        Assert.That(Range(Single(diagnostics, "RB004")).StartLine, Is.EqualTo(2));
    }

    [Test, CancelAfter(60_000)]
    public async Task The_RB002_quick_fix_passes_the_value_as_a_positional_parameter_and_the_diagnostic_goes(CancellationToken cancellationToken)
    {
        var uri = await OpenAsync("quickfix.csx", Runbook, cancellationToken);
        var shell = Single(await _server.DiagnosticsAsync(uri, cancellationToken), "RB002");

        var reply = await _server.RequestAsync("textDocument/codeAction", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri },
            ["range"] = shell["range"]!.DeepClone(),
            ["context"] = new JsonObject { ["diagnostics"] = new JsonArray(shell.DeepClone()) },
        }, cancellationToken);
        var action = reply["result"]!.AsArray().Single()!;
        var edit = action["edit"]!["changes"]![uri]!.AsArray().Single()!;
        var line = edit["range"]!["start"]!["line"]!.GetValue<int>();
        var fixedLine = Runbook[line][..edit["range"]!["start"]!["character"]!.GetValue<int>()] + edit["newText"]!.GetValue<string>() + Runbook[line][edit["range"]!["end"]!["character"]!.GetValue<int>()..];
        var edited = Runbook.Select((l, i) => i == line ? fixedLine : l).ToArray();
        await _server.NotifyAsync("textDocument/didChange", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["version"] = 2 },
            ["contentChanges"] = new JsonArray(new JsonObject { ["text"] = string.Join('\n', edited) }),
        }, cancellationToken);
        var after = await _server.DiagnosticsAsync(uri, cancellationToken);

        Assert.That(action["kind"]!.GetValue<string>(), Is.EqualTo("quickfix"));
        Assert.That(action["diagnostics"]!.AsArray().Single()!["code"]!.GetValue<string>(), Is.EqualTo("RB002"));
        Assert.That(fixedLine, Does.Contain("Shell.Script(\"lsblk /dev/\\\"$1\\\"\", device)"));
        Assert.That(Codes(after), Does.Not.Contain("RB002"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Completion_after_Lvm_lists_Pv_and_after_a_pv_lists_Evacuate_with_its_summary(CancellationToken cancellationToken)
    {
        string[] text = ["Lvm.Pv(\"/dev/loop1\")."];
        var uri = await OpenAsync("completion.csx", text, cancellationToken);

        var lvm = await CompleteAsync(uri, 0, "Lvm.".Length, cancellationToken);
        var pv = await CompleteAsync(uri, 0, text[0].Length, cancellationToken);

        Assert.That(Labels(lvm), Does.Contain("Pv"));
        var evacuate = pv.Single(i => i!["label"]!.GetValue<string>() == "Evacuate")!;
        var resolved = await _server.RequestAsync("completionItem/resolve", evacuate.DeepClone(), cancellationToken);
        Assert.That(resolved["result"]!["documentation"]!["value"]!.GetValue<string>(), Does.Contain("Moves every allocated extent"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Completion_inside_DependsOn_offers_the_other_targets_of_the_file(CancellationToken cancellationToken)
    {
        string[] text = ["Target(\"disk3\", Lvm.Pv(\"/dev/loop3\").Evacuate());", "Target(\"writable\", Fs.Mount(\"/data\").Writable());", "Target(\"grow\", DependsOn(\"\"));"];
        var uri = await OpenAsync("depends.csx", text, cancellationToken);

        var items = await CompleteAsync(uri, 2, text[2].IndexOf("\"\"", StringComparison.Ordinal) + 1, cancellationToken);

        Assert.That(Labels(items), Is.EquivalentTo(new[] { "disk3", "writable" }));
    }

    [Test, CancelAfter(60_000)]
    public async Task Completion_inside_On_offers_the_hosts_of_the_inventory_the_editor_names(CancellationToken cancellationToken)
    {
        var inventory = Path.Combine(_folder, "editor.inventory");
        await File.WriteAllTextAsync(inventory, "# the fleet\nweb = ssh://root@web.example:22\ndb = netns:rb-lsp-db\n", cancellationToken);
        await using var server = LspProcess.Start(_folder);
        await server.InitializeAsync(cancellationToken, new JsonObject { ["inventory"] = inventory });
        string[] text = ["Target(\"config\", File.Content(\"/etc/app.conf\", \"x\")).On(\"\");"];
        var uri = new Uri(Path.Combine(_folder, "hosts.csx")).AbsoluteUri;
        await server.NotifyAsync("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = text[0] },
        }, cancellationToken);

        var reply = await server.RequestAsync("textDocument/completion", At(uri, 0, text[0].LastIndexOf("\"\"", StringComparison.Ordinal) + 1), cancellationToken);

        var items = reply["result"]!["items"]!.AsArray();
        Assert.That(Labels(items), Is.EquivalentTo(new[] { "local", "web", "db" }));
        Assert.That(items.Single(i => i!["label"]!.GetValue<string>() == "web")!["detail"]!.GetValue<string>(), Does.Contain("ssh://root@web.example:22"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Completion_inside_On_reads_the_inventory_a_runbook_json_above_the_script_names(CancellationToken cancellationToken)
    {
        var incident = await FolderBelowAnInventoryAsync("fleet", "disk-full", cancellationToken);
        string[] text = ["Target(\"disk\", Lvm.Pv(\"/dev/loop3\").Evacuate()).On(\"st\");"];
        var uri = new Uri(Path.Combine(incident, "disk-full.csx")).AbsoluteUri;
        await _server.NotifyAsync("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = text[0] },
        }, cancellationToken);

        var items = await CompleteAsync(uri, 0, text[0].IndexOf("st\"", StringComparison.Ordinal) + 2, cancellationToken);

        Assert.That(Labels(items), Is.EquivalentTo(new[] { "local", "storage1" }));
        var range = items.Single(i => i!["label"]!.GetValue<string>() == "storage1")!["textEdit"]!["range"]!;
        Assert.That(range["start"]!["character"]!.GetValue<int>(), Is.EqualTo(text[0].IndexOf("st\"", StringComparison.Ordinal)), "the edit replaces what is between the quotes");
    }

    [Test, CancelAfter(60_000)]
    public async Task Completion_inside_On_offers_the_hosts_a_scenario_beside_the_runbook_declares(CancellationToken cancellationToken)
    {
        var incident = Directory.CreateDirectory(Path.Combine(_folder, "link")).FullName;
        await File.WriteAllTextAsync(Path.Combine(incident, "link.scenario.csx"), "var net = Netns();\nnet.Host(\"server\");\nnet.Host(\"client\");\nProves(\"link.csx\");\n", cancellationToken);
        string[] text = ["Target(\"peer\", File.Content(\"/etc/peer\", \"x\")).On(\"\");"];
        var uri = await OpenAsync(Path.Combine(incident, "link.csx"), text, cancellationToken);

        var items = await CompleteAsync(uri, 0, text[0].LastIndexOf("\"\"", StringComparison.Ordinal) + 1, cancellationToken);

        Assert.That(Labels(items), Is.EquivalentTo(new[] { "local", "server", "client" }));
        Assert.That(items.Single(i => i!["label"]!.GetValue<string>() == "client")!["detail"]!.GetValue<string>(), Does.Contain("link.scenario.csx:3"));
    }

    [Test, CancelAfter(60_000)]
    public async Task An_On_naming_a_host_the_inventory_and_the_scenario_beside_do_not_know_gets_RB006_at_the_name(CancellationToken cancellationToken)
    {
        var incident = await FolderBelowAnInventoryAsync("fleet-rb006", "disk", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(incident, "disk.scenario.csx"), "var net = Netns();\nnet.Host(\"spare\");\n", cancellationToken);
        string[] text =
        [
            "Target(\"a\", File.Content(\"/etc/a\", \"x\")).On(\"storage1\");",
            "Target(\"b\", File.Content(\"/etc/b\", \"x\")).On(\"spare\");",
            "Target(\"c\", File.Content(\"/etc/c\", \"x\")).On(\"local\");",
            "Target(\"d\", File.Content(\"/etc/d\", \"x\")).On(\"storag1\");",
        ];
        var uri = await OpenAsync(Path.Combine(incident, "disk.csx"), text, cancellationToken);

        var diagnostics = await _server.DiagnosticsAsync(uri, cancellationToken);

        var unknown = Single(diagnostics, "RB006");
        var typo = text[3].IndexOf("\"storag1\"", StringComparison.Ordinal);
        Assert.That(Range(unknown), Is.EqualTo((3, typo, 3, typo + "\"storag1\"".Length)));
        Assert.That(unknown["severity"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(unknown["message"]!.GetValue<string>(), Does.Contain("'storag1'").And.Contain("hosts.inventory or disk.scenario.csx").And.Contain("local, spare, storage1"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Without_an_inventory_or_a_scenario_an_On_is_not_checked(CancellationToken cancellationToken)
    {
        var alone = Directory.CreateDirectory(Path.Combine(_folder, "alone")).FullName;
        string[] text = ["Target(\"a\", File.Content(\"/etc/a\", \"x\")).On(\"given-on-the-command-line\");"];
        var uri = await OpenAsync(Path.Combine(alone, "alone.csx"), text, cancellationToken);

        Assert.That(Codes(await _server.DiagnosticsAsync(uri, cancellationToken)), Does.Not.Contain("RB006"));
    }

    [Test, CancelAfter(180_000)]
    public async Task After_the_warm_up_the_first_completion_uses_the_completion_service_the_warm_up_made(CancellationToken cancellationToken)
    {
        await using var server = LspProcess.Start(_folder);
        await server.InitializeAsync(cancellationToken);
        JsonNode status;
        while ((status = (await server.RequestAsync("runbook/status", null, cancellationToken))["result"]!)["warmUp"]!.GetValue<string>() is not ("done" or "failed"))
        {
            await Task.Delay(200, cancellationToken);
        }

        Assert.That(status["warmUp"]!.GetValue<string>(), Is.EqualTo("done"), server.Stderr);
        Assert.That(status["workspaceComposedBy"]!.GetValue<string>(), Is.EqualTo("warm-up"));
        string[] text = ["Lvm.Pv(\"/dev/loop1\")."];
        var uri = new Uri(Path.Combine(_folder, "after-warm-up.csx")).AbsoluteUri;
        await server.NotifyAsync("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = text[0] },
        }, cancellationToken);

        var reply = await server.RequestAsync("textDocument/completion", At(uri, 0, text[0].Length), cancellationToken);
        var after = (await server.RequestAsync("runbook/status", null, cancellationToken))["result"]!;

        Assert.That(Labels(reply["result"]!["items"]!.AsArray()), Does.Contain("Evacuate"));
        Assert.That(after["completionServicesMade"]!.GetValue<int>(), Is.EqualTo(1), $"the completion made its own completion service: {after.ToJsonString()}");
        Assert.That(after["completionServiceMadeBy"]!.GetValue<string>(), Is.EqualTo("warm-up"));
        Assert.That(after["workspaceComposedBy"]!.GetValue<string>(), Is.EqualTo("warm-up"), "the completion composed nothing");
    }

    [Test, CancelAfter(60_000)]
    public async Task Hover_on_Target_shows_its_xml_doc_summary(CancellationToken cancellationToken)
    {
        var uri = await OpenAsync("hover.csx", Runbook, cancellationToken);

        var hover = await _server.RequestAsync("textDocument/hover", At(uri, 2, 2), cancellationToken);

        Assert.That(hover["result"]!["contents"]!["value"]!.GetValue<string>(), Does.Contain("runs after the targets it depends on"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Definition_from_a_DependsOn_string_lands_on_the_target(CancellationToken cancellationToken)
    {
        var uri = await OpenAsync("definition.csx", Runbook, cancellationToken);

        var definition = await _server.RequestAsync("textDocument/definition", At(uri, 2, Runbook[2].IndexOf("disk3", StringComparison.Ordinal) + 2), cancellationToken);

        var location = definition["result"]!.AsArray().Single()!;
        Assert.That(location["uri"]!.GetValue<string>(), Is.EqualTo(uri));
        Assert.That(location["range"]!["start"]!["line"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(location["range"]!["start"]!["character"]!.GetValue<int>(), Is.EqualTo(Runbook[1].IndexOf("\"disk3\"", StringComparison.Ordinal)));
    }

    [Test, CancelAfter(60_000)]
    public async Task A_loaded_file_resolves_beside_the_script_and_a_missing_one_is_a_diagnostic_on_its_line(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "devices.csx"), "var spare = \"/dev/loop3\";\n", cancellationToken);
        string[] text = ["#load \"devices.csx\"", "#load \"missing.csx\"", "Target(\"disk3\", Lvm.Pv(spare).Evacuate());"];
        var uri = await OpenAsync("loads.csx", text, cancellationToken);

        var diagnostics = await _server.DiagnosticsAsync(uri, cancellationToken);
        var definition = await _server.RequestAsync("textDocument/definition", At(uri, 2, text[2].IndexOf("spare", StringComparison.Ordinal) + 1), cancellationToken);

        Assert.That(diagnostics.Select(d => Range(d!).StartLine), Is.EqualTo(new[] { 1 }), string.Join("; ", diagnostics.Select(d => d!["message"])));
        var location = definition["result"]!.AsArray().Single()!;
        Assert.That(location["uri"]!.GetValue<string>(), Does.EndWith("/devices.csx"));
        Assert.That(location["range"]!["start"]!["line"]!.GetValue<int>(), Is.EqualTo(0));
    }

    [Test, CancelAfter(60_000)]
    public async Task Signature_help_inside_a_call_shows_its_parameters(CancellationToken cancellationToken)
    {
        string[] text = ["Lvm.Pv("];
        var uri = await OpenAsync("signature.csx", text, cancellationToken);

        var help = await _server.RequestAsync("textDocument/signatureHelp", At(uri, 0, text[0].Length), cancellationToken);

        Assert.That(help["result"]!["signatures"]![0]!["label"]!.GetValue<string>(), Does.Contain("Pv(string device)"));
    }

    [Test, CancelAfter(60_000)]
    public async Task Bad_input_gets_json_rpc_errors_and_the_server_keeps_serving(CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes("{not json");
        await _server.SendRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), .. body], cancellationToken);
        var parseError = await _server.UnsolicitedAsync(cancellationToken);
        var unknown = await _server.RequestAsync("textDocument/frobnicate", new JsonObject(), cancellationToken);
        var badParams = await _server.RequestAsync("textDocument/hover", new JsonObject { ["textDocument"] = 3 }, cancellationToken);
        var notOpen = await _server.RequestAsync("textDocument/hover", At("file:///nowhere/never-opened.csx", 0, 0), cancellationToken);

        Assert.That(parseError["error"]!["code"]!.GetValue<int>(), Is.EqualTo(-32700));
        Assert.That(unknown["error"]!["code"]!.GetValue<int>(), Is.EqualTo(-32601));
        Assert.That(badParams["error"]!["code"]!.GetValue<int>(), Is.EqualTo(-32602));
        Assert.That(notOpen.ContainsKey("result") && notOpen["result"] is null, Is.True, notOpen.ToJsonString());
    }

    [Test, CancelAfter(60_000)]
    public async Task A_request_before_initialize_is_refused_and_shutdown_then_exit_ends_with_zero(CancellationToken cancellationToken)
    {
        await using var fresh = LspProcess.Start(_folder);

        var early = await fresh.RequestAsync("textDocument/hover", At("file:///x.csx", 0, 0), cancellationToken);
        await fresh.InitializeAsync(cancellationToken);

        Assert.That(early["error"]!["code"]!.GetValue<int>(), Is.EqualTo(-32002));
        Assert.That(await fresh.ShutdownAsync(cancellationToken), Is.Zero, fresh.Stderr);
    }

    /// <summary><c>FLEET/INCIDENT</c> in the fixture's folder, with a <c>.runbook.json</c> in FLEET naming an inventory of one host, storage1.</summary>
    private async Task<string> FolderBelowAnInventoryAsync(string fleet, string incident, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder, fleet, incident)).FullName;
        await File.WriteAllTextAsync(Path.Combine(_folder, fleet, ".runbook.json"), "{ \"inventory\": \"hosts.inventory\" }", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder, fleet, "hosts.inventory"), "storage1 = ssh://root@10.0.0.5\n", cancellationToken);
        return folder;
    }

    /// <summary>Opens <paramref name="name"/> (in the fixture's folder unless a full path) on the shared server.</summary>
    private async Task<string> OpenAsync(string name, string[] lines, CancellationToken cancellationToken)
    {
        var uri = new Uri(Path.Combine(_folder, name)).AbsoluteUri;
        await _server.NotifyAsync("textDocument/didOpen", new JsonObject
        {
            ["textDocument"] = new JsonObject { ["uri"] = uri, ["languageId"] = "csharp", ["version"] = 1, ["text"] = string.Join('\n', lines) },
        }, cancellationToken);
        return uri;
    }

    private async Task<JsonArray> CompleteAsync(string uri, int line, int character, CancellationToken cancellationToken)
    {
        var reply = await _server.RequestAsync("textDocument/completion", At(uri, line, character), cancellationToken);
        return reply["result"]!["items"]!.AsArray();
    }

    private static JsonObject At(string uri, int line, int character) => new()
    {
        ["textDocument"] = new JsonObject { ["uri"] = uri },
        ["position"] = new JsonObject { ["line"] = line, ["character"] = character },
    };

    private static IEnumerable<string> Labels(JsonArray items) => items.Select(i => i!["label"]!.GetValue<string>());

    private static IEnumerable<string> Codes(JsonArray diagnostics) => diagnostics.Select(d => d!["code"]!.GetValue<string>());

    private static JsonNode Single(JsonArray diagnostics, string code)
    {
        var matching = diagnostics.Where(d => d!["code"]!.GetValue<string>() == code).ToList();
        Assert.That(matching, Has.Count.EqualTo(1), $"{code} in: {diagnostics.ToJsonString()}");
        return matching[0]!;
    }

    private static (int StartLine, int StartCharacter, int EndLine, int EndCharacter) Range(JsonNode diagnostic)
    {
        var range = diagnostic["range"]!;
        return (range["start"]!["line"]!.GetValue<int>(), range["start"]!["character"]!.GetValue<int>(), range["end"]!["line"]!.GetValue<int>(), range["end"]!["character"]!.GetValue<int>());
    }
}
