#!/usr/bin/env bash
# The container backend's default image: Debian with what the shipped scenarios drive (python3 for probes and the
# incidents' daemons, curl, runit, iptables, iproute2, procps, logrotate), built with debootstrap from this machine's
# own Debian mirror because no image registry is reachable from CI machines of this kind.
#   debian-image.sh ENGINE          prints the image name (localhost/runbooks-debian:SUITE-KEY), building it if needed
#   debian-image.sh ENGINE --name   prints the name only, builds nothing
# ENGINE is podman or docker. The root filesystem is cached as a tarball under /var/cache/runbooks/images
# (RUNBOOK_IMAGE_CACHE moves it), keyed by suite, mirror and package list, so a new engine store or a second
# machine sharing the cache only imports it; the debootstrap runs once per key.
set -euo pipefail
engine=${1:?usage: debian-image.sh podman|docker [--name]}
packages=(python3 curl runit iptables iproute2 procps psmisc logrotate iputils-ping)

. /etc/os-release
suite=${VERSION_CODENAME:?/etc/os-release names no Debian suite}
# The first mirror apt itself uses for this suite, whatever format the sources are written in.
mirror=$(apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' 2>/dev/null | awk -v s="$suite" '$2 == s { print $1; exit }')
mirror=${mirror:-http://deb.debian.org/debian}
key=$(printf '%s\n' "$suite" "$mirror" "${packages[@]}" "layout 2" | sha256sum | cut -c1-12)
image="localhost/runbooks-debian:$suite-$key"
if [ "${2:-}" = "--name" ]; then echo "$image"; exit 0; fi

if "$engine" image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi

cache=${RUNBOOK_IMAGE_CACHE:-/var/cache/runbooks/images}
tarball="$cache/$suite-$key.tar"
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "debian-image: debootstrap is not installed; apt-get install debootstrap (harness/prerequisites.sh does)" >&2; exit 1; }
    root=$(mktemp -d "$cache/build.XXXXXX")
    trap 'rm -rf -- "$root"' EXIT
    echo "debian-image: building $image with debootstrap from $mirror (once per package list; a few minutes)" >&2
    if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror" >"$root.log" 2>&1; then
        echo "debian-image: debootstrap failed; its log: $root.log" >&2
        tail -5 "$root.log" >&2
        exit 1
    fi
    # Nothing a container needs from apt's lists; an empty machine-id, as images ship it, so no two hosts share one;
    # runit's own default-syslog service left out, so a runsvdir in the image supervises only what a scenario installs.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    rm -f "$root"/etc/runit/runsvdir/default/default-syslog
    : >"$root/etc/machine-id"
    tar -C "$root" --numeric-owner -cf "$tarball.part" .
    mv -f "$tarball.part" "$tarball"
    rm -f "$root.log"
fi
# podman reports its progress on stderr unless quiet; docker import has no such flag and prints only the image ID.
quiet=(); [ "$engine" = podman ] && quiet=(--quiet)
"$engine" import "${quiet[@]}" --change 'CMD ["/bin/sh"]' "$tarball" "$image" >/dev/null
echo "$image"
