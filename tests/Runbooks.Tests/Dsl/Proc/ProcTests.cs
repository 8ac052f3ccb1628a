using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Proc;

public class ProcTests
{
    [Test]
    public void Deleted_files_skip_memfd_and_keep_real_files_with_sizes()
    {
        var files = ProcParser.ParseDeletedFiles(Fixture.Read("proc/deleted-links.tsv"), Fixture.Read("proc/deleted-sizes.tsv"));

        Assert.That(files.Select(f => (f.Pid, f.Fd, f.Size, f.Path)), Has.Member((25296, 3, 1048576L, "/tmp/rbproc/held")));
        Assert.That(files.Select(f => f.Path), Has.None.StartsWith("/memfd:"));
    }

    [Test]
    public void An_fd_that_closed_between_the_two_reads_is_dropped()
    {
        var files = ProcParser.ParseDeletedFiles(Fixture.Read("proc/deleted-links.tsv"), "/proc/25296/fd/3\t1048576\n");

        Assert.That(files.Select(f => f.Pid), Is.EqualTo(new[] { 25296 }));
    }

    [Test]
    public void Fds_on_device_nodes_are_not_stated_and_not_in_the_fact_a_saved_plan_hashes()
    {
        var links = Fixture.Read("proc/guest-links.tsv");
        // The next SSH session into the guest is another pid on the same deleted console.
        var nextSession = links.Replace("/proc/744/", "/proc/812/", StringComparison.Ordinal);

        Assert.That(ProcParser.DeletedLinkPaths(links), Is.EqualTo(new[] { "/proc/325/fd/3" }));
        Assert.That(ProcParser.DiskLinksView(links), Is.EqualTo("/proc/325/fd/3\t/media/.tempfile (deleted)\n"));
        Assert.That(ProcParser.DiskLinksView(nextSession), Is.EqualTo(ProcParser.DiskLinksView(links)));
        Assert.That(ProcParser.DiskLinksView(Fixture.Read("proc/deleted-links.tsv")), Does.Contain("/tmp/rbproc/held").And.Not.Contain("memfd"));
    }

    [Test]
    public void Stat_gives_parent_and_start_time()
    {
        var stat = ProcParser.ParseStat(Fixture.Read("proc/stat-holder.txt"));

        Assert.That((stat.Pid, stat.Comm, stat.ParentPid, stat.StartTime), Is.EqualTo((6019, "sleep", 6017, 45323L)));
    }

    [TestCase("python3\0/usr/local/bin/server\0", "server", true)]
    [TestCase("/bin/bash\0/usr/local/bin/run.sh\0", "server", false)]
    [TestCase("sh\0-c\0while :; do sleep 600; done\0", "sleep", false)]
    [TestCase("sleep\0600\0", "sleep", true)]
    public void A_program_is_matched_by_its_name_or_its_script(string cmdline, string program, bool matches) =>
        Assert.That(ProcParser.IsProgram(ProcParser.ParseCmdline(cmdline), program), Is.EqualTo(matches));

