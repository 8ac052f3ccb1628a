# The incident: the primary's postmaster is killed with SIGKILL, with no shutdown. Asked through HAProxy, so it is
# whichever node writes go to now; COPY … TO PROGRAM runs the kill on that node as the postgres user. The
# connection dies with the server, so psql's exit status says nothing.
psql -X -q -At "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2" \
    -c "COPY (SELECT 1) TO PROGRAM 'kill -KILL \$(head -n 1 /var/lib/postgresql/15/main/postmaster.pid)'" >/dev/null 2>&1 || true
