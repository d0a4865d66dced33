# Sourced by the Containerfile's build stage before pip runs: drop empty PIP_* build args (an empty
# PIP_INDEX_URL would mean "no index"), and trust an extra CA bundle when scripts/build-image.sh put the
# host's into the build context as ca.pem (never part of the final image: the build stage is discarded).
for v in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
    eval "[ -n \"\${$v:-}\" ] || unset $v"
done
if [ -s /tmp/build-pip/ca.pem ]; then
    export PIP_CERT=/tmp/build-pip/ca.pem SSL_CERT_FILE=/tmp/build-pip/ca.pem
fi
