using System.Diagnostics;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Dsl.Proc;

/// <summary>find, stat and the command lines of deleted-file holders in one shell, against real processes and /proc.</summary>
[Category("process")]
public class DeletedFilesReadTests : TempFolderTest
{
    private readonly List<Process> _holders = [];

    [TearDown]
    public void StopHolders()
    {
        foreach (var holder in _holders)
        {
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit(5_000);
            holder.Dispose();
        }

        _holders.Clear();
    }

    // A process that writes `bytes` to a file, deletes it and keeps it open as fd 3; the file under /dev/shm (fd 4)
    // lives in memory and is no disk space to free.
    private async Task<int> HoldAsync(string name, int bytes, CancellationToken ct)
    {
        var path = Path.Combine(Folder, name);
        var shm = $"/dev/shm/rb-{Guid.NewGuid():N}";
        var holder = Process.Start(new ProcessStartInfo("sh", ["-c", "exec 3>\"$1\" 4>\"$2\"; head -c \"$3\" /dev/zero >&3; rm -- \"$1\" \"$2\"; echo ready; exec sleep 60", "holder", path, shm, bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        })!;
        _holders.Add(holder);
        Assert.That(await holder.StandardOutput.ReadLineAsync(ct), Is.EqualTo("ready"));
        return holder.Id;
    }

    [Test, CancelAfter(30_000)]
    public async Task Deleted_files_their_sizes_and_their_holders_command_lines_are_one_round_trip_answering_as_each_read_alone(CancellationToken ct)
    {
        var first = await HoldAsync("held log", 4096, ct);
        var second = await HoldAsync("odd\tname (deleted) x", 100, ct);
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add("local", counting);
        var host = inventory.Context("local");

        var files = await ProcReads.DeletedFilesAsync(host, ct);
        await ProcReads.PrefetchCmdlinesAsync(host, files.Select(f => f.Pid).Distinct(), ct);
        var argv = await ProcReads.CmdlineAsync(host, first, ct);

        Assert.That(counting.Ran, Has.Count.EqualTo(1), string.Join(" | ", counting.Ran.Select(c => c.Program)));
        Assert.That(files.Where(f => f.Pid == first || f.Pid == second).Select(f => (f.Pid, f.Fd, f.Size, f.Path, f.Links)), Is.EquivalentTo(new[]
        {
            (first, 3, 4096L, Path.Combine(Folder, "held log"), (int?)0),
            (second, 3, 100L, Path.Combine(Folder, "odd\tname (deleted) x"), (int?)0),
        }), "each holder's file on disk; the /dev/shm ones are not disk space");
        Assert.That(argv, Is.EqualTo(new[] { "sleep", "60" }));

        // Each part as its own command answers it now (the holders sleep, so their lines do not move).
        var local = new LocalTransport();
        var ours = files.Where(f => f.Pid == first || f.Pid == second).Select(f => f.FdPath).ToList();
        var stated = ProcParser.DeletedLinkPaths(await host.FactAsync(ProcReads.DeletedLinkList, ct));
        var batched = await host.TryReadAsync(ProcReads.Sizes(stated), ct);
        var alone = await local.RunAsync(ProcReads.Sizes(ours), ct);
        Assert.That(batched.StandardOutput.Split('\n').Where(l => ours.Any(fd => l.StartsWith(fd + "\t", StringComparison.Ordinal))),
            Is.EqualTo(alone.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        var cmdline = HostContext.FileRead($"/proc/{second}/cmdline");
        Assert.That((await host.TryReadAsync(cmdline, ct)).StandardOutput, Is.EqualTo((await local.RunAsync(cmdline, ct)).StandardOutput));
        Assert.That(counting.Ran, Has.Count.EqualTo(1), "the stat and the command line were answered by the one read");
    }

    [Test]
    public void Output_that_is_not_the_framed_shell_is_not_split()
    {
        Assert.That(DeletedFilesRead.Split(new Runbooks.Commands.CommandResult(0, "/proc/1/fd/3\t/x (deleted)\n", "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)), Is.Null);
    }
}
