# data0, its objects and their checksums, and its fstab line as the incident had it (read-only). The remount
# read-only and loop0's allocation flag are DSL steps of their own targets: a drill re-applies them on a repaired VM.
#   $1 data0 MiB as found, $2 extent MiB, $3 checksum manifest, $4 fstab line, then the object sizes in bytes
# data0 fills loop0 and loop2 and ends on loop1, as the incident's LE 704-716 on loop1.
set -eu
# One LVM command for all three PE counts: each costs a device scan, most of a second in an emulated guest.
while read -r name count; do
    case $name in
        /dev/loop0) on0=$count ;;
        /dev/loop1) on1=$count ;;
        /dev/loop2) on2=$count ;;
    esac
done <<EOF
$(pvs --noheadings -o pv_name,pv_pe_count)
EOF
rest=$((($1 + $2 - 1) / $2 - on0 - on2))
[ "$rest" -ge 1 ] || rest=1
[ "$rest" -lt "$on1" ] || rest=$((on1 - 1))
lvcreate -q -y -l "$on0" -n data0 vg0 /dev/loop0
lvextend -q -l "+$on2" vg0/data0 /dev/loop2
lvextend -q -l "+$rest" vg0/data0 /dev/loop1
# nodiscard: a discarding mkfs would punch holes in the fallocated images and free /media space.
mkfs.ext4 -q -E nodiscard /dev/vg0/data0
mount /dev/vg0/data0 /data
manifest=$3 fstab=$4
shift 4
mkdir -p /data/objects "$(dirname -- "$manifest")"
cd /data/objects
n=0
for size in "$@"; do
    n=$((n + 1))
    head -c "$size" /dev/urandom > "object-$n.bin"
done
sha256sum -- * > "$manifest"
cd /
printf '%s\n' "$fstab" >> /etc/fstab
