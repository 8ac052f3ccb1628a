using Runbooks.Dsl;
using System.Diagnostics;

namespace Runbooks.Tests.Dsl.Autogrow;

/// <summary>Runs the generated daemon for real under sh, with df, vgs, findmnt, lvextend and resize2fs replaced by fakes on PATH.</summary>
[Category("process")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class AutogrowDaemonTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Directory.CreateTempSubdirectory("autogrow-test-").FullName;
        foreach (var dir in new[] { "usr/local/sbin", "var/log", "run", "bin" })
        {
            Directory.CreateDirectory(Path.Combine(_root, dir));
        }
    }

    [TearDown]
    public void RemoveRoot() => Directory.Delete(_root, recursive: true);

    // ext4: lvextend then resize2fs on the LV; any other type (xfs here): lvextend --resizefs.
    [TestCase("ext4", "-L +100b -- vg0/data0", "-l +100%FREE -- vg0/data0", "resize2fs -- /dev/vg0/data0")]
    [TestCase("xfs", "--resizefs -L +100b -- vg0/data0", "--resizefs -l +100%FREE -- vg0/data0", null)]
    [CancelAfter(20_000)]
    public async Task The_daemon_grows_by_its_step_then_takes_the_rest_then_stops_cleanly_when_the_vg_is_full(
        string fstype, string stepCall, string restCall, string? resizeCall, CancellationToken cancellationToken)
    {
        var settings = new AutogrowSettings("test", "/data", "vg0", "data0", 90, 100, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2)) { Root = _root };
        var bin = Path.Combine(_root, "bin");
        // Usage stays at 95% (and still: no fill rate) so every pass wants one step; the VG starts with 250 bytes free.
        Fake(bin, "df", "printf 'Used Avail Size\\n950 50 1000\\n'");
        System.IO.File.WriteAllText(Path.Combine(_root, "free"), "250\n");
        Fake(bin, "vgs", $"cat '{_root}/free'");
        Fake(bin, "findmnt", $"echo {fstype}");
        Fake(bin, "resize2fs", $"echo \"resize2fs $*\" >> '{_root}/calls'");
        Fake(bin, "lvextend", $$"""
            echo "$*" >> '{{_root}}/calls'
            free=$(cat '{{_root}}/free')
            case "$*" in *100%FREE*) free=0 ;; *) free=$((free - 100)) ;; esac
            echo "$free" > '{{_root}}/free'
            """);
        System.IO.File.WriteAllText(settings.ScriptPath, AutogrowScript.Daemon(settings));

        var start = new ProcessStartInfo("sh", [settings.ScriptPath]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["PATH"] = $"{bin}:/usr/bin:/bin";
        using var process = Process.Start(start)!;
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        var calls = System.IO.File.ReadAllLines(Path.Combine(_root, "calls"));
        var log = System.IO.File.ReadAllText(settings.LogPath);
        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.Zero, log + process.StandardError.ReadToEnd());
            Assert.That(calls, Is.EqualTo(resizeCall is null
                ? new[] { stepCall, stepCall, restCall }
                : new[] { stepCall, resizeCall, stepCall, resizeCall, restCall, resizeCall }));
            Assert.That(log, Does.Contain("stopping: /data is 95% used, 0.0 MiB free, filling at 0.0 MiB/s and vg0 has no free extents"));
            Assert.That(System.IO.File.Exists(settings.StoppedFile), Is.True);
        });
    }

    [Test]
    public void Values_are_single_quoted_so_the_shell_never_parses_them()
    {
        var settings = new AutogrowSettings("x", "/data/it's $(here)", "vg0", "data0", 90, 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        var script = AutogrowScript.Daemon(settings);

        Assert.That(script, Does.Contain("MOUNT='/data/it'\\''s $(here)'"));
    }

    private static void Fake(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        System.IO.File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
