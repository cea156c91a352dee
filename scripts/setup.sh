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
npm run --silent build
echo "setup: done"
