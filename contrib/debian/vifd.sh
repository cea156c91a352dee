#!/bin/sh
# /usr/bin/vifd: runs the bundled CLI installed next to it (../lib/vifd).
# Resolved from this script's own location, so an unpacked copy of the
# package (e.g. in a test root) runs its own files.
here=$(dirname "$(readlink -f "$0")")
exec "${VIFD_NODE:-node}" "$here/../lib/vifd/bin/vifd.js" "$@"
