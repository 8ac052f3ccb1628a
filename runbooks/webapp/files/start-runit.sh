# Starts runit's runsvdir over /etc/service in this host (detached; the harness kills every process left in the
# namespace at destroy) and returns once the app it supervises answers on port 8080, or fails after 10 s.
set -eu
setsid -f runsvdir -P /etc/service </dev/null >/dev/null 2>&1
i=0
until curl -sf -o /dev/null --max-time 1 http://127.0.0.1:8080/; do
    i=$((i + 1))
    if [ "$i" -gt 200 ]; then echo "the app does not answer on 127.0.0.1:8080 10 s after runsvdir started: $(sv status /etc/service/app 2>&1)" >&2; exit 1; fi
    sleep 0.05
done
