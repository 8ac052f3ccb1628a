# Creates this host's PostgreSQL 15 cluster "main" (Debian's layout, in the host's private /etc/postgresql and
# /var/lib/postgresql) and starts it: as the primary, or as a streaming standby copied from the primary at $2.
#   $1 primary|standby   $2 the primary's replication address (standby only)   $3 this node's name (cluster_name,
#   which a standby sends as its application_name, the name synchronous_standby_names matches)
set -eu
role=$1 primary=$2 name=$3
data=/var/lib/postgresql/15/main conf=/etc/postgresql/15/main
chown postgres:postgres /var/lib/postgresql /var/log/postgresql /run/postgresql
pg_createcluster 15 main >/dev/null
cat > "$conf/conf.d/failover.conf" <<CONF
listen_addresses = '*'
cluster_name = '$name'
wal_level = replica
hot_standby = on
# pg_rewind needs every hint-bit change in the WAL, and the WAL since the fork still on the new primary.
wal_log_hints = on
wal_keep_size = '256MB'
max_wal_senders = 5
CONF
# The pair's links only (10.31.0.0/16); trust keeps the scenario free of passwords.
printf 'host all postgres 10.31.0.0/16 trust\nhost replication postgres 10.31.0.0/16 trust\n' >> "$conf/pg_hba.conf"
if [ "$role" = standby ]; then
    rm -rf "$data"
    runuser -u postgres -- pg_basebackup -D "$data" -d "host=$primary user=postgres" -R -X stream -c fast
fi
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl start -w -t 60 -D "$data" \
    -l /var/log/postgresql/postgresql-15-main.log -o "-c config_file=$conf/postgresql.conf" >/dev/null
if [ "$role" = primary ]; then
    runuser -u postgres -- psql -X -q -h /run/postgresql -d postgres -c 'create table acks (n bigint primary key, at timestamptz not null default now())'
else
    # pg_ctl returns once the standby accepts connections; its WAL receiver connects a moment later, and the next
    # target (synchronous_standby_names on the primary) refuses until it streams. Up to 30 s.
    i=0
    until [ "$(runuser -u postgres -- psql -X -q -At -h /run/postgresql -d postgres -c "select count(*) from pg_stat_wal_receiver where status = 'streaming'")" = 1 ] || [ $i -ge 300 ]; do
        sleep 0.1; i=$((i + 1))
    done
fi
