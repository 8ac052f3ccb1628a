// Role database, in mode primary or secondary (a parameter of each placement). A secondary follows the primary,
// whose address it reads from the constellation; both let only the app server's machine reach tcp/5432.
#load "serve.csx"

var mode = Role.Param("mode");
if (mode is not ("primary" or "secondary"))
{
    throw new ArgumentException($"mode '{mode}' is not primary or secondary");
}

var primary = Constellation.MachineWith("database", ("mode", "primary")).Address;
var app = Constellation.MachineWith("app-server").Address;

Target("default", $"the database runs as {mode}",
    File.Directory("/srv/db"),
    File.Directory("/srv/db/www"),
    File.Content("/srv/db/db.conf", mode == "primary" ? "mode = primary\n" : $"mode = secondary\nfollow = {primary}:5432\n"),
    File.Content("/srv/db/www/index.html", $"{mode}\n"),
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(5432).From($"{app}/32").Jump("ACCEPT").Present(),
    Serve("the database", "/srv/db/www", "0.0.0.0", 5432));

await RunAsync(Args);
