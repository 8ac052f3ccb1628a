#r "nuget: Runbooks, 0.1.0"
// One file for `runbook plan banner.csx` and for `dotnet script banner.csx -- plan`: the DSL comes from the
// package, the verbs from the static facade; the alias keeps System.IO.File (dotnet script imports System.IO) away.
using Runbooks.Dsl;
using static Runbooks.Runbook;
using File = Runbooks.Dsl.File;

var banner = Environment.GetEnvironmentVariable("RB_BANNER_PATH") ?? "/etc/motd";
Target("banner", "the maintenance banner is up", File.Line(banner, "maintenance at 02:00", create: true));
Target("announced", DependsOn("banner"), File.Line(banner, "ask #ops before rebooting"));
await RunAsync(Args);
