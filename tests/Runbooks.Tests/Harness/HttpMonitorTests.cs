using Runbooks.Tests.Support;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

public class FetchScheduleTests
{
    private static readonly (string, string)[] Objects = [("a", "1"), ("b", "2"), ("c", "3")];

    [Test]
    public void Objects_come_in_rotation_while_the_budget_allows()
    {
        var schedule = new FetchSchedule(Objects, bytesPerSecond: 100);
        var names = new List<string>();
        for (var second = 1; second <= 4; second++)
        {
            var next = schedule.Next(TimeSpan.FromSeconds(second))!.Value;
            names.Add(next.Name);
            schedule.Fetched(100);
        }

        Assert.That(names, Is.EqualTo(new[] { "a", "b", "c", "a" }));
        Assert.That(schedule.DistinctObjectsFetched, Is.EqualTo(3));
    }

    [Test]
    public void A_spent_budget_asks_for_the_listing_until_time_catches_up()
    {
        var schedule = new FetchSchedule(Objects, bytesPerSecond: 100);
        Assert.That(schedule.Next(TimeSpan.Zero), Is.Not.Null, "the first tick always fetches an object");
        schedule.Fetched(1000);

        Assert.That(schedule.Next(TimeSpan.FromSeconds(5)), Is.Null);
        Assert.That(schedule.Next(TimeSpan.FromSeconds(10)), Is.Not.Null);
    }
}

