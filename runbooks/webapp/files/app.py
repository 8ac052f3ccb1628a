#!/usr/bin/python3
# The web app of the webapp incident: serves "ok" on the address in /etc/app/app.conf and writes one line per
# request to its access log. Like many apps, it answers 500 when it cannot write that line (a full disk).
import http.server
import sys

conf = {}
with open("/etc/app/app.conf") as f:
    for line in f:
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            conf[key] = value

host, port = conf.get("listen", "127.0.0.1:8080").rsplit(":", 1)
log = open(conf.get("log", "/var/log/app/access.log"), "a", buffering=1)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            log.write(f"{self.client_address[0]} GET {self.path}\n")
            log.flush()
        except OSError as e:
            self.send_error(500, f"cannot write the access log: {e.strerror}")
            return
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
server.serve_forever()
