// {{NAME}}: the server stopped answering ping after someone set net.ipv4.icmp_echo_ignore_all by hand.
// Two simulated hosts, "server" and "client", on one link; the break sets the key on the server only, in the
// server's own network namespace, so the machine running this is not touched. Proved by {{NAME}}.csx:
//   runbook harness run {{NAME}}.scenario.csx
// Replace the break and the spec with your incident: the break is a runbook that breaks (same DSL, same
// engine), and every Spec must fail right after it and hold after the repair.

// The server's eth0 address on the link the netns backend creates between "server" and "client".
const string Server = "172.19.0.2";

Netns();
Proves("{{NAME}}.csx");

Target("icmp-ignored", "server ignores ICMP echo (net.ipv4.icmp_echo_ignore_all = 1)",
    Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "1"))
    .On("server");

Spec("client-pings-server", Probe.Ping(Server)).On("client");
