#!/usr/bin/env bash
# Build the skymap-scanner OCI image (Containerfile) with whatever exists here:
#   docker build | podman build | buildah bud --isolation chroot      (first that works, or --tool)
# on a base image given with --base, or pulled (debian:bookworm-slim), or -- when no registry answers --
# a Debian bookworm rootfs made by mmdebstrap (python3 + venv, ~80 MB), imported once and cached:
#   image  localhost/skymap-scanner-base:bookworm-<hash>     (the tool's storage; reused while it exists)
#   tar    $SKYSCAN_IMAGE_CACHE/base-bookworm-<hash>.tar     (default /var/tmp/skymap-scanner-image-cache)
# Dependencies form one layer keyed by pyproject.toml, so a rebuild after a source change only rebuilds
# the wheel and re-warms numba (~1 min). pip inside the build gets this host's index settings (pip config
# / PIP_* env) as build args, and its CA bundle as a build-context file, never hard-coded.
#
#   scripts/build-image.sh [--tag NAME] [--base IMAGE] [--tool docker|podman|buildah] [--no-cache]
#                          [--archive FILE.tar]   # also write an OCI archive (apptainer build x.sif oci-archive://FILE.tar)
#                          [--numba-cpu NAME]     # numba CPU target ("generic", default; "" = build host CPU)
#                          [--print-tool]         # print the tool that would be used and exit
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TAG=localhost/skymap-scanner:latest
BASE=
TOOL=
NO_CACHE=()
ARCHIVE=
NUMBA_CPU=generic
PRINT_TOOL=0
CACHE_DIR="${SKYSCAN_IMAGE_CACHE:-/var/tmp/skymap-scanner-image-cache}"
DEFAULT_BASE=docker.io/library/debian:bookworm-slim
# what the mmdebstrap base holds; its hash names the cached base, so a change here makes a new one
BASE_PACKAGES="python3,python3-venv,ca-certificates"

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "build-image: $*" >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --tool) TOOL=$2; shift 2 ;;
    --no-cache) NO_CACHE=(--no-cache); shift ;;
    --archive) ARCHIVE=$2; shift 2 ;;
    --numba-cpu) NUMBA_CPU=$2; shift 2 ;;
    --print-tool) PRINT_TOOL=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

VERSION=$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' src/skymap_scanner/__version__.py)
[ -n "$VERSION" ] || die "no __version__ in src/skymap_scanner/__version__.py"

# ---- the tool ---------------------------------------------------------------------------------------------
tool_works() {
  case "$1" in
    docker) command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1 ;;
    podman|buildah) command -v "$1" >/dev/null && timeout 60 "$1" images >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
if [ -z "$TOOL" ]; then
  # buildah before podman: podman's default runtime needs privileges that sandboxes often refuse,
  # buildah's chroot isolation does not
  for t in docker buildah podman; do tool_works "$t" && { TOOL=$t; break; }; done
  [ -n "$TOOL" ] || die "none of docker (with a daemon), buildah, podman works here; install one, e.g. as root: apt-get install -y buildah podman mmdebstrap"
elif ! tool_works "$TOOL"; then
  die "$TOOL does not work here"
fi
if [ "$PRINT_TOOL" = 1 ]; then echo "$TOOL"; exit 0; fi

have_image() {
  case "$TOOL" in
    docker) docker image inspect "$1" >/dev/null 2>&1 ;;
    *) "$TOOL" image exists "$1" 2>/dev/null || "$TOOL" inspect --type image "$1" >/dev/null 2>&1 ;;
  esac
}
pull() {
  case "$TOOL" in
    docker) timeout 120 docker pull -q "$1" >/dev/null 2>&1 ;;
    *) timeout 120 "$TOOL" pull -q "$1" >/dev/null 2>&1 ;;
  esac
}
import_tar() {  # tar tag
  case "$TOOL" in
    docker) docker import "$1" "$2" >/dev/null ;;
    podman) podman import "$1" "$2" >/dev/null ;;
    buildah)  # buildah has no import: a container from scratch, the rootfs copied in, committed
      local c; c=$(buildah from scratch)
      buildah add --quiet "$c" "$1" / >/dev/null  # a local tar is extracted
      buildah commit --quiet --rm "$c" "$2" >/dev/null ;;
  esac
}

# ---- the base -------------------------------------------------------------------------------------------
make_debootstrap_base() {
  local hash tag tar
  hash=$(printf '%s|minbase|bookworm' "$BASE_PACKAGES" | sha256sum | cut -c1-12)
  tag=localhost/skymap-scanner-base:bookworm-$hash
  tar=$CACHE_DIR/base-bookworm-$hash.tar
  if have_image "$tag"; then log "base: $tag (cached image)"; BASE=$tag; return; fi
  if [ ! -s "$tar" ]; then
    command -v mmdebstrap >/dev/null || die "no registry answered and mmdebstrap is missing (as root: apt-get install -y mmdebstrap), or pass --base IMAGE"
    mkdir -p "$CACHE_DIR"
    local part=$CACHE_DIR/base-bookworm-$hash.part.tar  # mmdebstrap picks the format by the name: .tar
    log "base: making a Debian bookworm rootfs with mmdebstrap ($BASE_PACKAGES) -> $tar"
    # the host's apt proxy settings are used by mmdebstrap itself; docs, man pages and locales left out
    mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" \
      --aptopt='APT::Install-Recommends "false"' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
      bookworm "$part" || { rm -rf "$part"; die "mmdebstrap failed"; }
    mv "$part" "$tar"
  fi
  log "base: importing $tar as $tag"
  import_tar "$tar" "$tag"
  BASE=$tag
}
if [ -n "$BASE" ]; then
  have_image "$BASE" || pull "$BASE" || die "base image $BASE is neither here nor pullable"
