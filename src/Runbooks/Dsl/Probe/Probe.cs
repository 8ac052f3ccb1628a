using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>How a TCP connect attempt ended.</summary>
public enum TcpOutcome
{
    Connected,

    /// <summary>A RST came back (nothing listens, or a REJECT --reject-with tcp-reset).</summary>
    Refused,

    /// <summary>Nothing came back in time (a DROP, a black-holed route).</summary>
    TimedOut,

    /// <summary>The kernel said no before anything was sent or an ICMP error came back (no route, host unreachable).</summary>
    Unreachable,
}

/// <summary>
/// Reachability checks that run ON the host (inside its namespaces), as specs or as pre/postconditions:
/// TCP connect via <c>python3 -c</c> (three outcomes told apart, which <c>nc</c> variants do not agree on),
/// ICMP with <c>ping</c>, HTTP with <c>curl</c>.
/// </summary>
public static class Probe
{
    // Constant program, values as argv: the address and port are never parsed by a shell.
    private const string TcpScript = """
        import socket, sys
        host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            print("Connected")
        except ConnectionRefusedError:
            print("Refused")
        except (socket.timeout, TimeoutError):
            print("TimedOut")
        except OSError as e:
            print("Unreachable " + (e.strerror or str(e)))
        """;

    /// <summary>Runs the TCP connect on the host and returns what happened.</summary>
    /// <example><c>await Probe.TcpAsync(host, "fdaa:3::2", 9000, TimeSpan.FromSeconds(2), ct)</c></example>
    public static async Task<(TcpOutcome Outcome, string Detail)> TcpAsync(HostContext host, string address, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var command = new Command("python3", ["-c", TcpScript, DslArguments.Address(address), DslArguments.Port(port).ToString(CultureInfo.InvariantCulture), timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)])
            .AsReadOnly().WithTimeout(timeout + TimeSpan.FromSeconds(10));
        var (outcome, line, stderr) = await host.FactAsync(new Fact<(TcpOutcome? Outcome, string Line, string Stderr)>(command, r =>
        {
            var line = r.StandardOutput.Trim();
            return (Enum.TryParse<TcpOutcome>(line.Split(' ', 2)[0], out var outcome) ? outcome : null, line, r.StderrTail(3));
        }), cancellationToken).ConfigureAwait(false);
        return outcome is { } known
            ? (known, line)
            : throw host.Failure($"the TCP probe printed '{line}' (stderr: {stderr}); is python3 installed there?");
    }

    /// <summary>A check that a TCP connect to address:port ends with <paramref name="expected"/>.</summary>
    /// <example><c>Probe.Tcp("fdaa:3::2", 9000, TcpOutcome.Refused)</c></example>
    public static Check Tcp(string address, int port, TcpOutcome expected, TimeSpan? timeout = null) =>
        TcpCheck(address, port, timeout, expected.ToString().ToLowerInvariant(), outcome => outcome == expected);

    /// <summary>
    /// A check that a TCP connect to address:port gets any answer — connected, refused, an ICMP error — but not silence:
    /// proof that no firewall DROPs the port, whether or not anything listens there yet.
    /// </summary>
    /// <example><c>.Ensures(Probe.TcpAnswered("10.20.0.1", 8080))</c></example>
    public static Check TcpAnswered(string address, int port, TimeSpan? timeout = null) =>
        TcpCheck(address, port, timeout, "answered (not timed out)", outcome => outcome != TcpOutcome.TimedOut);

    private static Check TcpCheck(string address, int port, TimeSpan? timeout, string what, Func<TcpOutcome, bool> holds)
    {
        DslArguments.Address(address);
        DslArguments.Port(port);
        var wait = timeout ?? TimeSpan.FromSeconds(2);
        var shown = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{port}" : $"{address}:{port}";
        return new Check($"TCP connect to {shown} is {what}", async (host, ct) =>
        {
            var (outcome, detail) = await TcpAsync(host, address, port, wait, ct).ConfigureAwait(false);
            return new CheckResult(holds(outcome), detail);
        });
    }

    /// <summary>A check that <paramref name="address"/> answers ICMP echo (any of three tries, 1 s each).</summary>
    /// <example><c>Probe.Ping("192.168.0.1")</c></example>
    public static Check Ping(string address)
    {
        DslArguments.Address(address);
        return new Check($"ping {address} answers", async (host, ct) =>
        {
            var command = new Command("ping", ["-n", "-c", "3", "-i", "0.2", "-W", "1", address]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10)).WithSuccessExitCodes(0, 1, 2);
            return await host.FactAsync(new Fact<CheckResult>(command, result =>
            {
                var summary = result.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("packets transmitted", StringComparison.Ordinal))
                              ?? result.StdoutTail(2) + result.StderrTail(2);
                return new CheckResult(result.ExitCode == 0, summary.Trim());
            }), ct).ConfigureAwait(false);
        });
    }

    /// <summary>A check that an HTTP GET returns <paramref name="status"/>.</summary>
    /// <example><c>Probe.HttpGet("http://192.168.0.1:8080/", 200)</c></example>
    public static Check HttpGet(string url, int status = 200)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{url}' is not an http(s) URL", nameof(url));
        }

        return new Check($"GET {url} returns {status}", async (host, ct) =>
        {
            var command = new Command("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--connect-timeout", "2", "--max-time", "5", url])
                .AsReadOnly().WithTimeout(TimeSpan.FromSeconds(15)).WithSuccessExitCodes([.. Enumerable.Range(0, 100)]);
            return await host.FactAsync(new Fact<CheckResult>(command, result =>
            {
                var code = result.StandardOutput.Trim();
                return new CheckResult(code == status.ToString(CultureInfo.InvariantCulture),
                    result.ExitCode == 0 ? $"HTTP {code}" : $"curl exit {result.ExitCode}: {result.StderrTail(1)}");
            }), ct).ConfigureAwait(false);
        });
    }
}
