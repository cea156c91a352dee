#!/usr/bin/env bash
# Creates the etcd user and role of one vifd host: read its bindings, write its
# statuses and its alive key, nothing else (no other host, no other key).
#
#   scripts/etcd-host-role.sh HOST PASSWORD_FILE          # user and role vifd-host-HOST
#   scripts/etcd-host-role.sh --fleet-reader NAME PASSWORD_FILE   # read-only view of every host (vifd status --etcd)
#
# etcdctl is configured the usual way, by its environment: ETCDCTL_ENDPOINTS,
# ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY, ETCDCTL_USER (an admin, e.g.
# root:PASSWORD). The password is passed on stdin, never on a command line.
# Run it again to update the role; an existing user keeps its password unless
# --reset-password is given first.
# vifd then runs with: --hostname HOST --etcd-user vifd-host-HOST --etcd-password-file PASSWORD_FILE
# Leases need no key permission; revoking one needs write on its keys (granted).
set -euo pipefail
export ETCDCTL_API=3
reset=0
if [[ ${1:-} == --reset-password ]]; then reset=1; shift; fi
if [[ ${1:-} == --fleet-reader ]]; then
  [[ $# -eq 3 ]] || { echo "usage: $0 --fleet-reader NAME PASSWORD_FILE" >&2; exit 2; }
  user=$2 role=$2 file=$3
  grants=(read /vifd/v1/hosts/ --prefix=true)
else
  [[ $# -eq 2 ]] || { echo "usage: $0 [--reset-password] HOST PASSWORD_FILE | --fleet-reader NAME PASSWORD_FILE" >&2; exit 2; }
  host=$1 file=$2
  [[ $host =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$ ]] || { echo "$0: $host: not usable as an etcd key segment" >&2; exit 2; }
  user=vifd-host-$host role=vifd-host-$host
fi
[[ -r $file ]] || { echo "$0: $file: cannot read the password file" >&2; exit 2; }
password=$(head -n1 -- "$file")
[[ -n $password ]] || { echo "$0: $file: empty password" >&2; exit 2; }

exists() { etcdctl "$1" get "$2" >/dev/null 2>&1; }

exists role "$role" || etcdctl role add "$role" >/dev/null
if [[ -n ${host:-} ]]; then
  # Revoke, then grant: a re-run re-sets these three (grants added by hand elsewhere stay).
  p=/vifd/v1/hosts/$host
  etcdctl role revoke-permission "$role" "$p/bindings/" --prefix=true >/dev/null 2>&1 || true
  etcdctl role revoke-permission "$role" "$p/status/" --prefix=true >/dev/null 2>&1 || true
  etcdctl role revoke-permission "$role" "$p/alive" >/dev/null 2>&1 || true
  etcdctl role grant-permission "$role" read "$p/bindings/" --prefix=true >/dev/null
  etcdctl role grant-permission "$role" write "$p/status/" --prefix=true >/dev/null
  etcdctl role grant-permission "$role" write "$p/alive" >/dev/null
else
  etcdctl role grant-permission "$role" "${grants[@]}" >/dev/null
fi
if exists user "$user"; then
  if [[ $reset -eq 1 ]]; then printf '%s\n' "$password" | etcdctl user passwd "$user" --interactive=false >/dev/null; fi
else
  printf '%s\n' "$password" | etcdctl user add "$user" --interactive=false >/dev/null
fi
etcdctl user grant-role "$user" "$role" >/dev/null
echo "etcd user $user with role $role:"
etcdctl role get "$role"
