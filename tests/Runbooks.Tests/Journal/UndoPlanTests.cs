using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Journal;

/// <summary>
/// Undo read back from a journal the engine wrote: the newest change first, what cannot be undone named with its
/// reason, and each inverse run only while the host is as the run left it.
/// </summary>
public class UndoPlanTests
{
    private static readonly Command SysctlRead = new Command("sysctl", ["-n", "net.ipv4.ip_forward"]).AsReadOnly();
    private string _journal = "";

    [SetUp]
    public void RecordRun()
    {
        _journal = Path.Combine(Path.GetTempPath(), $"rb-undo-plan-{Guid.NewGuid():N}.jsonl");
        var target = new Target("router", "forwarding on, disk grown", [], []);
        using var writer = new JournalWriter(_journal, new RunMetadata("router.csx", "", new Dictionary<string, string> { ["local"] = "local" }, [], "test", "0"));
        writer.RunStarted(RunMode.Run, [target]);
        writer.StepStarted(target, 0, new FlagStep("forwarding"));
        writer.ActionApplied("local", new RunCommand(new Command("sysctl", ["-w", "net.ipv4.ip_forward=1"])),
            Reversal.By("sysctl net.ipv4.ip_forward back to 0", SysctlRead, new Command("sysctl", ["-w", "net.ipv4.ip_forward=0"])), "0", "1");
        writer.StepStarted(target, 1, new FlagStep("grow"));
        writer.ActionApplied("local", new RunCommand(new Command("lvextend", ["-L", "4g", "vg0/data0"])), Reversal.Cannot("LV vg0/data0 grew"), null, null);
        writer.ActionApplied("local", new RunCommand(new Command("ping", ["-c", "1", "10.0.0.1"])), Reversal.Nothing, null, null);
    }

    [TearDown]
    public void RemoveJournal() => File.Delete(_journal);

    [Test]
    public void What_cannot_be_undone_is_named_with_its_reason_and_what_leaves_nothing_is_not_listed()
    {
        var undo = UndoPlan.FromJournal(_journal);

        Assert.That(undo.CannotUndo, Is.EqualTo(new[] { "on host local, target router step 2: `$ lvextend -L 4g vg0/data0` — LV vg0/data0 grew" }));
        Assert.That(undo.Targets.Single().Name, Is.EqualTo("undo-router"));
        Assert.That(undo.Targets.Single().Steps.Select(s => s.Description), Is.EqualTo(new[] { "sysctl net.ipv4.ip_forward back to 0 (undoes target router step 1: `$ sysctl -w net.ipv4.ip_forward=1`)" }));
    }

    [TestCase("1", "WillChange")]
    [TestCase("0", "Satisfied")]
    [TestCase("2", "Blocked")]
    public async Task An_inverse_runs_only_while_the_host_is_as_the_run_left_it(string now, string decision)
    {
        var step = UndoPlan.FromJournal(_journal).Targets.Single().Steps.Single();
        var host = new FakeTransport().On(SysctlRead, now + "\n");

        var probe = await step.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision.ToString(), Is.EqualTo(decision));
        Assert.That(probe.Actions.Select(a => a.Summary), Is.EqualTo(decision == "WillChange" ? new[] { "$ sysctl -w net.ipv4.ip_forward=0" } : []));
        if (decision == "Blocked")
        {
            Assert.That(probe.Unmet.Single(), Does.Contain("it changed since the run: `sysctl -n net.ipv4.ip_forward` answered '1' when the run left it and answers '2' now"));
        }
    }

    [Test]
    public void A_journal_without_applied_actions_is_refused_saying_why()
    {
        var empty = Path.Combine(Path.GetTempPath(), $"rb-undo-empty-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(empty, "{\"event\":\"run-start\",\"mode\":\"plan\"}\n");
        try
        {
            Assert.That(() => UndoPlan.FromJournal(empty), Throws.TypeOf<InvalidRunbookException>().With.Message.Contains("records no applied action"));
        }
        finally
        {
            File.Delete(empty);
        }
    }

    [Test]
    public void A_reversal_script_quotes_every_word_so_the_host_runs_exactly_the_argv()
    {
        var script = Reversal.Script([new Command("iptables", ["-A", "INPUT", "-m", "comment", "--comment", "it's a rule", "-j", "DROP"])]);

        Assert.That(script, Is.EqualTo("iptables -A INPUT -m comment --comment 'it'\\''s a rule' -j DROP\n"));
    }
}

/// <summary>
/// Undo of the storage converge, from the journal of a real run in the microVM: the LV that grew and the PV that
/// was recreated are named as what cannot be undone; the fstab edit, the remount and the files written are undone.
/// </summary>
public class StorageUndoTests
{
    private static string Journal => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "journal", "storage-converge.jsonl");

    [Test]
    public void The_grown_lv_and_the_recreated_pv_are_named_and_the_rest_is_undone_newest_first()
    {
        var undo = UndoPlan.FromJournal(Journal);

        Assert.That(undo.CannotUndo, Has.Some.Contains("target data0-4g step 1: `$ LVM_SUPPRESS_FD_WARNINGS=1 lvextend").And.Contains("LV vg0/data0 grew"));
        Assert.That(undo.CannotUndo, Has.Some.Contains("target rebuild-loop1 step 1: `$ LVM_SUPPRESS_FD_WARNINGS=1 pvremove -- /dev/loop1` — /dev/loop1 was recreated as a PV"));
        Assert.That(undo.CannotUndo, Has.Some.Contains("target release-deleted step 1"), "truncated deleted files are gone");
        Assert.That(undo.Targets.Select(t => t.Name), Is.EqualTo(new[] { "undo-autogrow", "undo-data-writable" }));
        Assert.That(undo.Targets[1].Steps.Select(s => s.Description), Is.EqualTo(new[]
        {
            "write /etc/fstab back as it was (sha256 3ba91b11c678…, kept in /var/lib/runbook/undo/converge/3ba91b11c678a959d4e81f714ece7b9ec26f58d507cf27f045944a4dea21363d) (undoes target data-writable step 2: `write /etc/fstab`)",
            "/data remounted read-only again (undoes target data-writable step 1: `$ mount -o remount,rw -- /data`)",
        }));
    }

    [Test]
    public async Task The_fstab_goes_back_from_the_copy_kept_on_the_host_only_while_it_is_as_the_run_left_it()
    {
        var step = UndoPlan.FromJournal(Journal).Targets[1].Steps[0];
        var read = Shell.Script("if [ -e \"$1\" ]; then sha256sum < \"$1\" | cut -d' ' -f1; else echo absent; fi", "/etc/fstab").AsReadOnly();
        var host = new FakeTransport().On(read, "6a29c8c4f4f18b40d1165dbdb2399d5e3c53f74968b29e7c03b1e39bdebca7fe\n");

        var probe = await step.ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange));
        var restore = probe.Commands.Single();
        Assert.That(restore.Arguments.Select(a => a.Reveal()).TakeLast(4), Is.EqualTo(new[]
        {
            "/etc/fstab", "6a29c8c4f4f18b40d1165dbdb2399d5e3c53f74968b29e7c03b1e39bdebca7fe", "",
            "/var/lib/runbook/undo/converge/3ba91b11c678a959d4e81f714ece7b9ec26f58d507cf27f045944a4dea21363d",
        }), "the atomic write, from the kept copy, refusing a file changed since");
    }
}
