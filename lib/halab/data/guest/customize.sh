#!/bin/sh
# mmdebstrap customize hook: $1 is the root file system of the image being built.
set -eu
R=$1
G=$(dirname "$0")
install -m 0755 "$G/halab-identity" "$R/usr/local/sbin/halab-identity"
install -m 0644 "$G/halab-identity.service" "$R/etc/systemd/system/halab-identity.service"
install -m 0644 "$G"/10-halab-*.link "$R/etc/systemd/network/"
install -m 0755 "$G/myappl" "$R/usr/local/bin/myappl"
install -m 0644 "$G/myappl.service" "$R/etc/systemd/system/myappl.service"
chroot "$R" systemctl enable halab-identity.service systemd-networkd.service ssh.service iscsid.socket open-iscsi.service
# The seed's advice: a fenced node must not rejoin on its own, so cluster daemons stay off at boot.
for unit in corosync pacemaker pcsd pcsd-ruby sbd corosync-qdevice myappl; do
    chroot "$R" systemctl disable "$unit.service" 2>/dev/null || true
done
chroot "$R" systemctl mask systemd-networkd-wait-online.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer 2>/dev/null || true
echo "iscsi_tcp" > "$R/etc/modules-load.d/iscsi.conf"
echo "i6300esb" > "$R/etc/modules-load.d/watchdog.conf"
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' > "$R/etc/fstab"
printf 'node.startup = automatic\nnode.session.timeo.replacement_timeout = 15\n' >> "$R/etc/iscsi/iscsid.conf"
sed -i 's/^#\?UseDNS.*/UseDNS no/' "$R/etc/ssh/sshd_config"
echo 'UseDNS no' >> "$R/etc/ssh/sshd_config"
mkdir -p "$R/data01"
# Serial console for the lab's console log; short journal for a small image.
chroot "$R" systemctl enable serial-getty@ttyS0.service 2>/dev/null || true
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\nSystemMaxUse=64M\nForwardToConsole=no\n' > "$R/etc/systemd/journald.conf.d/halab.conf"
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*
