var privateKey = "4A08znaNK3mRR3LQJPx6/BumVuLYrNrseK5ORUnbXn8=";
var config = "[Interface]\nPrivateKey = 4A08znaNK3mRR3LQJPx6/BumVuLYrNrseK5ORUnbXn8=\n";
var peerPublicKey = "Khoh2j2WX389oqFzAvumHv+X7+dtPr1aSEttQHvkxC8=";
Target("keys", File.Directory("/tmp/rb-keys"));
await RunAsync(Args);
