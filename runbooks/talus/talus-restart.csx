// Brings the talus services back in the order the notes give (README.md beside this file):
// db → amqp → web → master → slave. Whatever is down, unhealthy, or older than something it depends on is
// restarted together with everything after it: stopped in reverse order, started in order, each start only
// once the one before answers. master ignores a polite stop: it gets 3 s after TERM, then KILL.
//   runbook plan runbooks/talus/talus-restart.csx          # what would be stopped and started, and the waits
//   runbook run runbooks/talus/talus-restart.csx

var db = Service.Named("db")
    .HealthyWhen(Probe.Tcp("127.0.0.1", 27017, TcpOutcome.Connected));
// amqp does not need db (the notes say it could go first); it keeps the notes' place in the order.
var amqp = Service.Named("amqp")
    .HealthyWhen(Probe.Tcp("127.0.0.1", 5672, TcpOutcome.Connected));
// web answers 503 while it cannot reach db: healthy means 200, not just a listening port.
var web = Service.Named("web").After("db")
    .HealthyWhen(Probe.HttpGet("http://127.0.0.1:8001/", 200))
    .HealthyWithin(TimeSpan.FromSeconds(20));
var master = Service.Named("master").After("amqp", "web")
    .HealthyWhen(Probe.Tcp("127.0.0.1", 5000, TcpOutcome.Connected))
    .GraceBeforeKill(TimeSpan.FromSeconds(3));
// The notes: the slave may take up to a minute to quit while it shuts its VMs down.
var slave = Service.Named("slave").After("master")
    .HealthyWhen(Probe.Tcp("127.0.0.1", 5001, TcpOutcome.Connected))
    .GraceBeforeKill(TimeSpan.FromSeconds(60));

Target("talus", "db, amqp, web, master and slave run, healthy, each started after what it depends on",
    Service.OrderedRestart(db, amqp, web, master, slave));

await RunAsync(Args);
