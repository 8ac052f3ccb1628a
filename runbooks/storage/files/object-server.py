#!/usr/bin/python3
# The incident's object service: serves /data/objects on port 8000. At start it opens the scratch file and
# unlinks it, keeping it open: the space stays in use until this process exits (the incident's "(deleted)"
# file). It exits politely on SIGTERM.
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
