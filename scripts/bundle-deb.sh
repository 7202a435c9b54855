#!/usr/bin/env bash
# The Debian package of the desktop app: what `tauri build --bundles deb` does, in two steps:
# cargo builds the app (over the web UI in ui/dist), then `tauri bundle --bundles deb`
# packages that binary.
#
#   (cd ui && npm ci && npm run build)     # once: the web UI and the Tauri CLI
#   scripts/bundle-deb.sh                  # release
#   scripts/bundle-deb.sh --debug          # the debug build (what scripts/test.sh checks)
#   → $CARGO_TARGET_DIR/<release|debug>/bundle/deb/Todoke_<version>_amd64.deb
#
# tauri.conf.json lives at the top level (next to ui/ and icons/), beside the workspace
# manifest, which has no [package]; the Tauri CLI wants the config beside the app's own
# Cargo.toml. So the CLI is pointed at src-tauri/ (TAURI_APP_PATH) with a link to the
# top-level config made for this run only, and the paths in it restated relative to src-tauri/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/todoke-target}"

profile=release
flags=()
if [[ "${1:-}" == "--debug" ]]; then
  profile=debug
  flags=(--debug)
fi
[[ -f ui/dist/index.html ]] || { echo "bundle-deb: no web UI in ui/dist; run (cd ui && npm ci && npm run build)" >&2; exit 1; }
tauri=ui/node_modules/.bin/tauri
[[ -x "$tauri" ]] || { echo "bundle-deb: no Tauri CLI; run (cd ui && npm ci)" >&2; exit 1; }

cargo_flags=(-p todoke-desktop)
[[ "$profile" == release ]] && cargo_flags+=(--release)
cargo build "${cargo_flags[@]}"

link=src-tauri/tauri.conf.json
[[ -e "$link" && ! -L "$link" ]] && { echo "bundle-deb: $link exists and is not our link; not touching it" >&2; exit 1; }
ln -sfn ../tauri.conf.json "$link"
trap 'rm -f "$link"' EXIT
paths=$(node -e '
  const c = require("./tauri.conf.json");
  const up = (p) => "../" + p;
  console.log(JSON.stringify({ build: { frontendDist: up(c.build.frontendDist) }, bundle: { icon: c.bundle.icon.map(up) } }));
')
TAURI_APP_PATH=src-tauri "$tauri" bundle "${flags[@]}" --bundles deb --config "$paths"
deb=$(ls -t "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb | head -1)
echo "bundle-deb: $deb"
