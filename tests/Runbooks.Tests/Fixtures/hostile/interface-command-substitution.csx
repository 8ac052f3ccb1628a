// An interface name carrying $(…): refused at DSL-call time.
Target("link", Net.Link("wg0$(id)").Up());
await RunAsync(Args);
