using System.Security.Cryptography;
using System.Text;

namespace Runbooks.Transport;

/// <summary>
/// The host keys of an OpenSSH known_hosts file (plain and hashed <c>|1|salt|hash</c> names). The SSH
/// transport accepts a host only when its key is recorded here: no trust on first use.
/// </summary>
public sealed class KnownHosts
{
    private readonly List<Entry> _entries;

    private KnownHosts(string path, List<Entry> entries)
    {
        Path = path;
        _entries = entries;
    }

    public string Path { get; }

    /// <summary>Reads the file; a missing file is an empty list (every host is then unknown, and refused).</summary>
    public static KnownHosts Load(string path)
    {
        var entries = new List<Entry>();
        if (!System.IO.File.Exists(path))
        {
            return new KnownHosts(path, entries);
        }

        var lineNumber = 0;
        foreach (var raw in System.IO.File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.Trim();
            // @cert-authority and @revoked lines need CA logic this transport does not have; skipping a
            // @revoked line can only make a host unknown (refused), never trusted.
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('@'))
            {
                continue;
            }

            var fields = line.Split((char[]?)null, 4, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 3)
            {
                continue;
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(fields[2]);
            }
            catch (FormatException)
            {
                continue;
            }

            entries.Add(new Entry(fields[0].Split(','), fields[1], key, lineNumber));
        }

        return new KnownHosts(path, entries);
    }

    /// <summary>The key types recorded for a host, e.g. <c>ssh-ed25519</c>.</summary>
    public IReadOnlySet<string> KeyTypesFor(string knownHostsName) =>
        _entries.Where(e => e.Matches(knownHostsName)).Select(e => e.KeyType).ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="key"/> is recorded for the host; when not, says why and how to accept it.</summary>
    public HostKeyVerdict Verify(string knownHostsName, string keyType, byte[] key, string fingerprintSha256)
    {
        var forHost = _entries.Where(e => e.Matches(knownHostsName)).ToList();
        if (forHost.Any(e => e.KeyType == keyType && e.Key.AsSpan().SequenceEqual(key)))
        {
            return new HostKeyVerdict(true, "");
        }

        var line = $"{knownHostsName} {keyType} {Convert.ToBase64String(key)}";
        var sameType = forHost.FirstOrDefault(e => e.KeyType == keyType);
        if (sameType is not null)
        {
            return new HostKeyVerdict(false,
                $"host key of {knownHostsName} CHANGED: it offered {keyType} SHA256:{fingerprintSha256}, which differs from line {sameType.Line} of {Path}. " +
                $"If the host was really reinstalled, verify that fingerprint out of band, then run `ssh-keygen -R '{knownHostsName}' -f {Path}` and append: {line}");
        }

        return new HostKeyVerdict(false,
            $"host key of {knownHostsName} is unknown: it offered {keyType} SHA256:{fingerprintSha256}, which is not in {Path}. " +
            $"Verify that fingerprint out of band (on the host: `ssh-keygen -lf /etc/ssh/ssh_host_{keyType.Replace("ssh-", "", StringComparison.Ordinal)}_key.pub`), then accept it by appending this line to {Path}: {line}");
    }

    private sealed record Entry(string[] Names, string KeyType, byte[] Key, int Line)
    {
        public bool Matches(string name) => Names.Any(n => NameMatches(n, name));

        private static bool NameMatches(string pattern, string name)
        {
            if (!pattern.StartsWith("|1|", StringComparison.Ordinal))
            {
                return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
            }

            // Hashed host names (HashKnownHosts yes): |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
            var parts = pattern.Split('|');
            if (parts.Length != 4)
            {
                return false;
            }

            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var expected = Convert.FromBase64String(parts[3]);
#pragma warning disable CA5350 // HMAC-SHA1 is what OpenSSH uses for hashed known_hosts names; not our choice
                return HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name)).AsSpan().SequenceEqual(expected);
#pragma warning restore CA5350
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }
}

/// <summary>Accepted, or refused with a message that shows the fingerprint and how to accept it.</summary>
public sealed record HostKeyVerdict(bool Accepted, string Problem);
