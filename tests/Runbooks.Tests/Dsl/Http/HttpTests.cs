using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Http;

public class HttpTests
{
    [TestCase("200 0.001234", 0, true, "200 in 1 ms")]
    [TestCase("000 0.000421", 7, false, "no answer")]
    [TestCase("503 0.002000", 0, false, "503")]
    public async Task Returns_holds_only_for_the_expected_status(string output, int exit, bool holds, string observed)
    {
        var get = Runbooks.Dsl.Http.Get("http://127.0.0.1:8000/");
        var host = new FakeTransport().On(get.Command, output, exit, exit == 0 ? "" : "curl: (7) Failed to connect to 127.0.0.1 port 8000");

        var result = await get.Returns(200).EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That((result.Holds, result.Observed), Is.EqualTo((holds, result.Observed)));
        Assert.That(result.Observed, Does.StartWith(observed));
    }

    [Test]
    public void Only_http_urls_are_accepted() =>
        Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Http.Get("file:///etc/passwd"));
}
