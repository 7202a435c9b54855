#!/usr/bin/env bash
# The one run command: install system packages, build the CLI, the server and the desktop
# app (release), create a demo desk with 5,000 synthetic cases the first time, start a local
# central server with its demo organisations and users, and open the desktop app (Japanese).
# Closing the app stops the server.
#
#   scripts/run.sh                      # desk in ~/.local/share/todoke-demo
#   TODOKE_DESK_DIR=/some/dir scripts/run.sh
#   TODOKE_SERVER_LISTEN=127.0.0.1:9443 scripts/run.sh   # another port for the server
#
# The desk key is kept in the OS keyring (Secret Service). Inside a desktop session that
# keyring is used as it is. Without one (SSH, containers, CI), the script starts a private
# D-Bus session with its own gnome-keyring whose keyring files live in
# ~/.local/share/todoke-demo-keyring, unlocked with a fixed demo password: fine for synthetic
# demo data, not for real patients.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
self="$PWD/scripts/run.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/todoke-target}"
bin="$CARGO_TARGET_DIR/release"
desk="${TODOKE_DESK_DIR:-$HOME/.local/share/todoke-demo}"
demo_keyring_home="${XDG_DATA_HOME:-$HOME/.local/share}/todoke-demo-keyring"
server_dir="${TODOKE_SERVER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/todoke-demo-server}"
listen="${TODOKE_SERVER_LISTEN:-127.0.0.1:8443}"
# The desk key must come from the OS keyring, never from the environment.
unset TODOKE_DESK_KEY
# This desk's health centre, for the desktop app (the desk does not store it yet).
export TODOKE_ORG="${TODOKE_ORG:-HC131121}"

section() { printf '\n==== %s ====\n' "$*"; }

has_display() { [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; }

secret_service_running() {
  [[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]] &&
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'
}

if [[ -z "${TODOKE_RUN_PRIVATE_SESSION:-}" ]]; then
  section "dependencies (scripts/install-deps.sh)"
  scripts/install-deps.sh

  section "build: web UI (ui/dist), todoke-cli, todoke-server and todoke-desktop (release)"
  (cd ui && npm ci --no-audit --no-fund && npm run build)
  cargo build --release -p todoke-cli -p todoke-server -p todoke-desktop

  section "OS keyring"
  if secret_service_running; then
    echo "using the Secret Service of this desktop session"
  else
    echo "no Secret Service on a session bus: starting a private D-Bus session with gnome-keyring"
    echo "(keyring files in $demo_keyring_home)"
    session=(dbus-run-session --)
    if ! has_display; then
      # The X server must exist before the bus, so services the bus starts can see it.
      echo "no display: running on a virtual X server (xvfb-run); nothing will be visible"
      export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
      session=(xvfb-run -a "${session[@]}")
    fi
    TODOKE_RUN_PRIVATE_SESSION=1 exec "${session[@]}" bash "$self" "$@"
  fi
else
  # Second pass, inside our own dbus-run-session.
  mkdir -p "$demo_keyring_home"
  printf 'todoke-demo' |
    XDG_DATA_HOME="$demo_keyring_home" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  for _ in $(seq 1 50); do
    secret_service_running && break
    sleep 0.1
  done
  secret_service_running || { echo "gnome-keyring did not start its Secret Service" >&2; exit 1; }
  echo "private gnome-keyring is up"
fi

section "demo desk: $desk"
if [[ ! -d "$desk" ]] || [[ -z "$(ls -A "$desk")" ]]; then
  # The demo desk works for 世田谷区保健所, the health centre of the largest ward.
  "$bin/todoke-cli" --desk "$desk" init --org "$TODOKE_ORG"
  "$bin/todoke-cli" --desk "$desk" generate --cases 5000 --seed 1 || {
    echo "generating the demo cases failed; remove $desk and run this script again" >&2
    exit 1
  }
else
  echo "existing desk, left as it is"
fi

section "central server: http://$listen (database in $server_dir)"
mkdir -p "$server_dir"
chmod 700 "$server_dir"
if [[ ! -f "$server_dir/server.db" ]]; then
  # Demo organisations and one user each; their passwords are shown once, so keep them.
  (umask 077 && "$bin/todoke-server" seed-demo --db "$server_dir/server.db" >"$server_dir/demo-sign-in.txt")
  echo "demo organisations and users created; sign-in details in $server_dir/demo-sign-in.txt"
  echo "(the demo desk belongs to HC131121: sign in as 'setagaya' to sync it)"
else
  echo "existing server database, left as it is (sign-in details in $server_dir/demo-sign-in.txt)"
fi
"$bin/todoke-server" serve --db "$server_dir/server.db" --listen "$listen" >>"$server_dir/server.log" 2>&1 &
server_pid=$!
stop_server() { kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT
host="${listen%:*}" port="${listen##*:}"
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "the server did not start; see $server_dir/server.log" >&2; exit 1; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null || { echo "the server does not answer on $listen; see $server_dir/server.log" >&2; exit 1; }
echo "server up (pid $server_pid); log in $server_dir/server.log"
# The app's sign-in form (画面「同期」) offers this server.
export TODOKE_SERVER_URL="http://$listen"
demo_line=$(grep -E '^ *setagaya ' "$server_dir/demo-sign-in.txt" || true)
if [[ -n "$demo_line" ]]; then
  demo_password=$(sed -E 's/.* password ([^ ]+) .*/\1/' <<<"$demo_line")
  demo_secret=$(sed -E 's/.*[?&]secret=([A-Z2-7]+).*/\1/' <<<"$demo_line")
  echo "sign in (画面「同期」): user setagaya, password $demo_password,"
  echo "one-time password: oathtool --totp -b $demo_secret"
fi

section "desktop app"
app=("$bin/todoke-desktop" --desk "$desk")
if ! has_display; then
  echo "no display: running the app on a virtual X server (xvfb-run); nothing will be visible"
  export NO_AT_BRIDGE=1 WEBKIT_DISABLE_COMPOSITING_MODE=1
  app=(xvfb-run -a "${app[@]}")
fi
# Not exec: the server is stopped when the app closes.
"${app[@]}"
