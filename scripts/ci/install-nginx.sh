#!/usr/bin/env bash
# Installs what the real-nginx tests (components/web/nginx.real.test.ts) and the benchmark
# (bench/nginx-bench.ts) need, from Debian's archive: nginx, the Brotli modules when the archive
# has them, bubblewrap (read-only root for the test) and wrk (load generator).
# Idempotent and quiet: when everything is present it returns without touching apt.
set -euo pipefail

required=(nginx-light bubblewrap wrk)
optional=(libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static)

missing=()
for pkg in "${required[@]}" "${optional[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# nginx from any of Debian's flavours (nginx, nginx-light, nginx-core, nginx-full) is fine.
if command -v nginx >/dev/null 2>&1; then
  filtered=()
  for pkg in "${missing[@]}"; do [[ "$pkg" == nginx-light ]] || filtered+=("$pkg"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "install-nginx: not root and no sudo; missing: ${missing[*]} (real-nginx tests will skip)" >&2
    exit 0
  fi
else
  SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# Quiet on success; the whole apt output on failure.
apt_get() {
  if ! "${SUDO[@]}" apt-get -qq -o=Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
}

# Refresh the package lists only if they are missing or older than a day.
if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1) ]]; then
  apt_get update
fi

install=()
for pkg in "${missing[@]}"; do
  if apt-cache show "$pkg" >/dev/null 2>&1; then
    install+=("$pkg")
  else
    for req in "${required[@]}"; do
      if [[ "$pkg" == "$req" ]]; then
        echo "install-nginx: $pkg is not in the apt archive" >&2
        exit 1
      fi
    done
    echo "install-nginx: optional $pkg is not in the apt archive; continuing without it" >&2
  fi
done

# Debian's nginx postinst starts the service when it can; policy-rc.d 101 keeps it from doing so.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy && ${#SUDO[@]} -eq 0 ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap 'rm -f "$log"; if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi' EXIT

apt_get install -y --no-install-recommends "${install[@]}"
echo "install-nginx: installed ${install[*]}"
