#!/bin/sh
# Image entrypoint: `skymap-scanner "$@"`. numba (and matplotlib) only use a cache directory they can
# write to; where the image is read-only (Apptainer SIF, readOnlyRootFilesystem) or runs under another
# uid, copy the caches warmed at build time to a writable place first (1-2 MB, milliseconds).
set -e
for var in NUMBA_CACHE_DIR MPLCONFIGDIR; do
    eval "dir=\${$var:-}"
    if [ -n "$dir" ] && [ -d "$dir" ] && ! { [ -w "$dir" ] && touch "$dir/.w" 2>/dev/null && rm -f "$dir/.w"; }; then
        base="${TMPDIR:-/tmp}/skymap-scanner-$(id -u)"
        mkdir -p "$base" && target="$base/$(basename "$dir")"
        [ -d "$target" ] || { cp -R "$dir" "$target" 2>/dev/null || mkdir -p "$target"; }
        chmod -R u+w "$target" 2>/dev/null || true  # cp keeps the source's read-only modes
        eval "export $var=\"\$target\""
    fi
done
exec skymap-scanner "$@"
