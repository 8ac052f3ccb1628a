// Role reverse-proxy: the public face of the site. Its config names the app server's upstream port (a parameter
// of the app-server placement on the same machine, read from the constellation), the kernel accepts a deeper
// queue, the firewall lets tcp/80 in, and a small server answers on port 80.
//   runbook plan runbooks/constellation/example.constellation.csx --on @web
#load "serve.csx"

var port = int.Parse(Role.Param("port", "80"));
var app = Constellation.Path is null ? "127.0.0.1:8080" : $"127.0.0.1:{Constellation.MachineWith("app-server").Roles.First(r => r.Role == "app-server").Parameters.GetValueOrDefault("port", "8080")}";
var domain = Role.Param("domain", "example.tld");

Target("default", "the proxy answers on its port and forwards to the app",
    File.Directory("/srv/proxy"),
    File.Directory("/srv/proxy/www"),
    File.Content("/srv/proxy/proxy.conf", $"server_name = www.{domain}\nlisten = 0.0.0.0:{port}\nupstream = {app}\n"),
    File.Content("/srv/proxy/www/index.html", $"www.{domain} via {Role.Machine ?? "this host"}\n"),
    Sysctl.Value("net.core.somaxconn", "1024"),
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(port).Jump("ACCEPT").Present(),
    Serve("the proxy", "/srv/proxy/www", "0.0.0.0", port));

await RunAsync(Args);
