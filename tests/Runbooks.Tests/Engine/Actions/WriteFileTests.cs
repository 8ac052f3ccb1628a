using Runbooks.Engine;

namespace Runbooks.Tests.Engine.Actions;

/// <summary>The one atomic write, run by the local transport against temp files.</summary>
[Category("process")]
public class WriteFileTests
{
    private string _root = "";

    [SetUp]
    public void Create() => _root = Directory.CreateTempSubdirectory("rb-write-").FullName;

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    [Test, CancelAfter(20_000)]
    public async Task A_file_is_replaced_when_it_is_as_probed_keeping_its_mode(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "fstab");
        System.IO.File.WriteAllText(path, "a ro\n");
        System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        await Inventory.Local().Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken);

        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a rw\n"));
        Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode(path), 8), Is.EqualTo("640"));
        Assert.That(Directory.GetFiles(_root), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    [Test, CancelAfter(20_000)]
    public async Task A_file_edited_after_the_probe_is_refused_and_left_alone(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "fstab");
        System.IO.File.WriteAllText(path, "a ro\nb edited by hand\n");

        var error = await Assert.ThrowsAsync<CommandFailedException>(() =>
            Inventory.Local().Context(Inventory.DefaultHost).RunActionsAsync([WriteFile.Replacing(path, "a ro\n", "a rw\n")], cancellationToken));

        Assert.That(error!.Message, Does.Contain("changed since it was probed; nothing written"));
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("a ro\nb edited by hand\n"));
    }

    [Test, CancelAfter(20_000)]
    public async Task A_new_file_gets_its_mode_and_is_refused_if_it_appeared_meanwhile(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "key");
        var host = Inventory.Local().Context(Inventory.DefaultHost);

        await host.RunActionsAsync([WriteFile.New(path, "k\n", "0600")], cancellationToken);
        var again = await Assert.ThrowsAsync<CommandFailedException>(() => host.RunActionsAsync([WriteFile.New(path, "other\n", "0600")], cancellationToken));

        Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode(path), 8), Is.EqualTo("600"));
        Assert.That(again!.Message, Does.Contain("was created since it was probed"));
        Assert.That(System.IO.File.ReadAllText(path), Is.EqualTo("k\n"));
    }
}
