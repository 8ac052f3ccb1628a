// Role metrics: an exporter on tcp/8080. Placed beside app-server (conflict.constellation.csx) it wants the
// app's port, so that constellation is refused before any host is touched.
#load "serve.csx"

Target("default", "the exporter answers on 8080",
    File.Directory("/srv/metrics"),
    Serve("metrics", "/srv/metrics", "127.0.0.1", 8080));

await RunAsync(Args);
