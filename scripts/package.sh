#!/usr/bin/env bash
# npm run package: builds dist/ (tsc + the bundled CLI), the native helpers,
# then dist/deb/vifd_<version>_<arch>.deb with dpkg-deb (no network):
#   /usr/bin/vifd                               launcher (contrib/debian/vifd.sh)
#   /usr/lib/vifd/{bin/vifd.js,dist/vifd.mjs,package.json}   the bundled CLI
#   /usr/lib/vifd/native/build/vifd-{netlink,notify}         the native helpers
#   /lib/systemd/system/vifd.service            contrib/vifd.service
#   /usr/share/man/man8/vifd.8.gz               `vifd man`
#   /usr/share/bash-completion/completions/vifd `vifd completion bash`
#   /etc/vifd/bindings.d/                       where bindings go
# Version from package.json. Prints the .deb's path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent build
bash native/build.sh >/dev/null

version=$(node -p "require('./package.json').version" | sed 's/-/~/g')
arch=$(dpkg --print-architecture)
name="vifd_${version}_${arch}"
out=dist/deb
stage="$out/$name"
rm -rf "$stage" "$out/$name.deb"
mkdir -p "$stage"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

install -d -m 0755 "$stage"/{DEBIAN,usr/bin,usr/lib/vifd/bin,usr/lib/vifd/dist,usr/lib/vifd/native/build,lib/systemd/system} \
  "$stage"/usr/share/{man/man8,bash-completion/completions,doc/vifd/examples} "$stage/etc/vifd/bindings.d"
install -m 0755 contrib/debian/vifd.sh "$stage/usr/bin/vifd"
install -m 0755 bin/vifd.js "$stage/usr/lib/vifd/bin/vifd.js"
install -m 0644 dist/vifd.mjs "$stage/usr/lib/vifd/dist/vifd.mjs"
# ES module scope for bin/vifd.js, and the version.
node -e 'const p = require("./package.json"); process.stdout.write(JSON.stringify({ name: p.name, version: p.version, type: "module", private: true }, null, 2) + "\n")' \
  > "$stage/usr/lib/vifd/package.json"
chmod 0644 "$stage/usr/lib/vifd/package.json"
install -m 0755 native/build/vifd-netlink native/build/vifd-notify "$stage/usr/lib/vifd/native/build/"
strip --strip-unneeded "$stage"/usr/lib/vifd/native/build/* 2>/dev/null || true
install -m 0644 contrib/vifd.service "$stage/lib/systemd/system/vifd.service"
node bin/vifd.js man | gzip -9n > "$stage/usr/share/man/man8/vifd.8.gz"
node bin/vifd.js completion bash > "$stage/usr/share/bash-completion/completions/vifd"
install -m 0644 README.md "$stage/usr/share/doc/vifd/README.md"
if [ -d examples/demo ]; then install -m 0644 examples/demo/*.json "$stage/usr/share/doc/vifd/examples/" 2>/dev/null || true; fi
cat > "$stage/usr/share/doc/vifd/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vifd

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
chmod 0644 "$stage"/usr/share/bash-completion/completions/vifd "$stage"/usr/share/doc/vifd/copyright "$stage"/usr/share/man/man8/vifd.8.gz

for script in postinst prerm postrm; do install -m 0755 "contrib/debian/$script" "$stage/DEBIAN/$script"; done
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: vifd
Version: $version
Architecture: $arch
Maintainer: vifd maintainers <vifd@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: nodejs (>= 20.19), iproute2, libc6
Recommends: openvswitch-switch, lldpad
Description: declarative VIF plugging agent
 vifd plugs virtual machine NICs into host networking: Linux bridge + tap,
 Open vSwitch (plain or hybrid), macvtap with 802.1Qbg (VDP through lldpad)
 or 802.1Qbh port profiles. Callers say which port bindings should exist;
 vifd makes the host match, keeps it matching, and reports per binding the
 libvirt <interface> XML to use. It changes only what it created and marked.
CONTROL
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/$name.deb" >/dev/null
rm -rf "$stage"
echo "$out/$name.deb"
