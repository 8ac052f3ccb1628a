// A device name carrying a command: must be refused when the target is defined, never reach a host.
Target("evacuate", Lvm.Pv("/dev/loop1; touch /tmp/rb-hostile/pwned").Create());
await RunAsync(Args);
