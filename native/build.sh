#!/bin/sh
# Builds the tiny netlink helper used by src/host/portprofile/qbh.ts.
# Needs a C compiler (cc/gcc) and the kernel uapi headers (Debian: linux-libc-dev).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
${CC:-cc} -O2 -Wall -Wextra -Werror -std=gnu11 -o "$here/build/vifd-netlink.tmp" "$here/vifd-netlink.c"
mv "$here/build/vifd-netlink.tmp" "$here/build/vifd-netlink"
echo "built $here/build/vifd-netlink"
