using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Scenarios;

/// <summary>Availability monitors a scenario watches its services with during converge (<c>Monitor(Monitors.Http(…))</c>).</summary>
public static class Monitors
{
    /// <summary>
    /// Polls a guest's HTTP service from the machine running the harness, through the backend's forwarded port
    /// (<c>MicroVm().ForwardPort(…)</c>). Every tick is one request; an outage runs from the first failed request to the
    /// next good one. Figures: requests, failed, longest outage (and, with <see cref="HttpMonitor.ContentMatches"/>,
    /// objects checked in full and wrong content).
    /// </summary>
    /// <example><c>Monitor(Monitors.Http("local", 8000, "/").Every(TimeSpan.FromMilliseconds(100)));</c></example>
    public static HttpMonitor Http(string host, int guestPort, string path = "/")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        if (guestPort is < 1 or > 65535)
        {
            throw new InvalidRunbookException($"Monitors.Http(\"{host}\", {guestPort}, …): not a TCP port");
        }

        if (!path.StartsWith('/'))
        {
            throw new InvalidRunbookException($"Monitors.Http(\"{host}\", {guestPort}, \"{path}\"): the path starts with '/', e.g. \"/\" or \"/objects/\"");
        }

        return new HttpMonitor(host, guestPort, path, TimeSpan.FromMilliseconds(100), null, 0);
    }
}

/// <summary>An HTTP availability monitor, refined fluently; every refinement returns a new value.</summary>
public sealed class HttpMonitor : ScenarioMonitor
{
    internal HttpMonitor(string host, int guestPort, string path, TimeSpan interval, string? manifest, long bytesPerSecond)
    {
        Host = host;
        GuestPort = guestPort;
        Path = path;
        Interval = interval;
        Manifest = manifest;
        BytesPerSecond = bytesPerSecond;
    }

    public override string Host { get; }

    /// <summary>The service's port inside the host; the backend forwards it.</summary>
    public int GuestPort { get; }

    /// <summary>The path polled; with a <see cref="Manifest"/>, the listing whose objects are fetched relative to it.</summary>
    public string Path { get; }

    /// <summary>Time from one request's start to the next (default 100 ms): an outage is timed to one interval.</summary>
    public TimeSpan Interval { get; }

    /// <summary>sha256sum output on the host naming the objects under <see cref="Path"/>; null when content is not checked.</summary>
    public string? Manifest { get; }

    /// <summary>Budget for whole-object fetches, bytes per second of converge.</summary>
    public long BytesPerSecond { get; }

    /// <summary>Polls at this interval instead of every 100 ms.</summary>
    /// <example><c>Monitors.Http("local", 8000, "/").Every(TimeSpan.FromMilliseconds(250))</c></example>
    public HttpMonitor Every(TimeSpan interval)
    {
        if (interval < TimeSpan.FromMilliseconds(10) || interval > TimeSpan.FromMinutes(1))
        {
            throw new InvalidRunbookException($"Monitors.Http(…).Every({interval.TotalMilliseconds} ms): give between 10 ms and 1 minute");
        }

        return new(Host, GuestPort, Path, interval, Manifest, BytesPerSecond);
    }

    /// <summary>
    /// Checks content against <paramref name="manifest"/>, sha256sum output on the host (read once, when converge starts).
    /// A tick fetches one whole object in rotation and compares its sha256 while the bytes fetched stay within
    /// <paramref name="bytesPerSecond"/>; the other ticks fetch the listing at the path, which must link every object
    /// (<c>href="NAME"</c>). Whole objects back to back can keep a slow guest busy enough to distort what it watches.
    /// </summary>
    /// <example><c>Monitors.Http("local", 8000, "/").ContentMatches("/var/lib/app/objects.sha256", bytesPerSecond: 2 &lt;&lt; 20)</c></example>
    public HttpMonitor ContentMatches(string manifest, long bytesPerSecond = 2 * 1024 * 1024)
    {
        if (!manifest.StartsWith('/'))
        {
            throw new InvalidRunbookException($"Monitors.Http(…).ContentMatches(\"{manifest}\"): give the manifest's absolute path on host '{Host}'");
        }

        if (bytesPerSecond <= 0)
        {
            throw new InvalidRunbookException($"Monitors.Http(…).ContentMatches(…, bytesPerSecond: {bytesPerSecond}): give a budget above 0");
        }

        return new(Host, GuestPort, Path, Interval, manifest, bytesPerSecond);
    }

    internal override IEnumerable<string> Problems(BackendDeclaration backend) =>
        backend.ReachProblem(Host, GuestPort) is { } problem ? [problem] : [];

    internal override IConvergeMonitor Create(IHarnessEnvironment environment, HarnessOptions options) =>
        new HttpAvailabilityMonitor(this, environment.Inventory.Context(Host).Transport, environment.AddressOf(Host, GuestPort));
}

/// <summary>
/// Decides what an HTTP monitor with a manifest asks for on each tick: a whole object while the bytes fetched so far
/// stay within a budget per second, otherwise the listing, so every tick still sends a request.
/// </summary>
internal sealed class FetchSchedule
{
    private readonly IReadOnlyList<(string Name, string Sha)> _objects;
    private readonly long _bytesPerSecond;
    private int _next;

    public FetchSchedule(IReadOnlyList<(string Name, string Sha)> objects, long bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfZero(objects.Count, nameof(objects));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _objects = objects;
        _bytesPerSecond = bytesPerSecond;
    }

