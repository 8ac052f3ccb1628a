using Runbooks.Commands;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness.Netns;

/// <summary>
/// Two runs of one scenario at once (two CI jobs on one machine) share a mount point the machine did not have: the
/// first to finish must not take it from the other, and the last removes it.
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class SharedMountpointTests
{
    [Test, CancelAfter(90_000)]
    public async Task A_run_that_ends_first_leaves_the_other_runs_private_path_mounted_and_the_last_removes_it(CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("SHARED MOUNTPOINT NOT RUN: namespaces need root; CI runs as root");
        }

        var path = $"/srv/rb-shared-{Guid.NewGuid():N}"[..24];
        var dir = Directory.CreateTempSubdirectory("rb-shared-").FullName;
        var file = Path.Combine(dir, "shared.scenario.csx");
        System.IO.File.WriteAllText(file, $$"""
            Netns().Host("web").Private("{{path}}");
            Target("mark", File.Content("{{path}}/mark", "mine\n")).On("web");
            Spec("marked", File.Exists("{{path}}/mark")).On("web").NotBroken();
            """);
        var scenario = await ScenarioFile.LoadAsync(file, 0.1, cache: null);
        var first = await scenario.CreateBackend().CreateAsync(new HarnessOptions("shareda1", Path.Combine(dir, "a")), cancellationToken);
        var second = await scenario.CreateBackend().CreateAsync(new HarnessOptions("sharedb2", Path.Combine(dir, "b")), cancellationToken);
        try
        {
            await second.Inventory.Context("web").Transport.RunCheckedAsync(Shell.Script("echo b > \"$1/mark\"", path), cancellationToken);

            Assert.That(await first.DestroyAsync(cancellationToken), Is.Empty);
            var stillThere = await second.Inventory.Context("web").Transport.RunAsync(new Command("cat", [$"{path}/mark"]), cancellationToken);

            Assert.That(stillThere.StandardOutput.Trim(), Is.EqualTo("b"), "the first run's destroy took the second run's private copy away");
            Assert.That(Directory.Exists(path), Is.True, "the mount point is removed while a run still uses it");
        }
        finally
        {
            Assert.That(await second.DestroyAsync(CancellationToken.None), Is.Empty);
            Directory.Delete(dir, recursive: true);
        }

        Assert.That(Directory.Exists(path), Is.False, "the last run leaves no mount point behind");
    }
}
