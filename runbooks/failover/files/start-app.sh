# Starts HAProxy (daemon) and runit's runsvdir over /etc/service, which runs the writer; returns once the writer
# has had a write acknowledged, or fails after 20 s. The harness kills what is left in the namespace at destroy.
set -eu
haproxy -D -f /etc/haproxy/haproxy.cfg
setsid -f runsvdir -P /etc/service </dev/null >/dev/null 2>&1
i=0
until [ -s /var/lib/writer/acks ]; do
    i=$((i + 1))
    if [ "$i" -gt 400 ]; then echo "no write acknowledged 20 s after the writer started: $(sv status /etc/service/writer 2>&1)" >&2; exit 1; fi
    sleep 0.05
done
