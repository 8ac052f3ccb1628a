Target("peer", Wg.Interface("wg0").Peer(Wg.Peer("not-a-key=").AllowedIps("fdaa::/64")).Configured());
await RunAsync(Args);
