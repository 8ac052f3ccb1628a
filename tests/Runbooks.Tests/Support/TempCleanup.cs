using Runbooks.Tests.Support;

namespace Runbooks.Tests;

/// <summary>
/// In the root test namespace so it runs after every test of the assembly. Removes what CLI runs of this test process left in the temp directory (the host lock folder).
/// </summary>
[SetUpFixture]
public sealed class TempCleanup
{
    [OneTimeTearDown]
    public void RemoveTestLock()
    {
        var folder = Path.GetDirectoryName(CliRunner.TestLockPath)!;
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
