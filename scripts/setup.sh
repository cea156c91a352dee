#!/usr/bin/env bash
# Installs everything vifd needs on a Debian host (root): system packages,
# npm packages, the native port-profile helper, and the compiled CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(iproute2 procps coreutils openvswitch-switch lldpad etcd-server etcd-client libvirt-clients libxml2-utils python3-os-vif bc gcc libc6-dev qemu-system-x86 ipxe-qemu dnsmasq-base ovn-central ovn-host openssl systemd groff-base python3 iputils-ping)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Installing must not start system-wide daemons that would touch the host's
  # network: vifd's tests and demo run their own private instances.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
bash native/build.sh

# The os-vif plugin (integrations/os-vif) for Debian's /usr/bin/python3 and its
# python3-os-vif: the package and its egg-info (entry point os_vif: vifd) copied
# into a dist-packages directory that interpreter searches. No pip needed.
osvif_site=$(/usr/bin/python3 -c 'import sys; print("/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2])')
mkdir -p "$osvif_site"
rm -rf "$osvif_site/vif_plug_vifd" "$osvif_site/vif_plug_vifd.egg-info"
cp -r integrations/os-vif/vif_plug_vifd integrations/os-vif/vif_plug_vifd.egg-info "$osvif_site/"
find "$osvif_site/vif_plug_vifd" -name __pycache__ -prune -exec rm -rf {} +
/usr/bin/python3 -c 'import importlib.metadata as m, sys; sys.exit(0 if any(e.name == "vifd" for e in m.entry_points(group="os_vif")) else 1)' \
  || { echo "setup: the os-vif plugin is not visible to /usr/bin/python3 (installed in $osvif_site)" >&2; exit 1; }
npm run --silent build
echo "setup: done"
