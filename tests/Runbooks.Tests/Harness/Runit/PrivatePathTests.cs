using Runbooks.Commands;
using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Scripting;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Runit;

/// <summary><c>Services().Private(…)</c>: which paths a scenario may make private, and that they are.</summary>
public sealed class PrivatePathTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot() => Directory.CreateDirectory(_root = Path.Combine(Path.GetTempPath(), $"rb-private-{Guid.NewGuid():N}"));

    [TearDown]
    public void RemoveRoot() => Directory.Delete(_root, recursive: true);

    [TestCase("etc/app", "not an absolute path")]
    [TestCase("/etc/../app", "'..' segment")]
    [TestCase("/", "whole filesystem")]
    [TestCase("/proc/sys/net", "/proc is the kernel's own filesystem")]
    [TestCase("/sys", "/sys is the kernel's own filesystem")]
    [TestCase("/dev/shm", "/dev is the kernel's own filesystem")]
    [TestCase("/var/log/app", "already private: every host of this backend has its own /var/log")]
    [TestCase("/etc", "holds the host's own programs")]
    [TestCase("/etc/sv/x/..", "'..' segment")]
    public async Task A_path_that_cannot_be_private_is_an_error_at_the_scenario_line(string path, string why)
    {
        var file = Path.Combine(_root, "app.scenario.csx");
        File.WriteAllText(file, $"""
            // a private directory the break may write
            Services().Private("{path}");
            Target("break", File.Directory("/etc/app"));
            Spec("app", File.Exists("/etc/app/app.conf"));
            """);

        var error = await Assert.ThrowsAsync<InvalidRunbookException>(() => ScenarioFile.LoadAsync(file, 0.1, cache: null));

        Assert.That(error!.Message, Does.Contain($"{file}(2,").And.Contain($"Services().Private(\"{path}\")").And.Contain(why));
    }

    [Test]
    public void Overlapping_or_repeated_paths_are_rejected()
    {
        Assert.That(PrivatePath.Problem("/etc/app", ["/etc/app"], RunitBackend.AlwaysPrivate), Is.EqualTo("declared twice"));
        Assert.That(PrivatePath.Problem("/etc/app/conf.d", ["/etc/app"], RunitBackend.AlwaysPrivate), Does.Contain("overlaps /etc/app"));
        Assert.That(PrivatePath.Problem("/etc/app", [], RunitBackend.AlwaysPrivate), Is.Null);
    }

    [Test, Category("harness"), NonParallelizable, CancelAfter(60_000)]
    public async Task A_private_path_is_written_inside_absent_on_the_machine_and_gone_after_destroy(CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("RUNIT HARNESS SKIPPED: creating namespaces needs root; CI runs as root");
        }

        // A name no machine has, so that "absent before" is certain and nothing of the machine's is touched.
        var path = $"/etc/app-{Guid.NewGuid():N}"[..20];
        Assert.That(Directory.Exists(path), Is.False);
        var options = new HarnessOptions($"p{Environment.ProcessId % 1000:000}{Random.Shared.Next(1000):000}", Path.Combine(_root, "work"));
        var environment = await new RunitBackend([path]).CreateAsync(options, cancellationToken);
        try
        {
            var inside = environment.Inventory.Context(RunitBackend.HostName).Transport;
            await inside.RunCheckedAsync(Shell.Script("printf 'listen 127.0.0.1:8080\\n' > \"$1\"", $"{path}/app.conf"), cancellationToken);

            var read = await inside.RunCheckedAsync(new Command("cat", [$"{path}/app.conf"]), cancellationToken);
            Assert.That(read.StandardOutput, Is.EqualTo("listen 127.0.0.1:8080\n"));
            Assert.That(File.Exists($"{path}/app.conf"), Is.False, "the file written inside the host is on the machine's own /etc");
            Assert.That(Directory.Exists(path) ? Directory.EnumerateFileSystemEntries(path) : [], Is.Empty);
        }
        finally
        {
            var leaks = await environment.DestroyAsync(CancellationToken.None);
            await environment.DisposeAsync();
            Assert.That(leaks, Is.Empty);
        }

        Assert.That(Directory.Exists(path), Is.False, "the mountpoint made for the run is still on the machine");
    }
}
