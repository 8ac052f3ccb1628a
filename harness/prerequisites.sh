#!/usr/bin/env bash
# Installs the Debian packages the harness and the end-to-end tests drive for real: qemu for the microVM,
# lvm2/e2fsprogs/busybox inside it (the guest runs this machine's root read-only), wireguard-go because
# these kernels lack the WireGuard module, iptables/iproute2 for the namespaces, sshd for the guest,
# runit as a supervisor for the services scenarios, systemd for the microVM guests that boot it as PID 1
# (MicroVm().Systemd(): the guest runs this machine's /lib/systemd/systemd), logrotate for the webapp incident,
# lua5.4 (luac) to check the Neovim settings `runbook editor setup` writes, git for `run --at REV`,
# podman (runc: crun cannot start containers on cgroup-v1 hosts; catatonit: the init of each container) and
# debootstrap for the containers backend, whose default Debian image is then built and cached here;
# PostgreSQL 15, HAProxy and socat (its admin socket) for the failover incident.
# Only missing packages are installed, so a second run costs a dpkg query (and the cached image an inspect).
set -euo pipefail
packages=(qemu-system-x86 qemu-utils lvm2 e2fsprogs util-linux busybox-static cpio xz-utils kmod
  openssh-server openssh-client wireguard-tools wireguard-go iptables iproute2 iputils-ping
  python3 curl procps psmisc runit systemd logrotate lua5.4 git podman runc catatonit debootstrap
  postgresql-15 haproxy socat)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "error: the .NET SDK 10 (dotnet) is not on PATH" >&2; exit 1; }
# The containers backend's default image, built once per package list (a few minutes) and cached, so that the first
# container replay does not pay for it. Only beside the harness's files: piped through `runbook harness
# prerequisites | sudo bash`, the backend builds it on first use instead.
here=""; [ -f "${BASH_SOURCE[0]:-}" ] && here=$(dirname -- "${BASH_SOURCE[0]}")
for image_script in "$here/Backends/Container/debian-image.sh" "$here/debian-image.sh"; do
  if [ -n "$here" ] && [ -f "$image_script" ] && [ "$(id -u)" -eq 0 ]; then
    image=$(bash "$image_script" podman) || { echo "error: the containers backend's Debian image could not be built (see above)" >&2; exit 1; }
    echo "container image: $image"
    break
  fi
done
echo "prerequisites: ok"
