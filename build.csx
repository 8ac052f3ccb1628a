// The project's own build, as a runbook: runbook run build.csx [build|test|pack]
// Build and test always run (a build is not a state to converge to); each target ensures its output exists.
var configuration = Environment.GetEnvironmentVariable("CONFIGURATION") ?? "Release";
var root = System.IO.Directory.GetCurrentDirectory();
var artifacts = root + "/artifacts";
Command Dotnet(params string[] args) => new Command("dotnet", args.Select(a => (Arg)a)).WithTimeout(TimeSpan.FromMinutes(60));

Target("build", "compile every project",
    Exec("dotnet build", Dotnet("build", root + "/Runbooks.sln", "-c", configuration, "--nologo")).EveryRun())
    .Ensures(File.Exists($"{root}/src/Runbooks.Cli/bin/{configuration}/net10.0/runbook.dll"));

Target("test", "every test tier: pure, process and harness", DependsOn("build"),
    Exec("dotnet test", Dotnet("test", root + "/Runbooks.sln", "-c", configuration, "--no-build", "--logger", "trx;LogFileName=tests.trx", "--results-directory", artifacts + "/test-results")).EveryRun())
    .Ensures(File.Exists(artifacts + "/test-results/tests.trx"));

Target("pack", "the runbook .NET tool package", DependsOn("build"),
    Exec("dotnet pack", Dotnet("pack", root + "/src/Runbooks.Cli", "-c", configuration, "--no-build", "-o", artifacts + "/package")).EveryRun())
    .Ensures(Check.From("a Runbooks.Tool package is in artifacts/package", () => System.IO.Directory.Exists($"{artifacts}/package") && System.IO.Directory.GetFiles($"{artifacts}/package", "Runbooks.Tool.*.nupkg").Length > 0));

Target("default", DependsOn("build", "test"));

await RunAsync(Args);
