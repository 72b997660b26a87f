#!/usr/bin/env bash
# Build the Dockerfile with podman and run the image once on the fixtures, checking that its
# outputs are byte-identical to the same command run outside the container.
#
#   scripts/check-container.sh              # base image node:20-bookworm-slim from a registry
#   scripts/check-container.sh --stand-in   # no registry: build a stand-in base image locally
#
# Needs podman (Debian: apt-get install podman buildah runc; with --stand-in also
# debootstrap, and a Node 20 installed from a Debian package, which is copied into the
# stand-in). Run as root, from anywhere; `npm run build` first (the host run uses dist/).
#
# --stand-in is for machines that reach Debian's mirror and the npm registry but no
# container registry: the base image is then Debian bookworm (debootstrap, minbase) plus
# this machine's Node 20 and npm, its CA bundle (a TLS-intercepting proxy in front of the
# npm registry needs it) and a `node` user (uid 1000), which is what the Dockerfile uses of
# node:20-bookworm-slim. The Dockerfile itself is built unchanged.
#
# The build uses --isolation chroot and the run runc with lowered ulimits: on kernels with
# hybrid cgroups crun refuses to start containers, and sandboxes that forbid raising
# resource limits make podman's defaults (1M open files) fail. Neither changes the image.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE=localhost/samlite:check
# A name short-name resolution cannot confuse with the real node image.
STANDIN=localhost/samlite-standin-node20:bookworm-slim
NODE_IMAGE=docker.io/library/node:20-bookworm-slim
PULL=missing
WORK="$(mktemp -d /tmp/samlite-container-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

say() { printf '%s\n' "$*" >&2; }
command -v podman >/dev/null || { say "podman is not installed (Debian: apt-get install podman buildah runc)"; exit 2; }
[[ -f "$ROOT/dist/cli/main.js" ]] || { say "dist/ is missing: run npm run build first"; exit 2; }

if [[ "${1:-}" == "--stand-in" ]]; then
  command -v debootstrap >/dev/null || { say "--stand-in needs debootstrap (apt-get install debootstrap)"; exit 2; }
  dpkg -S "$(command -v node)" >/dev/null 2>&1 || { say "--stand-in copies a Node installed from a Debian package; $(command -v node) is not one"; exit 2; }
  [[ "$(node --version)" == v20.* ]] || { say "--stand-in needs Node 20 on this machine, found $(node --version)"; exit 2; }
  say "building the stand-in base image $STANDIN"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { say "debootstrap failed: see $WORK/debootstrap.log"; trap - EXIT; exit 1; }
  dpkg -L nodejs | while read -r f; do
    if [[ -L "$f" || -f "$f" ]]; then mkdir -p "$WORK/rootfs$(dirname "$f")"; cp -a "$f" "$WORK/rootfs$f"; fi
  done
  # npm as installed here (it may have been upgraded after the Debian package).
  rm -rf "$WORK/rootfs/usr/lib/node_modules/npm"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$WORK/rootfs/usr/lib/node_modules/npm"
  mkdir -p "$WORK/rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/rootfs/etc/ssl/certs/host-ca-bundle.crt"
  chroot "$WORK/rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$WORK/rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-bundle.crt' \
    --change 'CMD ["node"]' - "$STANDIN" >/dev/null 2>&1
  rm -rf "$WORK/rootfs"
  NODE_IMAGE="$STANDIN"
  PULL=never
fi

say "building $IMAGE from $NODE_IMAGE"
started=$SECONDS
podman build --pull="$PULL" --isolation chroot --network host \
  --build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 \
  || { tail -20 "$WORK/build.log" >&2; say "build failed"; exit 1; }
say "built in $((SECONDS - started)) s; image size $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}')"

# The same command inside and outside the container, on a copy of the fixtures.
mkdir -p "$WORK/in" "$WORK/host" "$WORK/container"
cp "$ROOT"/fixtures/*.png "$ROOT"/fixtures/*.jpg "$WORK/in/"
chown -R 1000:1000 "$WORK/container"
ARGS=(everything in --grid 8 --format json,labels,polygons --shard auto/1 --skip-existing)
(cd "$WORK" && JOB_COMPLETION_INDEX=0 SAMLITE_HOME="$WORK/home" node "$ROOT/bin/samlite" "${ARGS[@]}" --out host --quiet >/dev/null)
podman --runtime runc run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  -e JOB_COMPLETION_INDEX=0 -v "$WORK/in:/data/in:ro" -v "$WORK/container:/data/container" \
  "$IMAGE" "${ARGS[@]}" --out container --quiet >"$WORK/run.jsonl" 2>"$WORK/run.err"
# --quiet leaves only errors and warnings: there must be none.
[[ ! -s "$WORK/run.err" ]] || { cat "$WORK/run.err" >&2; say "the container printed the above on stderr"; exit 1; }
# The run above used the image's USER (nothing overrides it): read it from the image
# rather than start a second container for `id -un`.
say "the container wrote $(wc -l <"$WORK/run.jsonl") JSON lines as user $(podman image inspect "$IMAGE" --format '{{.Config.User}}')"
if diff -r "$WORK/host" "$WORK/container" >"$WORK/diff.txt"; then
  say "ok: $(find "$WORK/container" -type f | wc -l) output files, byte-identical to the host run"
else
  head -20 "$WORK/diff.txt" >&2
  say "the container's outputs differ from the host run's"
  exit 1
fi
