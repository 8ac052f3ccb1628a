# The incident: a busy primary's postmaster is killed with SIGKILL, with no shutdown. Asked through HAProxy, so it is
# whichever node writes go to now; COPY … TO PROGRAM runs the kill on that node as the postgres user. The
# connection dies with the server, so psql's exit status says nothing.
proxy="host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2"
# Busy first: 50,000 rows leave a few hundred dirty buffers on the standby too, so the checkpoint its promotion
# requests is spread over half a minute (about 0.1 s a buffer) and pg_control names the old timeline all that time.
# A rebuild of the old primary then races that checkpoint on any machine, not only on a quiet one.
psql -X -q -At "$proxy" -c "create table if not exists filler (n int)" -c "truncate filler" \
    -c "insert into filler select generate_series(1, 50000)" >/dev/null 2>&1
# Then until the standby has replayed it: the fault is the primary's death, not a standby too far behind to promote.
i=0
while [ $i -lt 100 ] && [ "$(psql -X -q -At "$proxy" -c "select coalesce(bool_and(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) < 1048576), false) from pg_stat_replication" 2>/dev/null)" != t ]; do
    sleep 0.1; i=$((i + 1))
done
psql -X -q -At "$proxy" \
    -c "COPY (SELECT 1) TO PROGRAM 'kill -KILL \$(head -n 1 /var/lib/postgresql/15/main/postmaster.pid)'" >/dev/null 2>&1 || true
