#!/usr/bin/env bash
# Installs the Debian packages the local cluster's real node and its image builder run on
# (cluster/real-node.sh, cluster/images/builder.sh): containerd, runc, the CNI plugins, iptables,
# conntrack, socat, and Debian's docker-registry (the local stand-in for GHCR).
# Idempotent and quiet: when everything is present it returns without touching apt.
set -euo pipefail

packages=(containerd runc containernetworking-plugins iptables conntrack socat docker-registry)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "install-real-node: not root; missing: ${missing[*]} (the real node cannot start)" >&2
  exit 1
fi
echo "install-real-node: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The packages' own services stay stopped: the real node runs its own containerd (and registry).
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.monkeytown
chmod +x /usr/sbin/policy-rc.d.monkeytown
had_policy=""
[[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
[[ -n "$had_policy" ]] || cp /usr/sbin/policy-rc.d.monkeytown /usr/sbin/policy-rc.d
trap '[[ -n "$had_policy" ]] || rm -f /usr/sbin/policy-rc.d; rm -f /usr/sbin/policy-rc.d.monkeytown' EXIT
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