    [Test]
    public async Task Release_kills_only_the_supervised_holder_not_its_wrapper()
    {
        var probe = await Release().ProbeAsync(Host("proc/stat-holder.txt").Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), string.Join("; ", probe.Unmet));
        Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(new[] { "kill -TERM 6019" }));
        Assert.That(probe.Notes.Single(), Does.Contain("GET http://127.0.0.1:8000/ returns 200"));
    }

    [Test]
    public async Task Release_refuses_a_holder_whose_parent_is_pid_1()
    {
        var orphan = Fixture.Read("proc/stat-holder.txt").Replace(" S 6017 ", " S 1 ", StringComparison.Ordinal);
        var host = Host("proc/stat-holder.txt").On("cat -- /proc/6019/stat", orphan).On("cat -- /proc/1/cmdline", "/sbin/init\0");

        var probe = await Release().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked));
        Assert.That(probe.Unmet.Single(), Does.Contain("pid 6019 ('sleep') has no supervisor").And.Contain("allowWithoutSupervisor"));
    }

    [Test]
    public void Deleted_files_carry_their_link_count_when_stat_printed_it()
    {
        var files = ProcParser.ParseDeletedFiles(Fixture.Read("proc/truncate-links.tsv"), Fixture.Read("proc/truncate-sizes.tsv"));

        Assert.That(files.Select(f => (f.Pid, f.Fd, f.Size, f.Links, f.FdPath)), Is.EqualTo(new[] { (31445, 3, 2097152L, (int?)0, "/proc/31445/fd/3") }));
    }

    [Test]
    public async Task Release_truncates_the_deleted_file_through_the_fd_and_kills_nothing()
    {
        var probe = await Truncate().ProbeAsync(TruncateHost("proc/truncate-sizes.tsv").Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), string.Join("; ", probe.Unmet));
        var command = probe.Commands.Single();
        Assert.That((command.Program, command.Arguments[^1].Reveal()), Is.EqualTo(("sh", "/proc/31445/fd/3")));
        Assert.That(command.Arguments[1].Reveal(), Does.Contain("(deleted)").And.Contain("stat -L -c %h").And.Contain("truncate -s 0"));
        Assert.That(probe.Commands.Select(FakeTransport.Key), Has.None.StartsWith("kill"));
    }

    [Test]
    public void Release_by_truncation_declares_that_it_destroys_the_deleted_contents() =>
        Assert.That(Truncate().Destroys, Does.Contain("contents of deleted files").And.Contain("'sleep'"));

    [Test]
    public async Task Release_is_satisfied_when_the_held_deleted_file_is_empty()
    {
        var probe = await Truncate().ProbeAsync(TruncateHost("proc/truncate-sizes-after.tsv").Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Satisfied));
        Assert.That(probe.Observed, Does.Contain("all empty"));
    }

    [TestCase("1")]
    [TestCase(null)]
    public async Task Release_refuses_to_truncate_a_file_another_name_still_reaches(string? links)
    {
        var sizes = links is null ? "/proc/31445/fd/3\t2097152\n" : $"/proc/31445/fd/3\t2097152\t{links}\n";
        var host = new FakeTransport()
            .On(ProcReads.DeletedLinks, Fixture.Read("proc/truncate-links.tsv"))
            .On(ProcReads.Sizes(["/proc/31445/fd/3"]), sizes)
            .On("cat -- /proc/31445/cmdline", "sleep\u000030\u0000");

        var probe = await Truncate().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked));
        Assert.That(probe.Unmet.Single(), Does.Contain("/proc/31445/fd/3").And.Contain("another name still reaches").And.Contain("DeletedFileRelease.Restart"));
    }

    [Test]
    public async Task Release_by_truncation_leaves_other_programs_files_alone()
    {
        var host = TruncateHost("proc/truncate-sizes.tsv").On("cat -- /proc/31445/cmdline", "python3\u0000/usr/local/bin/other\u0000");

        var probe = await Truncate().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Satisfied));
    }

    private static Step Truncate() => Runbooks.Dsl.Proc.ReleaseDeletedFiles("sleep", Runbooks.Dsl.Http.Get("http://127.0.0.1:8000/").Returns(200));

    private static FakeTransport TruncateHost(string sizes) => new FakeTransport()
        .On(ProcReads.DeletedLinks, Fixture.Read("proc/truncate-links.tsv"))
        .On(ProcReads.Sizes(["/proc/31445/fd/3"]), Fixture.Read(sizes))
        .On("cat -- /proc/31445/cmdline", "sleep\u000030\u0000");

    private static Step Release() => Runbooks.Dsl.Proc.ReleaseDeletedFiles("sleep", Runbooks.Dsl.Http.Get("http://127.0.0.1:8000/").Returns(200), how: DeletedFileRelease.Restart);

    private static FakeTransport Host(string holderStat) => new FakeTransport()
        .On(ProcReads.DeletedLinks, "/proc/6017/fd/3\t/tmp/rb-storage-dsl/tempfile (deleted)\n/proc/6019/fd/3\t/tmp/rb-storage-dsl/tempfile (deleted)\n")
        .On(ProcReads.Sizes(["/proc/6017/fd/3", "/proc/6019/fd/3"]), "/proc/6017/fd/3\t10485760\n/proc/6019/fd/3\t10485760\n")
        .On("cat -- /proc/6019/cmdline", Fixture.Read("proc/cmdline-holder.bin"))
        .On("cat -- /proc/6017/cmdline", Fixture.Read("proc/cmdline-wrapper.bin"))
        .On("cat -- /proc/6019/stat", Fixture.Read(holderStat))
        .On("cat -- /proc/6017/stat", Fixture.Read("proc/stat-wrapper.txt"));
}
