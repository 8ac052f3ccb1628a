using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

internal static class WgRead
{
    /// <summary>Exit 0 when the kernel has the WireGuard module loaded or can load it.</summary>
    public static readonly Command KernelModule =
        Shell.Script("test -d /sys/module/wireguard || modprobe -n -q wireguard").AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    public static Command Dump(string name) =>
        new Command("wg", ["show", name, "dump"]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10)).WithSuccessExitCodes(0, 1).WithFactView(WithoutCounters);

    // The interface line starts with the private key, which no decision reads and no plan should hash. Peer lines:
    // key, preshared key (a secret too), endpoint, allowed-ips, latest-handshake, rx, tx, keepalive; the byte counters move by themselves,
    // and of the handshake time decisions use only whether it is recent.
    private static string WithoutCounters(string dump) => string.Join('\n', dump.Split('\n').Select(line =>
    {
        var f = line.Split('\t');
        if (f.Length == 4)
        {
            return string.Join('\t', f[1..]);
        }

        return f.Length == 8 && long.TryParse(f[4], System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var handshake)
            ? string.Join('\t', f[0], f[2], f[3], IsRecent(handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake)) ? "recent" : "stale", f[7])
            : line;
    }));

    // The listen port, then per peer its key, allowed IPs, keepalive, and its endpoint only where a step set it: the
    // other side's endpoint is learned from its handshakes and moves with it. Never the private or preshared key.
    private const string ReversalStateScript =
        "wg show \"$1\" dump | awk -v e=\" $2 \" 'NR == 1 { print \"port\", $3; next } { print $1, $4, (index(e, \" \" $1 \" \") ? $3 : \"-\"), $8 }' | sort";

    /// <summary>The state a WireGuard reversal compares; the endpoints of <paramref name="endpointsOf"/> included.</summary>
    public static Command ReversalState(string name, IEnumerable<string> endpointsOf) =>
        Shell.Script(ReversalStateScript, name, string.Join(' ', endpointsOf)).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));

    /// <summary><c>wg set</c> arguments that put a peer back as it was (without its preshared key, which is never read).</summary>
    public static Arg[] PeerAsItWas(WgPeerState live) =>
    [
        "peer", live.PublicKey, "allowed-ips", string.Join(",", live.AllowedIps),
        .. live.Endpoint is { } endpoint ? new Arg[] { "endpoint", endpoint } : [],
        "persistent-keepalive", live.PersistentKeepalive?.ToString(CultureInfo.InvariantCulture) ?? "off",
    ];

    /// <summary>The live state from <c>wg show NAME dump</c>, or null when there is no such WireGuard interface.</summary>
    public static Fact<WgInterfaceState?> State(string name) => new(Dump(name), r => r.ExitCode == 0 ? WgDumpParser.Parse(r.StandardOutput) : null);

    /// <summary>Whether the kernel has the WireGuard module loaded or can load it.</summary>
    public static readonly Fact<bool> HasKernelModule = new(KernelModule, r => r.ExitCode == 0, mustSucceed: false);

    /// <summary>A file's mode in octal (<c>600</c>), or null when it does not exist.</summary>
    public static Fact<string?> Mode(string path) =>
        new(new Command("stat", ["-c", "%a", path]).WithSuccessExitCodes(0, 1), r => r.ExitCode == 0 ? r.StandardOutput.Trim() : null);

    /// <summary>A file's SHA-256 in hex, or null when it does not exist.</summary>
    public static Fact<string?> Sha256(string path) =>
        new(new Command("sha256sum", [path]).WithSuccessExitCodes(0, 1), r => r.ExitCode == 0 ? r.StandardOutput.Split(' ', 2)[0] : null);

    /// <summary>The live state, or null when there is no such WireGuard interface.</summary>
    public static Task<WgInterfaceState?> StateAsync(HostContext host, string name, CancellationToken cancellationToken) => host.FactAsync(State(name), cancellationToken);

    /// <summary>WireGuard re-keys every 2 minutes and gives up on a session after 3: older is no live session.</summary>
    public static bool IsRecent(DateTimeOffset? handshake) => handshake is { } h && DateTimeOffset.UtcNow - h < TimeSpan.FromSeconds(180);

    public static bool SameSet(IEnumerable<string> a, IEnumerable<string> b) =>
        a.Select(c => DslArguments.Cidr(c)).OrderBy(c => c, StringComparer.Ordinal).SequenceEqual(b.Select(c => DslArguments.Cidr(c)).OrderBy(c => c, StringComparer.Ordinal));
}

/// <summary>The WireGuard link exists.</summary>
public sealed class WgLinkStep : Step
{
    private readonly string _name;

