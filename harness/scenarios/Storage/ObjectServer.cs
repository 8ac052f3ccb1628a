namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>The incident's object service: a python3 http.server and the loop that restarts it.</summary>
internal static class ObjectServer
{
    public const string ServerPath = "/usr/local/bin/server";
    public const string WrapperPath = "/usr/local/bin/run.sh";
    public const string HeldFile = "/media/.tempfile";
    public const int Port = 8000;

    /// <summary>
    /// Serves /data/objects on port 8000. At start it opens the scratch file and unlinks it, keeping it
    /// open: the space stays in use until this process exits (the incident's "(deleted)" file). It exits
    /// politely on SIGTERM.
    /// </summary>
    public const string Server = """
        #!/usr/bin/python3
        import functools, http.server, os, signal, sys

        held = None
        if os.path.exists('/media/.tempfile'):
            held = open('/media/.tempfile', 'rb')
            os.unlink('/media/.tempfile')

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True


        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory='/data/objects')
        Server(('', 8000), handler).serve_forever()

        """;

    /// <summary>Keeps the server up: whenever it exits, it starts again.</summary>
    public const string Wrapper = """
        #!/bin/sh
        while true; do
            /usr/bin/python3 /usr/local/bin/server >>/var/log/server.log 2>&1
            sleep 0.2
        done

        """;
}
