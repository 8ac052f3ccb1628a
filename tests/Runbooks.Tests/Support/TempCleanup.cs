using Runbooks.Tests.Support;

namespace Runbooks.Tests;

/// <summary>
/// In the root test namespace so it runs around every test of the assembly. Removes what CLI runs of this test process left in the temp directory (the host lock folder),
/// and keeps what runs keep for undo on this machine in the temp directory too, not in /var/lib/runbook.
/// </summary>
[SetUpFixture]
public sealed class TempCleanup
{
    public static readonly string UndoDirectory = Path.Combine(Path.GetTempPath(), $"runbooks-test-undo-{Environment.ProcessId}");

    [OneTimeSetUp]
    public void MoveUndoMaterial() => Environment.SetEnvironmentVariable("RUNBOOK_UNDO_DIR", UndoDirectory);

    [OneTimeTearDown]
    public void RemoveTestLock()
    {
        if (Directory.Exists(UndoDirectory))
        {
            Directory.Delete(UndoDirectory, recursive: true);
        }

        var folder = Path.GetDirectoryName(CliRunner.TestLockPath)!;
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
