using Runbooks.Transport;

namespace Runbooks.Tests.Transport;

public class SshEndpointTests
{
    [TestCase("ssh://root@10.0.0.5:2222", "root", "10.0.0.5", 2222, "[10.0.0.5]:2222")]
    [TestCase("ssh://deploy@host.example", "deploy", "host.example", 22, "host.example")]
    [TestCase("ssh://h1", "root", "h1", 22, "h1")]
    [TestCase("ssh://root@[fd00::1]:22", "root", "fd00::1", 22, "fd00::1")]
    public void Parses_user_host_and_port(string uri, string user, string host, int port, string knownHostsName)
    {
        var endpoint = SshEndpoint.Parse(uri);

        Assert.That(endpoint, Is.EqualTo(new SshEndpoint(user, host, port)));
        Assert.That(endpoint.KnownHostsName, Is.EqualTo(knownHostsName));
    }

    [TestCase("root@h")]
    [TestCase("ssh://root@h:99999")]
    [TestCase("ssh://root@h;rm -rf /")]
    public void Rejects_what_is_not_an_ssh_address(string uri) =>
        Assert.Throws<ArgumentException>(() => SshEndpoint.Parse(uri));

    [Test]
    public void A_hashed_known_hosts_name_matches()
    {
        // `ssh-keygen -H` output for [127.0.0.1]:2222 with salt 0x00..0x13
        var salt = Enumerable.Range(0, 20).Select(i => (byte)i).ToArray();
#pragma warning disable CA5350
        var hash = System.Security.Cryptography.HMACSHA1.HashData(salt, "[127.0.0.1]:2222"u8.ToArray());
#pragma warning restore CA5350
        var key = Convert.ToBase64String([1, 2, 3]);
        var path = Path.GetTempFileName();
        try
        {
            System.IO.File.WriteAllText(path, $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)} ssh-ed25519 {key}\n");
            var known = KnownHosts.Load(path);

            Assert.That(known.Verify("[127.0.0.1]:2222", "ssh-ed25519", [1, 2, 3], "x").Accepted, Is.True);
            Assert.That(known.Verify("[127.0.0.1]:2223", "ssh-ed25519", [1, 2, 3], "x").Accepted, Is.False);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
