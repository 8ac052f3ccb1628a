using Runbooks.Tests.Support;
using Runbooks.Engine;

namespace Runbooks.Tests.Engine.Actions;

/// <summary>The one atomic write, run by the local transport against temp files.</summary>
[Category("process")]
public class WriteFileTests : TempFolderTest
{
    [Test, CancelAfter(20_000)]
    public async Task A_file_is_replaced_when_it_is_as_probed_keeping_its_mode(CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, "fstab");
        System.IO.File.WriteAllText(path, "a ro\n");
        System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        await Inventory.Local().Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken);

        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a rw\n"));
        Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode(path), 8), Is.EqualTo("640"));
        Assert.That(Directory.GetFiles(Folder), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_file_edited_after_the_probe_is_refused_and_left_alone(CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, "fstab");
        System.IO.File.WriteAllText(path, "a ro\nb edited by hand\n");

        var error = await Assert.ThrowsAsync<CommandFailedException>(() =>
            Inventory.Local().Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken));

        Assert.That(error!.Message, Does.Contain("changed since it was probed; nothing written"));
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a ro\nb edited by hand\n"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_new_file_gets_its_mode_and_is_refused_if_it_appeared_meanwhile(CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, "key");
        var host = Inventory.Local().Context(Inventory.DefaultHost);

        await host.RunActionsAsync([WriteFile.New(path, "k\n", "0600")], cancellationToken);
        var again = await Assert.ThrowsAsync<CommandFailedException>(() => host.RunActionsAsync([WriteFile.New(path, "other\n", "0600")], cancellationToken));

        Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode(path), 8), Is.EqualTo("600"));
        Assert.That(again!.Message, Does.Contain("was created since it was probed"));
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("k\n"));
    }

    [Test, CancelAfter(20_000)]
    public async Task The_write_keeps_the_old_file_for_undo_and_reports_the_hash_it_left_in_one_command(CancellationToken cancellationToken)
    {
        var path = FileWith("fstab", "a ro\n");
        var (inventory, applied) = RunWithUndo();
        await using var _ = inventory;

        await inventory.Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken);

        Assert.That(applied.Commands, Has.Count.EqualTo(1), "the copy for undo, the write and the hash after it are one command");
        Assert.That(System.IO.File.ReadAllText(Path.Combine(Keep, WriteFile.Sha256("a ro\n"))), Is.EqualTo("a ro\n"), "the old file, named by its hash");
        Assert.That(Directory.GetFiles(Keep), Has.Length.EqualTo(1), "no temporary copy left beside it");
        Assert.That((applied.Before, applied.Left), Is.EqualTo((WriteFile.Sha256("a ro\n"), await Sha256SumAsync(path, cancellationToken))));

        // The inverse undo runs puts the kept copy back.
        var restore = applied.Reversal!.Inverse.Single();
        await inventory.Context(Inventory.DefaultHost).ApplyAsync(restore, cancellationToken);
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a ro\n"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_file_edited_after_the_probe_is_refused_and_nothing_is_kept_for_undo(CancellationToken cancellationToken)
    {
        var path = FileWith("fstab", "a ro\nb edited by hand\n");
        var (inventory, applied) = RunWithUndo();
        await using var _ = inventory;

        var error = await Assert.ThrowsAsync<CommandFailedException>(() =>
            inventory.Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken));

        Assert.That(error!.Message, Does.Contain("changed since it was probed; nothing written"));
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a ro\nb edited by hand\n"));
        Assert.That(Directory.GetFiles(Keep), Is.Empty, "the edited file is not kept under the hash of the one probed");
        Assert.That(applied.Reversal, Is.Null, "a refused write journals no applied action");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_new_file_journals_absent_before_and_its_hash_after_without_reading_either(CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, "motd");
        var (inventory, applied) = RunWithUndo();
        await using var _ = inventory;

        await inventory.Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.New(path, "hello\n", "0644")], cancellationToken);

        Assert.That(applied.Commands, Has.Count.EqualTo(1));
        Assert.That((applied.Before, applied.Left), Is.EqualTo(("absent", await Sha256SumAsync(path, cancellationToken))));
    }

    private string Keep => Path.Combine(Folder, "undo", "run");

    private string FileWith(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    // The local host as a run binds it: with a directory for undo's copies, every applied action recorded.
    private (Inventory Inventory, Applied Applied) RunWithUndo()
    {
        var applied = new Applied();
        var inventory = Inventory.Local();
        inventory.Bind(applied, planOnly: false, Keep);
        return (inventory, applied);
    }

    private static async Task<string> Sha256SumAsync(string path, CancellationToken cancellationToken) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await System.IO.File.ReadAllBytesAsync(path, cancellationToken)));

    private sealed class Applied : RunObserver
    {
        public List<Runbooks.Commands.Command> Commands { get; } = [];

        public Reversal? Reversal { get; private set; }

        public string? Before { get; private set; }

        public string? Left { get; private set; }

        public override void CommandRan(string host, Runbooks.Commands.Command command, Runbooks.Commands.CommandResult result) => Commands.Add(command);

        public override void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left) => (Reversal, Before, Left) = (reversal, before, left);
    }
}