    public long BytesFetched { get; private set; }

    public int ObjectsFetched { get; private set; }

    public int DistinctObjectsFetched => Math.Min(ObjectsFetched, _objects.Count);

    /// <summary>The next object to fetch in full, in rotation, or null when the budget for <paramref name="elapsed"/> is spent.</summary>
    public (string Name, string Sha)? Next(TimeSpan elapsed)
    {
        // The first object is always fetched at once: a broken service shows up on the first tick.
        if (ObjectsFetched > 0 && BytesFetched > elapsed.TotalSeconds * _bytesPerSecond)
        {
            return null;
        }

        return _objects[_next++ % _objects.Count];
    }

    public void Fetched(long bytes)
    {
        BytesFetched += bytes;
        ObjectsFetched++;
    }
}

/// <summary>The running HTTP monitor: polls from the harness machine while the runbook converges.</summary>
internal sealed class HttpAvailabilityMonitor : IConvergeMonitor
{
    private readonly HttpMonitor _declared;
    private readonly ITransport _host;
    private readonly Uri _service;
    private readonly Uri _objects;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _wrongContent = [];
    private readonly List<MonitorSample> _samples = [];
    private FetchSchedule? _schedule;
    private Task? _loop;
    private int _requests;
    private int _failed;
    private TimeSpan _longestOutage;

    /// <param name="host">Where the manifest is read from.</param>
    /// <param name="service">The service's address as the harness machine reaches it, e.g. http://127.0.0.1:41941/.</param>
    public HttpAvailabilityMonitor(HttpMonitor declared, ITransport host, Uri service)
    {
        _declared = declared;
        _host = host;
        _service = new Uri(service, declared.Path);
        _objects = new Uri(service, declared.Path.EndsWith('/') ? declared.Path : declared.Path + "/");
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        List<(string Name, string Sha)> expected = [];
        if (_declared.Manifest is { } manifest)
        {
            var text = await _host.RunCheckedAsync(new Command("cat", ["--", manifest]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
            expected = [.. text.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split("  ", 2))
                .Where(parts => parts.Length == 2)
                .Select(parts => (Name: parts[1], Sha: parts[0]))];
            if (expected.Count == 0)
            {
                throw new RunbookException($"{manifest} on {_host.Name} lists no objects (sha256sum output expected); was the scenario broken first?");
            }

            _schedule = new FetchSchedule(expected, _declared.BytesPerSecond);
        }

        _loop = Task.Run(() => PollAsync(expected, _stop.Token), CancellationToken.None);
    }

    public async Task<IReadOnlyDictionary<string, string>> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        var figures = new Dictionary<string, string>
        {
            ["requests"] = _requests.ToString(CultureInfo.InvariantCulture),
            ["failed"] = _failed.ToString(CultureInfo.InvariantCulture),
            ["longest outage"] = $"{_longestOutage.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
        };
        if (_schedule is not null)
        {
            figures["objects checked in full"] = $"{_schedule.ObjectsFetched} ({_schedule.DistinctObjectsFetched} distinct, {_schedule.BytesFetched / (1024 * 1024)} MiB)";
            figures["wrong content"] = _wrongContent.Count == 0 ? "none" : string.Join(", ", _wrongContent.Distinct());
        }

        return figures;
    }

    public IReadOnlyList<MonitorSample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>One request; false when the service did not answer with success.</summary>
    private async Task<bool> TickAsync(TimeSpan elapsed, List<(string Name, string Sha)> objects, CancellationToken stop)
    {
        if (_schedule is null)
        {
            using var response = await _http.GetAsync(_service, stop).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }

        if (_schedule.Next(elapsed) is var (name, sha))
        {
            var body = await _http.GetByteArrayAsync(new Uri(_objects, Uri.EscapeDataString(name)), stop).ConfigureAwait(false);
            _schedule.Fetched(body.Length);
            if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), sha, StringComparison.Ordinal))
            {
                _wrongContent.Add(name);
            }
        }
        else
        {
            var listing = await _http.GetStringAsync(_service, stop).ConfigureAwait(false);
            _wrongContent.AddRange(objects.Where(o => !listing.Contains($"\"{o.Name}\"", StringComparison.Ordinal)).Select(o => $"{o.Name} (missing from the listing)"));
        }

        return true;
    }

    private async Task PollAsync(List<(string Name, string Sha)> objects, CancellationToken stop)
    {
        long? outageStart = null;
        var started = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            var tick = Stopwatch.StartNew();
            var requestStarted = Stopwatch.GetTimestamp();
            bool ok;
            try
            {
                ok = await TickAsync(started.Elapsed, objects, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                ok = false;
            }

            _requests++;
            lock (_samples)
            {
                _samples.Add(new MonitorSample(requestStarted, ok));
            }

            if (ok)
            {
                if (outageStart is { } began && Stopwatch.GetElapsedTime(began) > _longestOutage)
                {
                    _longestOutage = Stopwatch.GetElapsedTime(began);
                }

                outageStart = null;
            }
            else
            {
                _failed++;
                // The outage began when the first failing request was sent, not when it gave up.
                outageStart ??= requestStarted;
            }

            var wait = _declared.Interval - tick.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (outageStart is { } open && Stopwatch.GetElapsedTime(open) > _longestOutage)
        {
            _longestOutage = Stopwatch.GetElapsedTime(open);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        _http.Dispose();
    }
}
