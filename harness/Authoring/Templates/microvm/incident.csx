// {{NAME}}: remounts /srv/{{NAME}} read-write in place (no unmount, so nothing using it has to stop).
//   runbook plan {{NAME}}.csx      # what would be remounted
//   runbook run {{NAME}}.csx
// Proved on a disposable microVM by {{NAME}}.scenario.csx: `runbook harness run {{NAME}}.scenario.csx`.

Target("{{NAME}}", "/srv/{{NAME}} is mounted read-write and a file can be created there",
    Fs.Mount("/srv/{{NAME}}").Writable())
    .Ensures(Fs.Mount("/srv/{{NAME}}").CanWrite());

await RunAsync(Args);