    internal WgLinkStep(string name) => _name = name;

    public override string Description => $"WireGuard interface {_name} exists";

    public override IEnumerable<IFact> Reads => [NetRead.LinkFact(_name)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var link = await NetRead.LinkAsync(host, _name, cancellationToken).ConfigureAwait(false);
        if (link is not null)
        {
            return StepProbe.Satisfied($"{_name} present");
        }

        // Which implementation makes the link is a fact of the host, read now so the plan shows the one command
        // that will run. No kernel module (containers, this project's CI kernel): the userspace implementation
        // makes the same link; without WG_PROCESS_FOREGROUND it daemonizes once the link exists, so it returns.
        return await host.FactAsync(WgRead.HasKernelModule, cancellationToken).ConfigureAwait(false)
            ? StepProbe.Change($"no link {_name}; the kernel has the WireGuard module", new Command("ip", ["link", "add", "dev", _name, "type", "wireguard"]))
            : StepProbe.Change($"no link {_name}; the kernel has no WireGuard module", new Command("wireguard-go", [_name]).WithTimeout(TimeSpan.FromSeconds(20)));
    }
}

/// <summary>Keys, port and the listed peers on the live interface, through <c>wg set</c> (unrelated peers survive).</summary>
public sealed class WgConfigureStep : Step
{
    private readonly WgInterface _wanted;

    internal WgConfigureStep(WgInterface wanted) => _wanted = wanted;

    public override IEnumerable<ResourceClaim> Claims => _wanted.Port is { } port ? [ResourceClaim.Port(port, "udp")] : [];
    public override bool CanCutOffController => true;

    public override string Description =>
        $"WireGuard {_wanted.Name} configured: " + string.Join(", ", new[]
        {
            _wanted.PrivateKeyPath is null ? null : $"private key from {_wanted.PrivateKeyPath}",
            _wanted.Port is null ? null : $"listen port {_wanted.Port}",
        }.Where(s => s is not null).Concat(_wanted.PeerList.Select(p => $"peer {p.PublicKey} allowed {string.Join(",", p.AllowedIpList)}{(p.EndpointAddress is null ? "" : $" at {p.EndpointAddress}")}")));

    public override IEnumerable<IFact> Reads => [WgRead.State(_wanted.Name)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await WgRead.StateAsync(host, _wanted.Name, cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            return StepProbe.Blocked($"no WireGuard interface {_wanted.Name}", $"{_wanted.Name} is not a WireGuard interface; add Wg.Interface(\"{_wanted.Name}\").Exists() first");
        }

        var args = new List<Arg>();
        var inverse = new List<Command>();
        var endpointsSet = new List<string>();
        string? cannot = null;
        if (_wanted.PrivateKeyPath is { } keyFile)
        {
            var derived = await WgPublicKey.DerivedOn(host.Name, keyFile).ResolveAsync(host, cancellationToken).ConfigureAwait(false);
            if (derived != state.PublicKey)
            {
                args.AddRange(["private-key", keyFile]);
                cannot = $"the old private key of {_wanted.Name} was replaced from {keyFile} and is known only to the host's memory of it, which is gone";
            }
        }

        if (_wanted.Port is { } port && state.ListenPort != port)
        {
            args.AddRange(["listen-port", port.ToString(CultureInfo.InvariantCulture)]);
            inverse.Add(new Command("wg", ["set", _wanted.Name, "listen-port", state.ListenPort?.ToString(CultureInfo.InvariantCulture) ?? "0"]));
        }

        foreach (var peer in _wanted.PeerList)
        {
            var key = await peer.PublicKey.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
            var live = state.Peer(key);
            var peerArgs = new List<Arg>();
            if (live is null || !WgRead.SameSet(live.AllowedIps, peer.AllowedIpList))
            {
                peerArgs.AddRange(["allowed-ips", string.Join(",", peer.AllowedIpList)]);
            }

            // The side without an Endpoint learns one from the other's handshake: only a wanted endpoint is compared.
            if (peer.EndpointAddress is { } endpoint && live?.Endpoint != endpoint)
            {
                peerArgs.AddRange(["endpoint", endpoint]);
            }

            if (live?.PersistentKeepalive != peer.Keepalive && (peer.Keepalive is not null || live is not null))
            {
                peerArgs.AddRange(["persistent-keepalive", peer.Keepalive?.ToString(CultureInfo.InvariantCulture) ?? "off"]);
            }

            if (peerArgs.Count > 0)
            {
                args.AddRange(["peer", key, .. peerArgs]);
                if (peer.EndpointAddress is not null)
                {
                    endpointsSet.Add(key);
                }

                // wg set cannot clear an endpoint: a peer that had none (or was not there) is removed, then added back as it was.
                if (live is null || (live.Endpoint is null && peer.EndpointAddress is not null))
                {
                    inverse.Add(new Command("wg", ["set", _wanted.Name, "peer", key, "remove"]));
                }

                if (live is not null)
                {
                    inverse.Add(new Command("wg", ["set", _wanted.Name, .. WgRead.PeerAsItWas(live)]));
                }
            }
        }

        var observed = state.Render();
        var set = new Command("wg", ["set", _wanted.Name, .. args]);
        return args.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, new RunCommand(set)
        {
            Undo = cannot is not null ? Reversal.Cannot(cannot)
                : Reversal.By($"WireGuard {_wanted.Name} back to its port and peers as they were", WgRead.ReversalState(_wanted.Name, endpointsSet), inverse),
        });
    }
}

