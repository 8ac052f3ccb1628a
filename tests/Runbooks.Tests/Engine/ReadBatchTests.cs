using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Engine;

/// <summary>Several reads in one round trip must answer exactly as each would alone, through a real shell.</summary>
[Category("process")]
public class ReadBatchTests : TempFolderTest
{
    [SetUp]
    public void Files()
    {
        System.IO.File.WriteAllText(Path.Combine(Folder, "lines"), "first line\nsecond line\n\n");
        System.IO.File.WriteAllText(Path.Combine(Folder, "cmdline"), "python3\0/usr/local/bin/server\0--port\08000\0");
        System.IO.File.WriteAllText(Path.Combine(Folder, "empty"), "");
    }

    [Test, CancelAfter(30_000)]
    public async Task Prefetched_files_answer_like_cat_of_each_and_cost_one_command(CancellationToken ct)
    {
        var paths = new[] { "lines", "cmdline", "empty", "missing" }.Select(n => Path.Combine(Folder, n)).ToList();
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
        var lines = Path.Combine(Folder, "lines");
        var empty = Path.Combine(Folder, "empty");
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

    [Test, CancelAfter(30_000)]
    public async Task Reads_of_every_shape_answer_in_a_batch_exactly_as_alone(CancellationToken ct)
    {
        var reads = new List<Command>
        {
            new("printf", ["%s|", "it's", "$HOME", "*", "a b", ""]),
            new("printf", ["no newline at the end"]),
            new("cat", ["--", Path.Combine(Folder, "cmdline")]),
            Shell.Script("echo out; echo err >&2; exit 3"),
            Shell.Script("printf '%s' \"$GREETING\"").WithEnvironment("GREETING", "hello 'world' $USER"),
            new("printf", ["%s %s %s %s %s %s %s %s %s %s %s\n", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]),
            new("printf", ["runbooks-read- 0\n\nlooks like a frame\n"]),
            new("no-such-program-here", ["x"]),
            new("cat", ["--", Path.Combine(Folder, "missing")]),
            new("echo", [Secret.Of("s3cret")]),
        };
        reads = [.. reads.Select(r => r.AsReadOnly())];
        var local = new LocalTransport();
        var batch = ReadBatch.Of(reads);

        var result = await local.RunAsync(batch.Read, ct);
        var parts = batch.Split(result)?.ToList();

        Assert.That(parts, Is.Not.Null.And.Count.EqualTo(reads.Count), $"stdout:\n{result.StandardOutput}\nstderr:\n{result.StandardError}");
        for (var i = 0; i < reads.Count; i++)
        {
            var (part, answer) = parts![i];
            Assert.That(part, Is.EqualTo(reads[i]));
            if (reads[i].Program == "no-such-program-here")
            {
                // Here the tool cannot start it at all; over SSH the remote shell answers 127, as the batch's shell does.
                Assert.That((answer.ExitCode, answer.StandardOutput), Is.EqualTo((127, "")));
                Assert.That(answer.StandardError, Does.Contain("not found"));
                continue;
            }

            var alone = await local.RunAsync(reads[i], ct);
            Assert.That((answer.ExitCode, answer.StandardOutput, answer.StandardError), Is.EqualTo((alone.ExitCode, alone.StandardOutput, alone.StandardError)), reads[i].Render());
        }

        Assert.That(batch.Read.Render(), Does.Not.Contain("s3cret"), "a secret argument stays a secret in the batch's rendering");
        Assert.That(batch.Read.Arguments[1].Reveal(), Does.Not.Contain("hello").And.Not.Contain("$HOME"), "values reach the shell as parameters, not as script text");
    }

    [Test, CancelAfter(30_000)]
    public async Task Prefetched_facts_cost_one_command_and_a_combined_one_answers_its_parts(CancellationToken ct)
    {
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add("local", counting);
        var host = inventory.Context("local");
        var part = new Command("echo", ["two"]).AsReadOnly();
        var combined = new CombinedRead(Shell.Script("echo one; echo two"), [part], r => [(part, r with { StandardOutput = r.StandardOutput.Split('\n')[1] + "\n" })]);
        var viaCombined = new Fact<string>(part, r => r.StandardOutput.Trim()) { Via = combined };
        var plain = new Fact<string>(new Command("echo", ["three"]), r => r.StandardOutput.Trim());

        await host.PrefetchAsync([viaCombined, plain, plain], ct);
        var answers = (await host.FactAsync(viaCombined, ct), await host.FactAsync(plain, ct));

        Assert.That(answers, Is.EqualTo(("two", "three")));
        Assert.That(counting.Ran, Has.Count.EqualTo(1), "two facts, one through a combined read, in one round trip");
        await host.PrefetchAsync([viaCombined, plain], ct);
        Assert.That(counting.Ran, Has.Count.EqualTo(1), "facts read this round are not read again");
    }

    [Test]
    public void A_read_with_stdin_or_an_environment_name_the_shell_cannot_assign_is_not_batched()
    {
        Assert.That(ReadBatch.Fits(new Command("cat", []).WithStdin("x")), Is.False);
        Assert.That(ReadBatch.Fits(new Command("env", []).WithEnvironment("odd-name", "x")), Is.False);
        Assert.That(ReadBatch.Fits(new Command("env", []).WithEnvironment("LANG", "C")), Is.True);
    }

    [Test]
    public void Output_that_does_not_fit_the_framing_gives_no_answers_so_each_read_is_made_alone()
    {
        var reads = new[] { new Command("true", []), new Command("false", []) };
        var batch = new CommandResult(0, "garbage\n", "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

        Assert.That(ReadBatch.Split(reads, batch), Is.Null);
    }

    [Test, CancelAfter(30_000)]
    public async Task A_batch_whose_round_ended_while_it_ran_files_none_of_its_answers(CancellationToken ct)
    {
        var paths = new[] { "lines", "cmdline" }.Select(n => Path.Combine(Folder, n)).ToList();
        HostContext? host = null;
        // Another host's apply ends every host's round while this batch is on the wire (a --parallel run).
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        counting.When(c => c.Program == "sh", c =>
        {
            var answer = new LocalTransport().RunAsync(c, ct).GetAwaiter().GetResult();
            host!.InvalidateFacts();
            return answer;
        });
        await using var inventory = new Inventory().Add("local", counting);
        host = inventory.Context("local");

        await host.PrefetchFilesAsync(paths, ct);
        var read = await host.TryReadAsync(HostContext.FileRead(paths[0]), ct);

        Assert.That(read.StandardOutput, Is.EqualTo("first line\nsecond line\n\n"));
        Assert.That(counting.Ran.Select(c => c.Program), Is.EqualTo(new[] { "sh", "cat" }), "the file is read again in the new round, not answered from before it");
    }

    [Test, CancelAfter(30_000)]
    public async Task A_read_that_hangs_costs_the_batch_at_most_twice_the_longest_single_timeout_and_each_fact_is_then_read_alone(CancellationToken ct)
    {
        var hangs = new Fact<string>(new Command("sleep", ["60"]).WithTimeout(TimeSpan.FromSeconds(1)), r => r.StandardOutput);
        var others = Enumerable.Range(0, 5).Select(i => new Fact<string>(new Command("echo", [$"{i}"]).WithTimeout(TimeSpan.FromSeconds(1)), r => r.StandardOutput)).ToList();
        Assert.That(ReadBatch.Of([hangs.Read, .. others.Select(o => o.Read)]).Read.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)),
            "six reads of 1 s each: twice the longest of their timeouts, not their sum");
        var half = new Command("echo", ["half"]).WithTimeout(TimeSpan.FromMilliseconds(500));
        Assert.That(ReadBatch.Of([hangs.Read, half]).Read.Timeout, Is.EqualTo(TimeSpan.FromMilliseconds(1500)), "their sum when that is less");

        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add("local", counting);
        var host = inventory.Context("local");
        await host.PrefetchAsync([hangs, .. others], ct);
        var first = await host.FactAsync(others[0], ct);

        Assert.That(first, Is.EqualTo("0\n"));
        Assert.That(counting.Ran.Select(c => c.Program), Is.EqualTo(new[] { "sh", "echo" }), "the batch ran out of time; the fact asked for is read alone");
    }
}
