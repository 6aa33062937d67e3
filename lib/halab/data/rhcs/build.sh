#!/bin/sh
# Builds Red Hat Cluster Suite (corosync 1.4.7, openais 1.1.4, cluster 3.2.0, rgmanager's agents
# from resource-agents 4.12.0) inside a throw-away Debian 12 build chroot made by halab
# (lib/halab/lab/rhcs.py). Runs as root in that chroot:
#   /build/src/*.tar.gz      the verified upstream tarballs
#   /build/patches/*.patch   halab's minimal source fixes (each says why), applied with -p1
#   /build/out/rhcs-tree.tar.gz   the result: the installed tree, paths relative to /
# Each piece is installed twice: into the chroot's / (the next piece builds against it) and into
# /build/out/root (the tree that goes into the guest image). Prefix /usr and the lcrso directory
# /usr/lib/lcrso follow Proxmox's wheezy packaging, so corosync finds cman's service plugin.
# Lines starting with "rhcs-build:" are progress for halab; everything else goes to the build log.
set -eu
S=/build/src
O=/build/out/root
W=/build/work
J=${HALAB_JOBS:-2}
step() { echo "rhcs-build: $*"; }
# gcc >= 10 defaults to -fno-common; this 2010-era code defines globals in headers.
COMMON="-O2 -g0 -fcommon"
rm -rf "$W" "$O"; mkdir -p "$W" "$O"
cd "$W"
for t in "$S"/*.tar.gz; do tar xzf "$t"; done

both() { make install >/dev/null && make install DESTDIR="$O" >/dev/null; }

step "corosync 1.4.7: configure"
cd "$W"/corosync-1.4.7
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --mandir=/usr/share/man \
    --with-lcrso-dir=/usr/lib/lcrso CFLAGS="$COMMON" >/dev/null
step "corosync 1.4.7: make (about 2 min on 2 cores)"
make -j"$J" >/dev/null
both

step "openais 1.1.4: configure"
cd "$W"/openais-1.1.4
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --mandir=/usr/share/man \
    --with-lcrso-dir=/usr/lib/lcrso CFLAGS="$COMMON" >/dev/null
step "openais 1.1.4: make (about 1 min)"
make -j"$J" >/dev/null
both

step "cluster 3.2.0: patches"
cd "$W"/cluster-3.2.0
for p in /build/patches/cluster-*.patch; do
    patch -p1 -s < "$p"
    step "  applied $(basename "$p")"
done
step "cluster 3.2.0: configure"
# -fgnu89-inline: qdiskd's C89 `inline` helpers are declared `extern inline` elsewhere; under
# gnu11 no out-of-line copy is emitted and get_time/_diff_tv are undefined at link.
# -rpath-link: libcman etc. link indirectly to corosync's libcoroipcc.
# --release_version: without it configure stamps `date +%s` as the version (the tarball's
# make/official_release_version names only the SONAME), and the tools print a build time.
./configure --prefix=/usr --libexecdir=/usr/lib --disable_dbus --without_bindings --release_version=3.2.0 \
    --disable_kernel_check --corosyncbin=/usr/sbin/corosync \
    --extracflags="-fcommon -fgnu89-inline" --extraldflags="-Wl,-rpath-link,/usr/lib" >/dev/null
step "cluster 3.2.0: make (cman, qdiskd, fenced, dlm_controld, rgmanager; about 4 min)"
make -j"$J" >/dev/null
both

step "resource-agents 4.12.0: rgmanager's agents"
cd "$W"/resource-agents-4.12.0
./autogen.sh >/dev/null 2>&1
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --with-ras-set=rgmanager >/dev/null
make -j"$J" >/dev/null
make install DESTDIR="$O" >/dev/null

step "packing the installed tree"
rm -rf "$O"/usr/share/doc "$O"/usr/share/man "$O"/usr/include "$O"/etc/init.d
find "$O" -name '*.a' -delete
find "$O" -name '*.la' -delete
tar -C "$O" --owner=0 --group=0 --numeric-owner -czf /build/out/rhcs-tree.tar.gz .
step "done: $(du -sk "$O" | cut -f1) KiB installed"
