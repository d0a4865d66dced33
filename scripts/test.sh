#!/usr/bin/env bash
# Set up, then run the whole test suite (brokers are started by the tests' own fixtures when absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
