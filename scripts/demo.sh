#!/usr/bin/env bash
# Set up, then scan a simulated event with the embedded workers (no broker needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/skymap-scanner demo --output-dir "${1:-demo-output}"