/// <summary>The wg-quick config file, rendered from the wanted state, compared by SHA-256 so the runner never reads the file.</summary>
public sealed class WgConfigFileStep : Step
{
    private readonly WgInterface _wanted;

    internal WgConfigFileStep(WgInterface wanted) => _wanted = wanted;

    public override string Description => $"{_wanted.ConfigPath} matches the live {_wanted.Name} settings (mode 600)";

    public override string? Destroys => $"the previous contents of {_wanted.ConfigPath}";

    /// <summary>The config text this step writes.</summary>
    public async Task<WgConfig> RenderAsync(HostContext host, CancellationToken cancellationToken)
    {
        var peers = new List<WgPeerConfig>();
        foreach (var peer in _wanted.PeerList)
        {
            peers.Add(new WgPeerConfig(await peer.PublicKey.ResolveAsync(host, cancellationToken).ConfigureAwait(false), peer.AllowedIpList, peer.EndpointAddress, peer.Keepalive));
        }

        return new WgConfig(_wanted.AddressList, _wanted.Port, _wanted.MtuValue, null, _wanted.PrivateKeyPath, [.. peers]);
    }

    public override IEnumerable<IFact> Reads => [WgRead.Mode(_wanted.ConfigPath), WgRead.Sha256(_wanted.ConfigPath)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var text = (await RenderAsync(host, cancellationToken).ConfigureAwait(false)).Render();
        var wantedHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var mode = await host.FactAsync(WgRead.Mode(_wanted.ConfigPath), cancellationToken).ConfigureAwait(false);
        var currentHash = await host.FactAsync(WgRead.Sha256(_wanted.ConfigPath), cancellationToken).ConfigureAwait(false);
        var observed = mode is null ? $"{_wanted.ConfigPath} missing" : $"{_wanted.ConfigPath} mode {mode}, {(currentHash == wantedHash ? "content as wanted" : "content differs")}";
        if (currentHash == wantedHash && mode == "600")
        {
            return StepProbe.Satisfied(observed);
        }

        if (currentHash == wantedHash)
        {
            return StepProbe.Act(observed, new RunCommand(new Command("chmod", ["600", "--", _wanted.ConfigPath]))
            {
                Undo = Reversal.By($"{_wanted.ConfigPath} back to mode {mode}", new Command("stat", ["-c", "%a", _wanted.ConfigPath]), new Command("chmod", [mode!, "--", _wanted.ConfigPath])),
            });
        }

        // The runner reads only the file's hash, never its text (it may hold a key): no diff, but the write is
        // still refused if the file changed after this probe.
        return StepProbe.Act(observed, currentHash is null ? WriteFile.New(_wanted.ConfigPath, text, "0600") : WriteFile.ReplacingHash(_wanted.ConfigPath, currentHash, text, "0600"));
    }
}

/// <summary>One peer gone from the live interface.</summary>
public sealed class WgPeerAbsentStep : Step
{
    private readonly string _name;
    private readonly WgPublicKey _peer;

    internal WgPeerAbsentStep(string name, WgPublicKey peer)
    {
        _name = name;
        _peer = peer;
    }

    public override string Description => $"peer {_peer} absent from {_name}";

    public override string? Destroys => $"WireGuard peer {_peer} on {_name} (its session and allowed IPs)";

