using Runbooks.Dsl;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Tests.Engine;

/// <summary>
/// A saved plan hashes the part of a read its decisions rest on: what moves by itself (uptime, CPU time, a
/// filling disk, byte counters) is not a host that moved; what a decision reads is.
/// </summary>
public class FactViewTests
{
    private static string Hash(Command command, string stdout) => FactLog.Hash(command, new CommandResult(0, stdout, "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));

    private static IEnumerable<TestCaseData> Reads()
    {
        var stat = HostContext.FileRead("/proc/6019/stat");
        yield return new TestCaseData(ServiceReads.SvStatus("/etc/service/web"), "run: /etc/service/web: (pid 42) 60s\n", "run: /etc/service/web: (pid 42) 61s\n", "run: /etc/service/web: (pid 43) 1s\n")
            .SetName("sv status: uptime is not a fact, the pid is");
        yield return new TestCaseData(stat,
            "6019 (sleep) S 6017 6017 6017 0 -1 4194304 77 0 0 0 0 0 0 0 20 0 1 0 45323 2990080\n",
            "6019 (sleep) S 6017 6017 6017 0 -1 4194304 99 0 0 0 7 3 0 0 20 0 1 0 45323 2990080\n",
            "6019 (sleep) S 6017 6017 6017 0 -1 4194304 77 0 0 0 0 0 0 0 20 0 1 0 99999 2990080\n")
            .SetName("proc stat: CPU time is not a fact, the start time is");
        yield return new TestCaseData(FsReads.Mount("/data"),
            """{"filesystems": [{"target": "/data", "source": "/dev/loop3", "fstype": "ext4", "options": "ro,relatime", "size": 100, "used": 40, "avail": 60}]}""",
            """{"filesystems": [{"target": "/data", "source": "/dev/loop3", "fstype": "ext4", "options": "ro,relatime", "size": 100, "used": 41, "avail": 59}]}""",
            """{"filesystems": [{"target": "/data", "source": "/dev/loop3", "fstype": "ext4", "options": "rw,relatime", "size": 100, "used": 40, "avail": 60}]}""")
            .SetName("findmnt: usage is not a fact, the options are");
    }

    [TestCaseSource(nameof(Reads))]
    public void A_read_counts_as_changed_only_when_what_decisions_use_changed(Command read, string planned, string drifted, string moved)
    {
        Assert.That(Hash(read, drifted), Is.EqualTo(Hash(read, planned)));
        Assert.That(Hash(read, moved), Is.Not.EqualTo(Hash(read, planned)));
    }

    [Test]
    public void A_wireguard_dump_is_hashed_without_its_keys_secrets_or_byte_counters()
    {
        var dump = Runbooks.Tests.Support.Fixture.Read("network/wg-show-wg0-dump.txt");
        var lines = dump.Split('\n');
        var interfaceKey = lines[0].Split('\t')[0];
        var peer = lines[1].Split('\t');
        peer[5] = "123456789";
        var moreTraffic = string.Join('\n', [lines[0], string.Join('\t', peer), .. lines[2..]]);
        var read = Runbooks.Dsl.WgRead.Dump("wg0");

        Assert.That(read.FactView!(dump), Does.Not.Contain(interfaceKey));
        Assert.That(Hash(read, moreTraffic), Is.EqualTo(Hash(read, dump)));
    }

    [Test]
    public void A_file_read_is_hashed_whole() =>
        Assert.That(Hash(HostContext.FileRead("/etc/fstab"), "a 1\n"), Is.Not.EqualTo(Hash(HostContext.FileRead("/etc/fstab"), "a 2\n")));
}
