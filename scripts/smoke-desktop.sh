#!/usr/bin/env bash
# Smoke test of the desktop app: start it on a virtual X display with a throw-away desk,
# wait for its window, stop it. Prints one PASS or FAIL line; exits non-zero on FAIL.
#
#   scripts/smoke-desktop.sh [PATH-TO-todoke-desktop]
set -euo pipefail

timeout_s=60
title='Todoke 届け'
bin="${1:-${CARGO_TARGET_DIR:-/var/tmp/todoke-target}/debug/todoke-desktop}"
[[ -x "$bin" ]] || { echo "FAIL: desktop smoke: no executable at $bin"; exit 1; }

if [[ -z "${TODOKE_SMOKE_RESULT:-}" ]]; then
  # Outer half: give the app its own X server and D-Bus session, so the test neither needs
  # nor disturbs a desktop. Their chatter goes to a log shown only on failure.
  work=$(mktemp -d)
  # Best effort: a portal service the session started may still be writing under cache/.
  trap 'rm -rf "$work" 2>/dev/null || { sleep 1; rm -rf "$work" 2>/dev/null; } || true' EXIT
  export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
  # The web view and the services D-Bus starts keep data under the XDG folders: keep it here.
  export XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache"
  rc=0
  TODOKE_SMOKE_RESULT="$work/result" xvfb-run -a -s "-screen 0 1400x900x24" \
    dbus-run-session -- "$0" "$bin" >"$work/session.log" 2>&1 || rc=$?
  if ((rc != 0)) || ! grep -q '^PASS' "$work/result" 2>/dev/null; then
    echo "---- Xvfb / D-Bus session and app log ----"
    tail -n 60 "$work/session.log" || true
    cat "$work/result" 2>/dev/null || echo "FAIL: desktop smoke: the session ended with exit $rc and no result"
    exit 1
  fi
  cat "$work/result"
  exit 0
fi

# Inner half, inside Xvfb and dbus-run-session.
desk=$(mktemp -d)
pid=
stop_app() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$desk"
}
trap stop_app EXIT
result() { echo "$*" >"$TODOKE_SMOKE_RESULT"; }

start=$(date +%s%N)
TODOKE_DESK_DIR="$desk" "$bin" &
pid=$!

window=
while [[ -z "$window" ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    result "FAIL: desktop smoke: the app exited before its window appeared"
    exit 1
  fi
  if (( ($(date +%s%N) - start) / 1000000000 >= timeout_s )); then
    result "FAIL: desktop smoke: no visible window titled \"$title\" within ${timeout_s}s"
    exit 1
  fi
  sleep 0.1
  window=$(xdotool search --onlyvisible --name "^${title}\$" 2>/dev/null | head -n 1) || true
done
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))

# Still alive a moment later: a crash while loading the page would show here.
sleep 2
if ! kill -0 "$pid" 2>/dev/null; then
  result "FAIL: desktop smoke: the app exited right after opening its window"
  exit 1
fi
result "PASS: desktop smoke: window \"$(xdotool getwindowname "$window")\" visible after ${elapsed_ms} ms ($bin)"
