using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Engine;

/// <summary>Several files read in one round trip must answer exactly as <c>cat</c> of each would, through a real shell.</summary>
[Category("process")]
public class FileBatchTests
{
    private string _dir = "";

    [SetUp]
    public void Files()
    {
        _dir = Directory.CreateTempSubdirectory("rb-batch-").FullName;
        System.IO.File.WriteAllText(Path.Combine(_dir, "lines"), "first line\nsecond line\n\n");
        System.IO.File.WriteAllText(Path.Combine(_dir, "cmdline"), "python3\0/usr/local/bin/server\0--port\08000\0");
        System.IO.File.WriteAllText(Path.Combine(_dir, "empty"), "");
    }

    [TearDown]
    public void Remove() => Directory.Delete(_dir, recursive: true);

    [Test, CancelAfter(30_000)]
    public async Task Prefetched_files_answer_like_cat_of_each_and_cost_one_command(CancellationToken ct)
    {
        var paths = new[] { "lines", "cmdline", "empty", "missing" }.Select(n => Path.Combine(_dir, n)).ToList();
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add("local", counting);
        var host = inventory.Context("local");

        await host.PrefetchFilesAsync(paths, ct);
        var batched = new List<CommandResult>();
        foreach (var path in paths)
        {
            batched.Add(await host.TryReadAsync(HostContext.FileRead(path), ct));
        }

        Assert.That(counting.Ran.Count, Is.EqualTo(1), "four files, one round trip");
        var local = new LocalTransport();
        for (var i = 0; i < paths.Count; i++)
        {
            var alone = await local.RunAsync(HostContext.FileRead(paths[i]), ct);
            Assert.That((batched[i].ExitCode, batched[i].StandardOutput), Is.EqualTo((alone.ExitCode, alone.StandardOutput)), paths[i]);
            Assert.That(batched[i].StandardError.Trim(), Is.EqualTo(alone.StandardError.Trim()), paths[i]);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task Files_already_read_this_round_are_not_read_again_and_an_applied_command_ends_the_round(CancellationToken ct)
    {
        var lines = Path.Combine(_dir, "lines");
        var empty = Path.Combine(_dir, "empty");
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add("local", counting);
        var host = inventory.Context("local");

        await host.TryReadAsync(HostContext.FileRead(lines), ct);
        await host.PrefetchFilesAsync([lines, empty], ct);
        Assert.That(counting.Ran.Count, Is.EqualTo(1), "one file left is read when asked for, not as a batch of one");

        await host.ApplyAsync(new Command("truncate", ["-s", "0", "--", lines]), ct);
        var after = await host.TryReadAsync(HostContext.FileRead(lines), ct);
        Assert.That(after.StandardOutput, Is.Empty, "the write ended the round: the file is read again");
    }

    [Test]
    public void Output_that_does_not_fit_the_paths_gives_no_answers_so_each_file_is_read_alone()
    {
        var batch = new CommandResult(0, "0 aGk=\n", "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

        Assert.That(FileBatch.Split(["/a", "/b"], batch), Is.Empty);
    }
}
