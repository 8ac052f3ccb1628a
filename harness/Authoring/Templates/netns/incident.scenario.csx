// {{NAME}}: the server stopped answering ping after someone set net.ipv4.icmp_echo_ignore_all by hand.
// Two simulated hosts, "server" and "client", on one link; the break sets the key on the server only, in the
// server's own network namespace, so the machine running this is not touched. Proved by {{NAME}}.csx:
//   runbook harness run {{NAME}}.scenario.csx
// Replace the break and the spec with your incident: the break is a runbook that breaks (same DSL, same
// engine), and every Spec must fail right after it and hold after the repair.

const string Server = "10.30.0.1";

// Two hosts joined by one link (eth0 on both). Add .Private("/etc/app") to a host for paths the break may write.
var net = Netns();
net.Host("server");
net.Host("client");
net.Link("server", "client", $"{Server}/24", "10.30.0.2/24");
Proves("{{NAME}}.csx");

Target("icmp-ignored", "server ignores ICMP echo (net.ipv4.icmp_echo_ignore_all = 1)",
    Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "1"))
    .On("server");

Spec("client-pings-server", Probe.Ping(Server)).On("client");
