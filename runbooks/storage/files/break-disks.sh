# The disks of the storage incident, in one round trip (under TCG every command costs a channel, a fork
# and an exec through the 9p root).
#   $1 /media size MiB, $2 disk image MiB, $3 loop1 data offset MiB, $4 loop2 PV MiB, $5 extent MiB
# The images on their own filesystem, loop0..2, and vg0 on three PVs each broken a different way: loop1 with
# a ~1 GiB data offset ("not usable 1.00 GiB"), loop2's PV smaller than its device.
set -eu
mkdir -p /media /data
mount -t tmpfs -o "size=$1m" tmpfs /media
for i in 0 1 2; do
    fallocate -l "$2M" -- "/media/disk$i.img"
    losetup "/dev/loop$i" "/media/disk$i.img"
done
# stdout of these is chatter ("Physical volume ... created").
pvcreate -q /dev/loop0 >/dev/null
pvcreate -q --dataalignment "$3m" /dev/loop1 >/dev/null
pvcreate -q --setphysicalvolumesize "$4m" /dev/loop2 >/dev/null
vgcreate -q -s "$5m" vg0 /dev/loop0 /dev/loop1 /dev/loop2 >/dev/null
