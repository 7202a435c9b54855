#!/usr/bin/env bash
# End-to-end tests of the desktop app's real window: tauri-driver + WebKitWebDriver under
# a virtual X server and a private D-Bus session. Screenshots: tests/e2e/screenshots/.
#
#   scripts/e2e-desktop.sh            # needs: cargo build -p todoke-desktop -p todoke-cli, ui built
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/todoke-target}"
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || { echo "tauri-driver missing: run scripts/install-deps.sh" >&2; exit 1; }
[[ -x /usr/bin/WebKitWebDriver ]] || { echo "WebKitWebDriver missing (webkit2gtk-driver): run scripts/install-deps.sh" >&2; exit 1; }
rm -rf tests/e2e/screenshots
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  env NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  node --test --test-concurrency=1 tests/e2e/
