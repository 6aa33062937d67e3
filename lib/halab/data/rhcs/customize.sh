#!/bin/sh
# mmdebstrap customize hook of the RHCS image, run after the built-in guest's own hook:
# $1 is the root file system, $2 the compiled RHCS tree (lib/halab/lab/rhcs.py).
set -eu
R=$1
T=$2
G=$(dirname "$0")
# Debian's corosync 3 ships the sonames of corosync 1.4.7 (libcpg.so.4 ...): with it in the image,
# fenced and dlm_controld fail "cpg_initialize error 2" and cman never starts. Refuse such an image.
for p in corosync libcpg4 libcorosync-common4; do
    if chroot "$R" dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
        echo "RHCS image: Debian's $p got in (a guest package depends on it): refusing the image" >&2
        exit 1
    fi
done
# Debian 12 merges /usr: keep /lib, /sbin ... the symlinks they are.
tar -xzf "$T" -C "$R" --keep-directory-symlink --no-overwrite-dir
chroot "$R" ldconfig
install -m 0755 "$G/halab-cman" "$R/usr/local/sbin/halab-cman"
install -m 0755 "$G/halab-rgmanager-stop" "$R/usr/local/sbin/halab-rgmanager-stop"
# Units installed, not enabled: a fenced node must not rejoin on its own (the seed's advice).
install -m 0644 "$G/cman.service" "$G/rgmanager.service" "$R/etc/systemd/system/"
# The seed's cluster.conf runs its application as <script file="/etc/init.d/myappl">: an LSB
# wrapper around the image's myappl unit, so rgmanager's script.sh can start/stop/status it.
install -m 0755 "$G/myappl.init" "$R/etc/init.d/myappl"
mkdir -p "$R/etc/cluster" "$R/var/lib/corosync" "$R/var/lib/cluster" "$R/var/log/cluster"
printf 'd /run/cluster 0755 root root -\n' > "$R/etc/tmpfiles.d/halab-rhcs.conf"
# cluster.rng for ccs_config_validate: ccs_update_schema asks every resource and fence agent for
# its metadata (70 python fence agents: minutes under TCG on every node); done once here, cached
# in /var/lib/cluster and reused while the agents do not change.
chroot "$R" ccs_update_schema -f
# the kernel DLM and configfs load on demand (halab-cman); make sure the image has them
ls "$R"/lib/modules/*/kernel/fs/dlm/dlm.ko* >/dev/null
