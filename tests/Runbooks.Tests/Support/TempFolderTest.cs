namespace Runbooks.Tests.Support;

/// <summary>A test class whose every test gets a folder of its own: made before the test, removed with all it holds after it.</summary>
public abstract class TempFolderTest
{
    /// <summary>The current test's folder.</summary>
    protected string Folder { get; private set; } = "";

    [SetUp]
    public void MakeFolder() => Folder = Directory.CreateTempSubdirectory($"rb-{GetType().Name}-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(Folder, recursive: true);
}
