# One round trip of the growth spec: writes files, then reports the usage.
#   $1 directory, $2 first file number, $3 how many files (0: only report), $4 MiB each, $5 the device
# Stops at the first failed write. Prints "FILESYSTEM_BYTES DF_SIZE DF_AVAIL": the filesystem's own size
# (block count x block size) and df's view, which leaves out ext4's metadata.
# [ is a shell builtin: the usage polls that follow cost no mkdir.
[ -d "$1" ] || mkdir -p -- "$1" || exit 1
i=$2
while [ "$i" -lt $(($2 + $3)) ]; do
    dd if=/dev/zero of="$1/$i" bs=1M count="$4" conv=fsync status=none || { echo "write of file $i failed" >&2; exit 1; }
    i=$((i + 1))
done
fs=$(dumpe2fs -h "$5" 2>/dev/null | awk -F: '/^Block count:/ { c = $2 } /^Block size:/ { s = $2 } END { printf "%.0f", c * s }')
echo "$fs $(df -B1 --output=size,avail "$1" | tail -n 1)"
