using System.IO;
Target("motd", File.Content("/tmp/rb-motd", "hello\n"));
await RunAsync(Args);
