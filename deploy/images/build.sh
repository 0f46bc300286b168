#!/usr/bin/env bash
# Builds every service's image on this machine with podman, pulling nothing from a container
# registry (none is reachable here):
#   1. a base image made of what is here: Node 24 from the project's node_modules (the npm
#      `node` package), the shared libraries it loads, npm, the CA certificates and a user 1000;
#   2. each service's image from its own Dockerfile, unchanged, FROM that base
#      (--build-arg NODE_IMAGE=localhost/baton-node:24).
# The Dockerfiles' RUN step needs a container runtime, which this sandbox refuses ("cgroups in
# hybrid mode not supported"), so they run with --isolation chroot. Anywhere else,
# `podman build` or `docker build` works as each Dockerfile's header says.
#
#   deploy/images/build.sh                 # every service, tagged localhost/baton-<name>:dev
#   TAG=0.1.0 deploy/images/build.sh orders payment
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

readonly tag=${TAG:-dev}
readonly base_image=localhost/baton-node:24
mapfile -t services < <(if (($# > 0)); then printf '%s\n' "$@"; else ls services; fi)

node_binary=$(readlink -f node_modules/node/bin/node 2>/dev/null || true)
if [[ ! -x $node_binary ]]; then
  echo 'node_modules/node/bin/node is not there: run npm install first' >&2
  exit 1
fi
# npm's own folder, from the npm that runs this (npm run sets npm_execpath) or the one on the PATH;
# not `npm root -g`, which answers inside node_modules/node when the project's Node is first on the PATH.
npm_cli=${npm_execpath:-}
if [[ -z $npm_cli || ! -f $npm_cli ]]; then
  npm_cli=$(readlink -f "$(command -v npm)")
fi
npm_folder=$(dirname "$(dirname "$npm_cli")")
if [[ ! -f $npm_folder/bin/npm-cli.js ]]; then
  echo "npm is not at $npm_folder" >&2
  exit 1
fi

# What the base is made of; unchanged, the base is kept, so podman's cache keeps every
# service's layers whose files have not changed either.
base_key=$( { sha256sum "$node_binary" /etc/ssl/certs/ca-certificates.crt; cat "$npm_folder/package.json"; ldd "$node_binary" | awk '{ print $1, $3 }'; } | sha256sum | cut -c1-16)
if [[ $(podman image inspect --format '{{index .Labels "baton.base-key"}}' "$base_image" 2>/dev/null) == "$base_key" ]]; then
  echo "==> base image $base_image (kept: nothing it is made of changed)"
  build_base=false
else
  build_base=true
fi

if $build_base; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  echo "==> base image $base_image ($("$node_binary" --version), from node_modules/node)"
  mkdir -p "$rootfs"/usr/local/bin "$rootfs"/usr/local/lib/node_modules "$rootfs"/etc/ssl/certs "$rootfs"/tmp "$rootfs"/app \
    "$rootfs"/proc "$rootfs"/dev "$rootfs"/sys "$rootfs"/run
  # Where a runtime mounts the host's name files (a chroot, the multi-host proof, binds them).
  touch "$rootfs"/etc/hosts "$rootfs"/etc/resolv.conf
  cp "$node_binary" "$rootfs/usr/local/bin/node"
  # The libraries node loads, where the dynamic linker looks for them.
  while read -r library; do
    mkdir -p "$rootfs$(dirname "$library")"
    cp -L "$library" "$rootfs$library"
  done < <(ldd "$node_binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }')
  # Where a public Node image keeps npm, so the Dockerfiles' RUN finds it the same way in both.
  cp -r "$npm_folder" "$rootfs/usr/local/lib/node_modules/npm"
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/app:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' > "$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  cat > "$rootfs/Containerfile" <<'CONTAINERFILE'
FROM scratch
COPY . /
ENV PATH=/usr/local/bin:/usr/bin:/bin
# This machine's certificate authorities, which its own npm trusts (its registry may be reached
# through a proxy with an authority of its own); Node adds them to the ones it ships.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CONTAINERFILE
  echo "LABEL baton.base-key=$base_key" >> "$rootfs/Containerfile"
  printf 'Containerfile\n' > "$rootfs/.containerignore"
  podman build --quiet --isolation chroot -t "$base_image" "$rootfs" > /dev/null
fi

# One service's image; its line says how big it is and how long it took.
build_one() {
  local service=$1 started=$SECONDS size
  podman build --quiet --isolation chroot --build-arg "NODE_IMAGE=$base_image" \
    -f "services/$service/Dockerfile" -t "localhost/baton-$service:$tag" . > /dev/null
  size=$(podman image inspect --format '{{.Size}}' "localhost/baton-$service:$tag")
  echo "==> localhost/baton-$service:$tag ($((size / 1048576)) MB, $((SECONDS - started)) s)"
}

# As many builds at once as there are cores (JOBS to choose): each is mostly npm install and
# a layer commit, and one alone leaves a core idle part of the time.
readonly jobs=${JOBS:-$(nproc)}
failed=()
declare -A building=()
reap_one() {
  local pid
  wait -n -p pid "${!building[@]}" || failed+=("${building[$pid]}")
  unset "building[$pid]"
}
for service in "${services[@]}"; do
  while ((${#building[@]} >= jobs)); do reap_one; done
  build_one "$service" &
  building[$!]=$service
done
while ((${#building[@]} > 0)); do reap_one; done
if ((${#failed[@]} > 0)); then
  echo "could not build: ${failed[*]}" >&2
  exit 1
fi
