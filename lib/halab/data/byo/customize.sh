#!/bin/sh
# mmdebstrap customize hook of the proof user image: $1 is its root file system.
# Only what a prudent admin's golden image has: no lab identity (that comes from the NoCloud seed),
# cluster daemons installed but off at boot, a serial console, root found by file system label.
set -eu
R=$1
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id" "$R"/etc/ssh/ssh_host_*
printf 'LABEL=halab-byo / ext4 defaults,errors=remount-ro 0 1\n' > "$R/etc/fstab"
printf 'halab-byo\n' > "$R/etc/hostname"
mkdir -p "$R/etc/cloud/cloud.cfg.d"
# Only the NoCloud seed (and nothing): no probing for cloud metadata services that are not there.
# C.UTF-8 is built into libc: cloud-init's locale module needs no locale generated for it.
printf 'datasource_list: [ NoCloud, None ]\nlocale: C.UTF-8\n' > "$R/etc/cloud/cloud.cfg.d/90-halab-byo.cfg"
chroot "$R" systemctl enable serial-getty@ttyS0.service ssh.service systemd-networkd.service 2>/dev/null || true
for unit in corosync pacemaker; do
    chroot "$R" systemctl disable "$unit.service" 2>/dev/null || true
done
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*
