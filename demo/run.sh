#!/bin/bash
# README's first command: install, build, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
exec bash demo/demo.sh
