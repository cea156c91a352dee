#!/bin/sh
# Builds the native helpers: vifd-netlink (used by src/host/portprofile/qbh.ts)
# and vifd-guard (every host command runs under it, src/host/run.ts).
# Needs a C compiler (cc/gcc) and the kernel uapi headers (Debian: linux-libc-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
for tool in vifd-netlink vifd-guard; do
  ${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$here/build/$tool.tmp" "$here/$tool.c"
  mv "$here/build/$tool.tmp" "$here/build/$tool"
  echo "built $here/build/$tool"
done
