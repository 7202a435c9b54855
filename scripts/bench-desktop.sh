#!/usr/bin/env bash
# TARGETS B9 for the desktop app: cold start and idle memory of the process tree, on a
# virtual X server with a private D-Bus session. Result: bench-results/b9.json.
#
#   scripts/bench-desktop.sh [--runs N] [--cases N] [--app PATH] [--out FILE]
# Uses the release build when there is one (cargo build --release -p todoke-desktop), else debug.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/todoke-target}"
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- node scripts/bench-desktop.mjs "$@"
