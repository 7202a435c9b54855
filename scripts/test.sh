#!/usr/bin/env bash
# The one test command: system packages, every core crate's tests, the desktop app's build,
# unit tests and window smoke test, and a small benchmark run. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/todoke-target}"

step="start"
section() {
  step="$*"
  printf '\n==== %s ====\n' "$*"
}
finish() {
  local rc=$?
  if ((rc == 0)); then
    printf '\n==== test.sh: PASS ====\n'
  else
    printf '\n==== test.sh: FAIL (exit %d) in: %s ====\n' "$rc" "$step"
  fi
}
trap finish EXIT

section "1/9 system dependencies (scripts/install-deps.sh)"
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"

section "2/9 core crates: cargo test --workspace --exclude todoke-desktop"
cargo test --workspace --exclude todoke-desktop

section "2b/9 real OS keyring (Secret Service) and a real spreadsheet"
# The desk key in a real gnome-keyring, in a throw-away D-Bus session and data folder.
dbus-run-session -- sh -c 'export XDG_DATA_HOME=$(mktemp -d); echo -n todoke-test | gnome-keyring-daemon --components=secrets --unlock >/dev/null; cargo test -p todoke-store --test encryption keyring -- --ignored'
# A Shift_JIS export opened by LibreOffice Calc keeps its Japanese text.
cargo test -p todoke-exchange --test spreadsheet -- --ignored

section "3/9 IPC types: regenerate ui/src/lib/bindings from the Rust types and check nothing changed"
cargo test -p todoke-desk --features ts --test bindings
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  drift=$(git status --porcelain -- ui/src/lib/bindings)
  if [[ -n "$drift" ]]; then
    echo "ui/src/lib/bindings differs from the Rust types; commit the regenerated files:" >&2
    echo "$drift" >&2
    exit 1
  fi
fi

section "4/9 web UI: npm ci, type check, component tests (Vitest), build (ui/dist)"
(cd ui && npm ci --no-audit --no-fund && npm run check && npm test && npm run build)

section "5/9 desktop app: cargo build / cargo test -p todoke-desktop / the .deb"
cargo build -p todoke-desktop -p todoke-cli -p todoke-server
cargo test -p todoke-desktop
# The Debian package of that build (a few seconds: packaging only, no compiling).
rm -f "$CARGO_TARGET_DIR"/debug/bundle/deb/*.deb
scripts/bundle-deb.sh --debug
deb=$(ls "$CARGO_TARGET_DIR"/debug/bundle/deb/Todoke_*_amd64.deb)
contents=$(dpkg-deb --contents "$deb")
grep -q ' usr/bin/todoke-desktop$' <<<"$contents" || { echo "the .deb holds no usr/bin/todoke-desktop" >&2; exit 1; }
grep -q ' usr/share/applications/Todoke.desktop$' <<<"$contents" || { echo "the .deb holds no desktop entry" >&2; exit 1; }
rm -rf "$CARGO_TARGET_DIR/debug/bundle/deb"   # the .deb and its 350 MB staging folder

section "6/9 desktop app: window smoke test under Xvfb"
scripts/smoke-desktop.sh "$CARGO_TARGET_DIR/debug/todoke-desktop"

section "7/9 desktop app: end-to-end through tauri-driver (screenshots in tests/e2e/screenshots)"
TODOKE_E2E_CASES=2000 scripts/e2e-desktop.sh

section "8/9 desktop app: B9 start-up time and idle memory (bench-results/b9-ci.json)"
# The debug build just made (a release binary on this machine may be stale).
scripts/bench-desktop.sh --runs 3 --cases 2000 --app "$CARGO_TARGET_DIR/debug/todoke-desktop" --out bench-results/b9-ci.json

section "9/9 benchmark smoke run (small size)"
if [[ -d crates/todoke-bench ]]; then
  mkdir -p bench-results
  # Small size, dev profile (dependencies are optimised there too): proves the benchmark
  # works; full-size figures come from the release command in README.md.
  cargo run -p todoke-bench -- --cases 2000 --samples 200 --out bench-results/ci-small.json
  # B6 small: 20 desks for 5 s against a real server process, SQLite and a throwaway PostgreSQL.
  cargo run -p todoke-bench --bin b6 -- --desks 20 --seconds 5 --rate 400 --interval 1 --suffix=-ci
  # B4 on the server, small: 20,000 cases' report rows in a throwaway PostgreSQL, all 11 indicators over HTTP.
  cargo run -p todoke-bench --bin b4s -- --cases 20000 --runs 2 --projector-cases 2000 --out bench-results/b4-server-ci.json
else
  echo "skipped: crates/todoke-bench does not exist yet"
fi
