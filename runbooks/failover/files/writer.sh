#!/bin/sh
# The writer: inserts sequence numbers through HAProxy, one autocommit INSERT per psql, and appends "N EPOCH" to
# the log only after psql returned 0, i.e. after PostgreSQL acknowledged the COMMIT. A failed or cut-off write is
# not logged (it may or may not have committed; the specs only demand what was acknowledged). No statement_timeout:
# cancelling a commit that waits for the synchronous standby returns success for a commit that is only local.
exec 2>&1
log=/var/lib/writer/acks
last=$(tail -n 1 "$log" 2>/dev/null | cut -d ' ' -f 1)
n=$(( ${last:-0} + 1 ))
while :; do
    if psql -X -q -At "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=1" \
        -c "insert into acks (n) values ($n)" >/dev/null 2>&1; then
        echo "$n $(date +%s.%N)" >> "$log"
    else
        sleep 0.05
    fi
    n=$((n + 1))
done
