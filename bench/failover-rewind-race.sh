#!/usr/bin/env bash
# The race behind the failover drill's failed round 3 (BENCHMARKS.md), with PostgreSQL 15's own tools and no harness:
# two local clusters, the primary SIGKILLed each round, the standby promoted, the old primary rewound from it at once
# (as the runbook does on a quiet machine) and started as its standby. pg_rewind 15 reads the source's timeline from
# its control file, which a just-promoted server updates only when the checkpoint its promotion requested ends; a
# bulk insert before each kill leaves dirty buffers, so that checkpoint takes seconds and the race is lost every time.
# Each round prints pg_rewind's verdict, the rewound control file and whether the old primary streams again; a start
# that fails prints the server log's FATAL line. Run twice: as the runbook did before the fix, then with a CHECKPOINT on the
# new primary before pg_rewind, as RebuiltAsStandbyOf does now.
#   sudo bash bench/failover-rewind-race.sh [ROUNDS] [BULK_ROWS]
set -euo pipefail
ROUNDS=${1:-4}; BULK=${2:-200000}
BIN=/usr/lib/postgresql/15/bin
[ -x "$BIN/pg_rewind" ] || { echo "needs PostgreSQL 15 (postgresql-15)" >&2; exit 2; }
if [ "${RACE_INNER:-}" != 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "run as root: it enters a PID namespace and runs the clusters as postgres" >&2; exit 2; }
  # A SIGKILLed postmaster stays a zombie, and its postmaster.pid blocks pg_rewind, unless PID 1 reaps it: bash as PID 1
  # of a fresh PID namespace does.
  dir=$(mktemp -d /tmp/rb-rewind-race.XXXXXX); chown postgres "$dir"
  for fix in 0 1; do
    echo "== $([ $fix = 1 ] && echo 'CHECKPOINT on the new primary before pg_rewind' || echo 'pg_rewind right after the promotion')"
    unshare -fp --mount-proc bash -c "RACE_INNER=1 FIX=$fix DIR=$dir runuser -u postgres -- bash '$0' $ROUNDS $BULK; true"
  done
  rm -rf "$dir"
  exit 0
fi

D=$DIR; rm -rf "$D/a" "$D/b" "$D"/*.log
base=$((20000 + RANDOM % 20000))
port() { [ "$1" = a ] && echo "$base" || echo $((base + 1)); }
addr() { [ "$1" = a ] && echo 127.0.0.1 || echo 127.0.0.2; }
sql() { psql -X -q -At -h "$D" -p "$(port "$1")" -U postgres -d postgres -c "$2"; }
start() { "$BIN/pg_ctl" -D "$D/$1" -l "$D/$1.log" -o "-p $(port "$1") -c listen_addresses=$(addr "$1") -c cluster_name=$1" start -w -t 30 >/dev/null 2>&1; }
"$BIN/initdb" -D "$D/a" -A trust -U postgres >/dev/null
printf "unix_socket_directories = '%s'\nwal_level = replica\nwal_log_hints = on\nhot_standby = on\nwal_keep_size = '1GB'\n" "$D" >> "$D/a/postgresql.conf"
start a
sql a 'create table t (n int)'
"$BIN/pg_basebackup" -h 127.0.0.1 -p "$(port a)" -U postgres -D "$D/b" -R -X stream -c fast
start b
prim=a stby=b
for round in $(seq "$ROUNDS"); do
  sql "$prim" "insert into t select generate_series(1, $BULK)"; sleep 1
  pm=$(head -n 1 "$D/$prim/postmaster.pid"); kill -KILL "$pm"
  while ps -p "$pm" >/dev/null; do sleep 0.05; done
  sql "$stby" 'select pg_promote(true, 60)' >/dev/null
  [ "$FIX" = 1 ] && sql "$stby" 'checkpoint'
  verdict=$("$BIN/pg_rewind" -D "$D/$prim" --source-server="host=$(addr "$stby") port=$(port "$stby") user=postgres dbname=postgres" -R 2>&1 |
    grep -E 'diverged|same timeline|error' | tr '\n' ' ' || true)
  control=$(LC_ALL=C "$BIN/pg_controldata" -D "$D/$prim" | grep -E "Latest checkpoint's TimeLineID|Min recovery ending loc's timeline" | tr -s ' ' | tr '\n' ';')
  start "$prim" && started=yes || started=no
  sleep 1
  echo "round $round: $stby promoted to timeline $(( 16#$(sql "$stby" 'select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)') )); $verdict; rewound: $control started: $started; streaming to $stby: $(sql "$stby" "select coalesce(string_agg(application_name || ' ' || state, ', '), 'none') from pg_stat_replication")"
  [ "$started" = yes ] || { grep -E 'FATAL|PANIC' "$D/$prim.log" | tail -n 2 | sed 's/^/    /'; break; }
  t=$prim; prim=$stby; stby=$t
done
for n in a b; do [ -f "$D/$n/postmaster.pid" ] && kill -KILL "$(head -n 1 "$D/$n/postmaster.pid")" 2>/dev/null; done
true
