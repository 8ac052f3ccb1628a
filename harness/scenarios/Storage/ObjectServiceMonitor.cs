using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Runbooks.Commands;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>
/// Polls the object service from the host every 100 ms while the runbook converges. Each tick is one
/// request: a whole object, checked against the checksum recorded at break time, while the byte budget
/// allows (see <see cref="ObjectFetchSchedule"/>), otherwise the directory listing, which must name every
/// object. An outage runs from the first failed request to the next good one.
/// </summary>
public sealed class ObjectServiceMonitor : IConvergeMonitor
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>About one object of the CI scale per second; every object is checked several times per converge.</summary>
    public const long BytesPerSecond = 2 * 1024 * 1024;

    private readonly ITransport _guest;
    private readonly Uri _service;
    private readonly string _manifest;
    private readonly long _budget;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _wrongContent = [];
    private ObjectFetchSchedule? _schedule;
    private Task? _loop;
    private int _requests;
    private int _failed;
    private TimeSpan _longestOutage;

    /// <param name="guest">Where the checksum manifest is read from.</param>
    /// <param name="service">The service's base address as the host reaches it, e.g. http://127.0.0.1:41941/.</param>
    /// <param name="manifest">sha256sum output for every object, on <paramref name="guest"/>.</param>
    /// <param name="bytesPerSecond">Budget for whole-object fetches (default <see cref="BytesPerSecond"/>).</param>
    public ObjectServiceMonitor(ITransport guest, Uri service, string manifest = StorageScenario.ChecksumManifest, long bytesPerSecond = BytesPerSecond)
    {
        _budget = bytesPerSecond;
        _guest = guest;
        _service = service;
        _manifest = manifest;
    }

    /// <summary>The host port qemu forwards to the guest's port 8000.</summary>
    public static int HostPortFor(HarnessOptions options) => MicroVmState.Load(Path.GetFullPath(options.WorkDirectory)).HostPortFor(ObjectServer.Port);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var manifest = await _guest.RunCheckedAsync(new Command("cat", ["--", _manifest]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
        var expected = manifest.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("  ", 2))
            .Select(parts => (Name: parts[1], Sha: parts[0]))
            .ToList();
        if (expected.Count == 0)
        {
            throw new RunbookException($"{_manifest} on {_guest.Name} lists no objects; was the storage scenario broken first?");
        }

        _schedule = new ObjectFetchSchedule(expected, _budget);
        _loop = Task.Run(() => PollAsync(_schedule, expected, _stop.Token), CancellationToken.None);
    }

    public async Task<IReadOnlyDictionary<string, string>> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        return new Dictionary<string, string>
        {
            ["requests"] = _requests.ToString(CultureInfo.InvariantCulture),
            ["failed"] = _failed.ToString(CultureInfo.InvariantCulture),
            ["longest outage"] = $"{_longestOutage.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
            ["objects checked in full"] = _schedule is null ? "0" : $"{_schedule.ObjectsFetched} ({_schedule.DistinctObjectsFetched} distinct, {_schedule.BytesFetched / (1024 * 1024)} MiB)",
            ["wrong content"] = _wrongContent.Count == 0 ? "none" : string.Join(", ", _wrongContent.Distinct()),
        };
    }

    private async Task PollAsync(ObjectFetchSchedule schedule, List<(string Name, string Sha)> objects, CancellationToken stop)
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
                ok = true;
                if (schedule.Next(started.Elapsed) is var (name, sha))
                {
                    var body = await _http.GetByteArrayAsync(new Uri(_service, Uri.EscapeDataString(name)), stop).ConfigureAwait(false);
                    schedule.Fetched(body.Length);
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

            var wait = Interval - tick.Elapsed;
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
