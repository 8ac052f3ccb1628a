using System.IO.Compression;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Compiler;

/// <summary>
/// The DSL as the NuGet package <c>Runbooks</c>: packed to a local folder, referenced by a tiny C# project outside the
/// repository, and built with <c>dotnet build</c> — which must report RB001, RB002 and RB004 from the package's analyzer,
/// and build clean once they are fixed. Offline apart from the served feed: the package comes from the local folder,
/// its dependencies from this machine's NuGet cache (used as a folder feed) before the served one.
/// </summary>
[Category("process"), NonParallelizable]
public class RunbooksPackageTests : TempFolderTest
{
    private const string Version = "0.1.0-local";

    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    [Test, CancelAfter(600_000)]
    public void A_project_that_uses_the_package_gets_the_runbook_analyzers_in_dotnet_build()
    {
        var feed = Directory.CreateDirectory(Path.Combine(Folder, "feed")).FullName;
        // --no-build: the solution build made the DSL and analyzer assemblies; a fixed version keeps the packed file predictable.
        var pack = Dotnet(Repository, privatePackages: false, "pack", Path.Combine(Repository, "src", "Runbooks", "Runbooks.csproj"), "-c", "Release", "--no-build", "-o", feed, "-p:RunbooksVersionFromGit=false", $"-p:Version={Version}");
        Assert.That(pack.Exit, Is.Zero, pack.Output);
        var package = Path.Combine(feed, $"Runbooks.{Version}.nupkg");
        using (var archive = ZipFile.OpenRead(package))
        {
            Assert.That(archive.Entries.Select(e => e.FullName), Does.Contain("analyzers/dotnet/cs/Runbooks.Analyzers.dll").And.Contain("lib/net10.0/Runbooks.dll"));
        }

        var project = Directory.CreateDirectory(Path.Combine(Folder, "fleet")).FullName;
        File.WriteAllText(Path.Combine(project, "fleet.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Runbooks" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        var program = Path.Combine(project, "Program.cs");
        File.WriteAllText(program, """
            using Runbooks.Commands;
            using static Runbooks.Runbook;

            var device = args.FirstOrDefault() ?? "loop1";
            Target("show", Exec("show the device", Shell.Script($"lsblk /dev/{device}")));
            Target("grow", DependsOn("shwo"), Exec("grow", new Command("true", [])).Until(Runbooks.Dsl.File.Exists("/tmp/x")));
            await RunAsync(args);
            """);

        var interpolatedAt = File.ReadAllLines(program)[4].IndexOf("$\"", StringComparison.Ordinal) + 1;
        var broken = Dotnet(project, privatePackages: true, "build", "-c", "Release", "--source", feed, "--source", GlobalPackages(), "--source", "https://api.nuget.org/v3/index.json");
        File.WriteAllText(program, """
            using Runbooks.Commands;
            using static Runbooks.Runbook;

            var device = args.FirstOrDefault() ?? "loop1";
            Target("show", Exec("show the device", Shell.Script("lsblk /dev/\"$1\"", device)).Until(Runbooks.Dsl.File.Exists("/tmp/x")));
            Target("grow", DependsOn("show"), Exec("grow", new Command("true", [])).Until(Runbooks.Dsl.File.Exists("/tmp/x")));
            await RunAsync(args);
            """);
        var fixedBuild = Dotnet(project, privatePackages: true, "build", "-c", "Release", "--no-restore");

        Assert.That(broken.Exit, Is.Not.Zero, broken.Output);
        Assert.That(broken.Output, Does.Contain($"Program.cs(5,{interpolatedAt}): error RB002"), broken.Output);
        Assert.That(broken.Output, Does.Contain("warning RB001"), broken.Output);
        Assert.That(broken.Output, Does.Contain("error RB004").And.Contain("'shwo'"), broken.Output);
        Assert.That(fixedBuild.Exit, Is.Zero, fixedBuild.Output);
        Assert.That(fixedBuild.Output, Does.Not.Contain("RB00"));
    }

    private (int Exit, string Output) Dotnet(string workingDirectory, bool privatePackages, params string[] arguments)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1" };
        if (privatePackages)
        {
            // The tiny project restores into its own folder: a package packed again under the same version is never served stale from the cache.
            environment["NUGET_PACKAGES"] = Path.Combine(Folder, "packages");
        }

        return ChildProcess.Run("dotnet", arguments, TimeSpan.FromMinutes(4), workingDirectory, environment);
    }

    private static string GlobalPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom ? custom : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
