// The fleet benchmark's role: the same four operations as playbook.yml, on a machine whose /srv is its own.
Target("default", "the four bench settings",
    File.Content("/srv/motd", "managed by the fleet bench\n"),
    Sysctl.Value("net.core.somaxconn", "1024"),
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("ACCEPT").Present(),
    File.Line("/srv/app.ini", "workers = 4", create: true));

await RunAsync(Args);
