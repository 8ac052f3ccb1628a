using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl
{
    /// <summary>One GET as seen from the host: status 0 when nothing answered.</summary>
    public sealed record HttpProbeResult(int Status, TimeSpan Elapsed, string Error);

    public static class HttpParser
    {
        /// <summary>Parses curl's <c>-w '%{http_code} %{time_total}'</c>: <c>200 0.001234</c>.</summary>
        public static HttpProbeResult Parse(string output, string error)
        {
            var parts = output.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var status = parts.Length > 0 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var s) ? s : 0;
            var seconds = parts.Length > 1 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var t) ? t : 0;
            return new HttpProbeResult(status, TimeSpan.FromSeconds(seconds), error.Trim());
        }
    }
}

namespace Runbooks.Dsl
{
    /// <summary>HTTP probes run ON the host (with curl), so "the service answers" means what it means there.</summary>
    public static class Http
    {
        /// <summary>A GET of an http(s) URL.</summary>
        /// <example><c>Http.Get("http://127.0.0.1:8000/").Returns(200)</c></example>
        public static HttpGet Get(string url, TimeSpan? timeout = null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || url.Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"'{url}' is not an http:// or https:// URL", nameof(url));
            }

            return new HttpGet(url, DslArguments.PositiveTime(timeout ?? TimeSpan.FromSeconds(2), nameof(timeout)));
        }
    }

    public sealed class HttpGet
    {
        internal HttpGet(string url, TimeSpan timeout)
        {
            Url = url;
            Timeout = timeout;
        }

        public string Url { get; }

        public TimeSpan Timeout { get; }

        /// <summary>The read-only curl command; its exit code is judged by <see cref="ProbeAsync"/>.</summary>
        public Command Command => new Command("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time",
            Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture), Url]).WithTimeout(Timeout + TimeSpan.FromSeconds(5)).AsReadOnly()
            .WithFactView(StatusOnly);

        // A saved plan hashes the status a check or step decided on, not how long the answer took.
        private static string StatusOnly(string written) => written.Split(' ', 2)[0];

        /// <summary>The GET's status and time as a fact; a failed connect is an answer too (curl's error, status 000).</summary>
        /// <example><c>var answer = await host.FactAsync(Http.Get("http://127.0.0.1:8000/").Answer, ct);</c></example>
        public Fact<HttpProbeResult> Answer =>
            new(Command, r => HttpParser.Parse(r.StandardOutput, r.ExitCode == 0 ? "" : r.StderrTail(1)), mustSucceed: false);

        /// <summary>Runs the GET on the host.</summary>
        public Task<HttpProbeResult> ProbeAsync(HostContext host, CancellationToken cancellationToken) => host.FactAsync(Answer, cancellationToken);

        /// <summary>Holds when the GET answers with this status.</summary>
        /// <example><c>.Ensures(Http.Get("http://127.0.0.1:8000/").Returns(200))</c></example>
        public Check Returns(int status) => new($"GET {Url} returns {status}", async (host, ct) =>
        {
            var probe = await ProbeAsync(host, ct).ConfigureAwait(false);
            return new CheckResult(probe.Status == status,
                probe.Status == 0 ? $"no answer: {probe.Error}" : $"{probe.Status} in {probe.Elapsed.TotalMilliseconds:0} ms");
        }) { Reads = [Answer] };
    }
}
