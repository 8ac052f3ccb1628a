using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Probe;

public sealed class ProbeTests
{
    private static IEnumerable<TestCaseData> Outcomes()
    {
        yield return new TestCaseData("Connected\n", TcpOutcome.Connected).SetName("connected");
        yield return new TestCaseData("Refused\n", TcpOutcome.Refused).SetName("refused");
        yield return new TestCaseData("TimedOut\n", TcpOutcome.TimedOut).SetName("timed out");
        yield return new TestCaseData("Unreachable No route to host\n", TcpOutcome.Unreachable).SetName("unreachable");
    }

    [TestCaseSource(nameof(Outcomes))]
    public async Task Tcp_connect_tells_the_outcomes_apart(string printed, TcpOutcome outcome)
    {
        var host = new FakeTransport("client").When(c => c.Program == "python3", printed);

        var (seen, _) = await Runbooks.Dsl.Probe.TcpAsync(host.Context(), "fdaa:3::2", 9000, TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.That(seen, Is.EqualTo(outcome));
        Assert.That(host.Ran.Single().Arguments.Skip(2).Select(a => a.ToString()), Is.EqualTo(new[] { "fdaa:3::2", "9000", "1" }), "values go as argv, never into the script");
    }

    [Test]
    public async Task A_refused_check_fails_when_the_service_answers()
    {
        var host = new FakeTransport("client").When(c => c.Program == "python3", "Connected\n");

        var result = await Runbooks.Dsl.Probe.Tcp("fdaa:3::2", 9000, TcpOutcome.Refused).EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Is.EqualTo("Connected"));
    }

    [Test]
    public async Task Http_get_compares_the_status_code()
    {
        var host = new FakeTransport("client").When(c => c.Program == "curl", "200");

        var result = await Runbooks.Dsl.Probe.HttpGet("http://192.168.0.1:8080/").EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That(result.Holds, Is.True);
    }

    [Test]
    public async Task A_handshake_check_fails_at_once_when_no_peer_can_start_one_and_hides_the_private_key()
    {
        var host = new FakeTransport("server").On("wg show wg0 dump",
            "oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM=\tYKfDJYft+JVx55J4O/FpzOPh+MRNTWCunRZ3a3rT9Cw=\t51820\toff\n" +
            "g9stvuZgnSYtvx+jbtpwfNEpmDf2NzrlZRHRvmBnk1s=\t(none)\t(none)\t10.0.0.1/32\t0\t0\t0\toff\n");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await Runbooks.Dsl.Wg.Interface("wg0").HandshakeWithin(TimeSpan.FromSeconds(5)).EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That(result.Holds, Is.False);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
        Assert.That(result.Observed, Does.Contain("no peer has an endpoint").And.Not.Contain("oK56DE9Ue9zK76rAc8pBl6opph"));
        Assert.That(SecretRedactor.Redact("key oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM="), Is.EqualTo("key ***"));
    }

    [TestCase("ftp://x/")]
    [TestCase("192.168.0.1:8080")]
    public void A_non_http_url_is_refused(string url) =>
        Assert.That(() => Runbooks.Dsl.Probe.HttpGet(url), Throws.ArgumentException.With.Message.Contains(url));
}
