# $1 the web root, $2 the internal service's program. Starts both daemons detached from this shell (the harness
# kills every process left in the namespace at destroy) and returns once both ports listen, or fails after 10 s.
set -eu
setsid -f python3 -m http.server 8080 --bind 0.0.0.0 --directory "$1" </dev/null >/dev/null 2>&1
setsid -f python3 "$2" </dev/null >/dev/null 2>&1
i=0
until ss -Hltn | grep -q ':8080 ' && ss -Hltn | grep -q ':9000 '; do
    i=$((i + 1))
    if [ "$i" -gt 200 ]; then echo "the web (8080) or internal (9000) service does not listen 10 s after start; is python3 installed?" >&2; exit 1; fi
    sleep 0.05
done
