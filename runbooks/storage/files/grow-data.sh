# The growth spec's writer: files back to back, no pause, as test-storage.sh wrote them.
#   $1 directory, $2 most files, $3 MiB each, $4 the device, $5 goal: stop once the filesystem has this many bytes
# Prints "FILE SECONDS FILESYSTEM_BYTES DF_SIZE DF_AVAIL" before the first file (FILE 0) and after each one: the
# filesystem's own size (block count x block size), df's view (which leaves out ext4's metadata), and the
# time from /proc/uptime. Stops at the first failed write, saying so on stderr. Nothing here grows anything.
dir=$1 most=$2 mib=$3 dev=$4 goal=$5
[ -d "$dir" ] || mkdir -p -- "$dir" || exit 1

# Built-ins only besides one dumpe2fs and one df: each process costs a fork and an exec through the VM's 9p root.
report() {
    count= bsize=
    while IFS=: read -r key value; do
        case "$key" in
            "Block count") count=${value##* } ;;
            "Block size") bsize=${value##* } ;;
        esac
    done <<INFO
$(dumpe2fs -h "$dev" 2>/dev/null)
INFO
    fs=$((${count:-0} * ${bsize:-0}))
    set -- $(df -B1 --output=size,avail "$dir")
    read -r up _ < /proc/uptime
    echo "$n $up $fs $3 $4"
}

n=0
report
while [ "$n" -lt "$most" ] && [ "$fs" -lt "$goal" ]; do
    n=$((n + 1))
    dd if=/dev/zero of="$dir/$n" bs=1M count="$mib" conv=fsync status=none || { echo "write of file $n failed" >&2; exit 1; }
    report
done
