#!/bin/sh
# Builds the tiny native helpers:
#   vifd-netlink  raw netlink requests (src/host/portprofile/qbh.ts); needs the
#                 kernel uapi headers (Debian: linux-libc-dev)
#   vifd-notify   sd_notify datagrams to systemd (src/host/sd-notify.ts)
# Needs a C compiler (cc/gcc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
for helper in vifd-netlink vifd-notify; do
  ${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$here/build/$helper.tmp" "$here/$helper.c"
  mv "$here/build/$helper.tmp" "$here/build/$helper"
  echo "built $here/build/$helper"
done
