using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Runbooks.Commands;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>
/// Polls the object service from the host every 100 ms while the runbook converges, cycling through the
/// objects and checking each body against the checksum recorded at break time. An outage runs from the
/// first failed request to the next good one.
/// </summary>
public sealed class ObjectServiceMonitor : IConvergeMonitor
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly ITransport _guest;
    private readonly int _hostPort;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _wrongContent = [];
    private Task? _loop;
    private int _requests;
    private int _failed;
    private TimeSpan _longestOutage;

    public ObjectServiceMonitor(ITransport guest, int hostPort)
    {
        _guest = guest;
        _hostPort = hostPort;
    }

    /// <summary>The host port qemu forwards to the guest's port 8000.</summary>
    public static int HostPortFor(HarnessOptions options) => MicroVmState.Load(Path.GetFullPath(options.WorkDirectory)).HostPortFor(ObjectServer.Port);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var manifest = await _guest.RunCheckedAsync(new Command("cat", ["--", StorageScenario.ChecksumManifest]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
        var expected = manifest.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("  ", 2))
            .Select(parts => (Name: parts[1], Sha: parts[0]))
            .ToList();
        if (expected.Count == 0)
        {
            throw new RunbookException($"{StorageScenario.ChecksumManifest} in the VM lists no objects; was the storage scenario broken first?");
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

        return new Dictionary<string, string>
        {
            ["requests"] = _requests.ToString(CultureInfo.InvariantCulture),
            ["failed"] = _failed.ToString(CultureInfo.InvariantCulture),
            ["longest outage"] = $"{_longestOutage.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
            ["wrong content"] = _wrongContent.Count == 0 ? "none" : string.Join(", ", _wrongContent.Distinct()),
        };
    }

    private async Task PollAsync(List<(string Name, string Sha)> objects, CancellationToken stop)
    {
        long? outageStart = null;
        var next = 0;
        while (!stop.IsCancellationRequested)
        {
            var tick = Stopwatch.StartNew();
            var requestStarted = Stopwatch.GetTimestamp();
            var (name, sha) = objects[next++ % objects.Count];
            var ok = false;
            try
            {
                var body = await _http.GetByteArrayAsync(new Uri($"http://127.0.0.1:{_hostPort}/{Uri.EscapeDataString(name)}"), stop).ConfigureAwait(false);
                ok = true;
                if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), sha, StringComparison.Ordinal))
                {
                    _wrongContent.Add(name);
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