/// <summary>The monitor against a real HTTP server on loopback that the test can corrupt and stop.</summary>
[NonParallelizable]
public class HttpMonitorTests : TempFolderTest
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Wrong_bytes_a_missing_object_and_an_outage_are_all_reported(CancellationToken ct)
    {
        var objects = new Dictionary<string, byte[]>
        {
            ["object-1.bin"] = Encoding.ASCII.GetBytes("first"),
            ["object-2.bin"] = Encoding.ASCII.GetBytes("second"),
        };
        var manifest = Path.Combine(Folder, "objects.sha256");
        await System.IO.File.WriteAllLinesAsync(manifest, objects.Select(o => $"{Convert.ToHexStringLower(SHA256.HashData(o.Value))}  {o.Key}"), ct);

        // A budget of 10 bytes/s: both objects are fetched in the first second, the listing in between.
        // The server lies about object-2 and leaves it out of the listing, and answers 503 for a while. The test
        // moves on when the server has seen what it waits for, not after fixed sleeps, and compares the monitor's
        // outage with the one the server served: a loaded machine stretches both alike.
        var down = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var served = new System.Collections.Concurrent.ConcurrentQueue<(string Path, int Status, TimeSpan At)>();
        using var server = new LoopbackServer(request =>
        {
            var name = request.TrimStart('/');
            (int Status, byte[] Body) answer = Volatile.Read(ref down) ? (503, [])
                : name.Length == 0 ? (200, Encoding.ASCII.GetBytes("<a href=\"object-1.bin\">object-1.bin</a>"))
                : (200, name == "object-2.bin" ? Encoding.ASCII.GetBytes("tampered") : objects[name]);
            served.Enqueue((request, answer.Status, clock.Elapsed));
            return answer;
        });
        async Task Until(Func<bool> seen)
        {
            while (!seen())
            {
                await Task.Delay(20, ct);
            }
        }

        await using var transport = new LocalTransport();
        var declared = Monitors.Http("local", server.Address.Port, "/").ContentMatches(manifest, bytesPerSecond: 10);
        await using var monitor = new HttpAvailabilityMonitor(declared, transport, server.Address);
        await monitor.StartAsync(ct);
        await Until(() => served.Any(s => s.Path == "/object-2.bin") && served.Any(s => s.Path == "/"));
        Volatile.Write(ref down, true);
        await Until(() => served.Count(s => s.Status == 503) >= 3 && clock.Elapsed - served.First(s => s.Status == 503).At >= TimeSpan.FromSeconds(0.5));
        Volatile.Write(ref down, false);
        var up = served.Count;
        await Until(() => served.Skip(up).Count(s => s.Status == 200) >= 2);
        var seen = await monitor.StopAsync();

        Assert.That(seen["wrong content"], Does.Contain("object-2.bin"));
        Assert.That(seen["wrong content"], Does.Contain("missing from the listing"));
        Assert.That(int.Parse(seen["failed"]), Is.GreaterThan(0));
        var firstDown = served.First(s => s.Status == 503).At;
        var backUp = served.Skip(up).First(s => s.Status == 200).At;
        var outage = double.Parse(seen["longest outage"].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(outage, Is.EqualTo((backUp - firstDown).TotalSeconds).Within(0.3), $"the server answered 503 from {firstDown} to {backUp}");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Without_a_manifest_every_tick_is_a_plain_get_and_an_error_status_is_a_failure(CancellationToken ct)
    {
        var down = false;
        var paths = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var server = new LoopbackServer(request =>
        {
            paths.Add(request);
            return (Volatile.Read(ref down) ? 500 : 200, Encoding.ASCII.GetBytes("ok"));
        });
        await using var transport = new LocalTransport();
        await using var monitor = new HttpAvailabilityMonitor(Monitors.Http("local", server.Address.Port, "/health").Every(TimeSpan.FromMilliseconds(50)), transport, server.Address);

        await monitor.StartAsync(ct);
        await Task.Delay(300, ct);
        Volatile.Write(ref down, true);
        await Task.Delay(300, ct);
        var seen = await monitor.StopAsync();

        Assert.That(int.Parse(seen["requests"]), Is.GreaterThan(6), "about one request per 50 ms");
        Assert.That(int.Parse(seen["failed"]), Is.GreaterThan(0).And.LessThan(int.Parse(seen["requests"])));
        Assert.That(seen.Keys, Is.EquivalentTo(new[] { "requests", "failed", "longest outage" }), "content figures only when content is checked");
        Assert.That(paths.Distinct(), Is.EqualTo(new[] { "/health" }), "the path as given, nothing appended");
    }

    [Test]
    public async Task A_monitor_on_a_port_the_microvm_does_not_forward_is_rejected_before_anything_boots()
    {
        var path = Path.Combine(Folder, "web.scenario.csx");
        await System.IO.File.WriteAllTextAsync(path, """
            MicroVm().ForwardPort(8000);
            Target("break", File.Directory("/srv/web"));
            Spec("web-dir", File.Exists("/srv/web"));
            Monitor(Monitors.Http("local", 9000, "/"));
            """);

        var error = await Assert.ThrowsAsync<InvalidRunbookException>(() => ScenarioFile.LoadAsync(path, 0.1, cache: null));

        Assert.That(error!.Message, Does.Contain(path).And.Contain("guest port 9000").And.Contain("MicroVm().ForwardPort(9000)"));
    }

    [Test]
    public void A_backend_that_cannot_forward_ports_says_so()
    {
        IHarnessEnvironment environment = new NoPortsEnvironment();

        var error = Assert.Throws<RunbookException>(() => environment.AddressOf("server", 8080));

        Assert.That(error!.Message, Does.Contain("host 'server' port 8080").And.Contain("not supported on this backend yet"));
    }

    private sealed class NoPortsEnvironment : IHarnessEnvironment
    {
        public Inventory Inventory { get; } = Inventory.Local();

        public string HowToReach => "";

        public IReadOnlyDictionary<string, string> Facts => new Dictionary<string, string>();

        public Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

        public ValueTask DisposeAsync() => Inventory.DisposeAsync();
    }

    /// <summary>An HttpListener on a free loopback port answering with a function of the path.</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Func<string, (int Status, byte[] Body)> _answer;

        public LoopbackServer(Func<string, (int Status, byte[] Body)> answer)
        {
            _answer = answer;
            var port = FreePort();
            Address = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Address.ToString());
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public Uri Address { get; }

        public void Dispose() => _listener.Close();

        private static int FreePort()
        {
            using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                var (status, body) = _answer(context.Request.Url!.AbsolutePath);
                context.Response.StatusCode = status;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
    }
}