    public override IEnumerable<IFact> Reads => [WgRead.State(_name)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await WgRead.StateAsync(host, _name, cancellationToken).ConfigureAwait(false);
        var key = await _peer.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        var live = state?.Peer(key);
        return live is null
            ? StepProbe.Satisfied($"no peer {key} on {_name}")
            : StepProbe.Act($"peer {key} allowed {string.Join(",", live.AllowedIps)}", new RunCommand(new Command("wg", ["set", _name, "peer", key, "remove"]))
            {
                Undo = Reversal.By($"peer {key} back on {_name} (without a preshared key)", WgRead.ReversalState(_name, live.Endpoint is null ? [] : [key]),
                    new Command("wg", ["set", _name, .. WgRead.PeerAsItWas(live)])),
            });
    }
}

/// <summary>A handshake with a peer, waited for up to a deadline.</summary>
public sealed class WgHandshakeStep : Step
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly string _name;
    private readonly WgPublicKey _peer;
    private readonly TimeSpan _within;

    internal WgHandshakeStep(string name, WgPublicKey peer, TimeSpan within)
    {
        _name = name;
        _peer = peer;
        _within = within;
    }

    public override string Description => $"WireGuard {_name} has a handshake with peer {_peer} within {_within.TotalSeconds:0.#} s";

    public override IEnumerable<IFact> Reads => [WgRead.State(_name)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await WgRead.StateAsync(host, _name, cancellationToken).ConfigureAwait(false)
                    ?? throw host.Failure($"{_name} is not a WireGuard interface");
        var key = await _peer.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        var peer = state.Peer(key);
        if (peer is null)
        {
            return StepProbe.Blocked(state.Render(), $"{_name} has no peer {key}; configure it first");
        }

        if (WgRead.IsRecent(peer.LatestHandshake))
        {
            return StepProbe.Satisfied($"handshake with {key} at {peer.LatestHandshake:u}");
        }

        var actions = new List<StepAction>();
        if (peer.AllowedIps.FirstOrDefault() is { } cidr)
        {
            // A peer without keepalive only handshakes when there is traffic for it. The ping only nudges: its
            // answer does not matter (exit 1 and 2 are fine), the handshake is what the wait looks for.
            actions.Add(new RunCommand(new Command("ping", ["-c", "1", "-W", "1", cidr.Split('/')[0]]).WithTimeout(TimeSpan.FromSeconds(3)).WithSuccessExitCodes(0, 1, 2)) { Undo = Reversal.Nothing });
        }

        actions.Add(new WaitUntil(Handshake(_name, key), _within, Interval)
        {
            Failure = _ => $"no WireGuard handshake on {_name} with peer {key} (endpoint {peer.Endpoint ?? "(none)"}) within {_within.TotalSeconds:0.#} s",
            WhenItFails = $"check that {peer.Endpoint ?? "the peer's endpoint"} answers on UDP, that no firewall drops it on either side, and that each side has the other's public key",
            Diagnose = async (h, ct) => $"  wg show {_name} (private key hidden):\n    " +
                ((await WgRead.StateAsync(h, _name, ct).ConfigureAwait(false))?.Render() ?? "(interface gone)").Replace("\n", "\n    ", StringComparison.Ordinal),
        });
        return StepProbe.Act($"no recent handshake with {key} (endpoint {peer.Endpoint ?? "none"})", actions);
    }

    private static Check Handshake(string name, string? key) => new($"{name} has a recent handshake{(key is null ? "" : $" with {key}")}", async (host, ct) =>
    {
        var state = await WgRead.StateAsync(host, name, ct).ConfigureAwait(false);
        var recent = state?.Peers.Any(p => (key is null || p.PublicKey == key) && WgRead.IsRecent(p.LatestHandshake)) ?? false;
        return new CheckResult(recent, state?.Render() ?? $"{name} gone");
    });

    internal static Check AsCheck(string name, WgPublicKey? peer, TimeSpan within) =>
        new($"WireGuard {name} handshake{(peer is null ? "" : $" with {peer}")} within {within.TotalSeconds:0.#} s", async (host, ct) =>
        {
            var key = peer is null ? null : await peer.ResolveAsync(host, ct).ConfigureAwait(false);
            var first = await WgRead.StateAsync(host, name, ct).ConfigureAwait(false);
            if (first is null)
            {
                return new CheckResult(false, $"{name} is not a WireGuard interface");
            }

            var candidates = first.Peers.Where(p => key is null || p.PublicKey == key).ToList();
            if (!candidates.Any(p => WgRead.IsRecent(p.LatestHandshake)) && candidates.All(p => p.Endpoint is null))
            {
                // Nothing here can start a handshake: waiting out the deadline would only make the report slower.
                return new CheckResult(false, $"no peer has an endpoint and none has a recent handshake:\n{first.Render()}");
            }

            var (_, last) = await Poll.UntilHoldsAsync(host, Handshake(name, key), within, Interval, ct).ConfigureAwait(false);
            return last;
        });
}
