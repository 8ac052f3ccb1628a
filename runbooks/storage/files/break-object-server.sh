# The object server, holding a deleted file that eats the room disk3.img needs.
#   $1 server path, $2 its text, $3 wrapper path, $4 its text, $5 the scratch file the server holds,
#   $6 MiB to leave free on /media, $7 disk image MiB
# Starts the wrapped server, which opens and unlinks the scratch file, and waits until it answers. Exits 3
# when disk3.img would still fit (the break would not be faithful), 4 when the server does not answer in 30 s.
set -eu
printf '%s' "$2" > "$1"; chmod 755 "$1"
printf '%s' "$4" > "$3"; chmod 755 "$3"
avail=$(df -B1 --output=avail /media | tail -n 1 | tr -d ' ')
fallocate -l "$((avail - $6 * 1024 * 1024))" -- "$5"
setsid -f "$3" </dev/null >/dev/null 2>&1
tries=0
until [ ! -e "$5" ] && curl -sf -o /dev/null --max-time 5 http://127.0.0.1:8000/; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "the object server did not answer on port 8000 within 30 s; run $3 by hand in the VM (harness exec) to see why; its log:" >&2
        tail -n 20 /var/log/server.log >&2 || true
        exit 4
    fi
    sleep 0.1
done
if fallocate -l "$7M" -- /media/disk3.img 2>/dev/null; then
    rm -f -- /media/disk3.img
    echo "the break is not faithful: disk3.img ($7M) fits on /media while the deleted file is held; check the sizes in storage.scenario.csx" >&2
    exit 3
fi
rm -f -- /media/disk3.img
