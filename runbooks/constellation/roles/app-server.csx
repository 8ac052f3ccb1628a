// Role app-server: the application, behind the proxy on the same machine. Its config points at the database in
// mode primary, found in the constellation (static service discovery); it wants the same accept queue as the
// proxy, which merges.
#load "serve.csx"

var port = int.Parse(Role.Param("port", "8080"));
var database = Constellation.Path is null ? "127.0.0.1" : Constellation.MachineWith("database", ("mode", "primary")).Address;

Target("default", "the app answers on loopback and knows its database",
    File.Directory("/srv/app"),
    File.Directory("/srv/app/www"),
    File.Content("/srv/app/app.conf", $"listen = 127.0.0.1:{port}\ndatabase = {database}:5432\n"),
    File.Content("/srv/app/www/index.html", "app\n"),
    Sysctl.Value("net.core.somaxconn", "1024"),
    Serve("the app", "/srv/app/www", "127.0.0.1", port));

await RunAsync(Args);