elif have_image "$DEFAULT_BASE" || pull "$DEFAULT_BASE"; then
  BASE=$DEFAULT_BASE
else
  log "no registry answers for $DEFAULT_BASE: making a base"
  make_debootstrap_base
fi

# ---- pip settings for the build: this host's, as build args ------------------------------------------------
pip_setting() {  # name: env PIP_<NAME> wins over pip config (global., install.)
  local env_name="PIP_$(echo "$1" | tr 'a-z-' 'A-Z_')" value
  value="${!env_name:-}"
  if [ -z "$value" ] && command -v python3 >/dev/null; then
    value=$(python3 -m pip config list 2>/dev/null | sed -n "s/^\(global\|install\)\.$1='\(.*\)'$/\2/p" | tail -1)
  fi
  printf '%s' "$value"
}
reachable_urls() {  # drop file:// indexes (host paths do not exist inside the build)
  local out=() u
  for u in $1; do
    case "$u" in file:*|/*) log "pip: leaving out $u (a host path)";; *) out+=("$u");; esac
  done
  printf '%s' "${out[*]:-}"
}
BUILD_ARGS=(--build-arg "BASE=$BASE" --build-arg "VERSION=$VERSION" --build-arg "NUMBA_CPU_NAME=$NUMBA_CPU")
index=$(reachable_urls "$(pip_setting index-url)")
extra=$(reachable_urls "$(pip_setting extra-index-url)")
trusted=$(pip_setting trusted-host)
[ -n "$index" ] && BUILD_ARGS+=(--build-arg "PIP_INDEX_URL=$index")
[ -n "$extra" ] && BUILD_ARGS+=(--build-arg "PIP_EXTRA_INDEX_URL=$extra")
[ -n "$trusted" ] && BUILD_ARGS+=(--build-arg "PIP_TRUSTED_HOST=$trusted")
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!v:-}" ] && BUILD_ARGS+=(--build-arg "$v=${!v}")
done

# ---- the build context: only what the Containerfile copies -----------------------------------------------
CTX=$(mktemp -d "${TMPDIR:-/tmp}/skymap-scanner-ctx.XXXXXX")
trap 'rm -rf "$CTX"' EXIT
mkdir -p "$CTX/deploy"
cp Containerfile pyproject.toml README.md "$CTX/"
cp -R src "$CTX/src"
cp -R deploy/build-pip deploy/entrypoint.sh "$CTX/deploy/"
find "$CTX" \( -name '__pycache__' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
rm -f "$CTX/deploy/build-pip/ca.pem"
cert=$(pip_setting cert)
cert=${cert:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
if [ -n "$cert" ] && [ -s "$cert" ]; then
  cp "$cert" "$CTX/deploy/build-pip/ca.pem"
  log "pip: CA bundle $cert goes into the build stage"
fi
# content-identical files hash the same, but keep mtimes fixed too so no tool sees a change
find "$CTX" -exec touch -h -d @0 {} +

# ---- build -------------------------------------------------------------------------------------------------
log "building $TAG (version $VERSION) with $TOOL on $BASE"
start=$(date +%s)
case "$TOOL" in
  docker) DOCKER_BUILDKIT=1 docker build "${NO_CACHE[@]}" "${BUILD_ARGS[@]}" -f "$CTX/Containerfile" -t "$TAG" "$CTX" ;;
  podman) podman build --isolation chroot --layers "${NO_CACHE[@]}" "${BUILD_ARGS[@]}" \
            -f "$CTX/Containerfile" -t "$TAG" "$CTX" ;;
  buildah) buildah bud --isolation chroot --layers "${NO_CACHE[@]}" "${BUILD_ARGS[@]}" \
            -f "$CTX/Containerfile" -t "$TAG" "$CTX" ;;
esac
log "built $TAG in $(( $(date +%s) - start )) s"

size() {
  case "$TOOL" in
    docker) docker image inspect --format '{{.Size}}' "$TAG" ;;
    podman) podman image inspect --format '{{.Size}}' "$TAG" ;;
    buildah) command -v podman >/dev/null && podman image inspect --format '{{.Size}}' "$TAG" 2>/dev/null ||
               buildah images --noheading --format '{{.Size}}' "$TAG" ;;
  esac
}
size_out=$(size 2>/dev/null || true)
case "$size_out" in
  ''|*[!0-9]*) [ -n "$size_out" ] && log "image size: $size_out (uncompressed)" ;;
  *) log "image size: $(( size_out / 1000000 )) MB (uncompressed)" ;;
esac
if [ -n "$ARCHIVE" ]; then
  case "$TOOL" in
    docker) docker save -o "$ARCHIVE" "$TAG" ;;
    podman) podman save --format oci-archive -o "$ARCHIVE" "$TAG" ;;
    buildah) rm -f "$ARCHIVE"; buildah push --quiet "$TAG" "oci-archive:$ARCHIVE:$TAG" ;;
  esac
  log "archive: $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1))"
fi
echo "$TAG"
