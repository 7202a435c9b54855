#!/usr/bin/env bash
# Installs what a fresh Debian 12 needs to build, test and run Todoke.
# Idempotent: apt runs only when a package is missing. The Rust toolchain (cargo) and
# Node/npm are expected to be present already; this script does not install them.
set -euo pipefail

packages=(
  # Tauri 2 on Linux (WebKitGTK 4.1, tray, SVG icons) and the build tools.
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
  # OS keyring (Secret Service over D-Bus) for the desk key.
  libdbus-1-dev dbus dbus-x11 gnome-keyring
  # Headless runs of the desktop app: virtual X server, WebDriver, window lookup, screenshots.
  xvfb xauth x11-utils xdotool webkit2gtk-driver imagemagick
  # Japanese glyphs for the UI.
  fonts-noto-cjk
  # A real spreadsheet (LibreOffice Calc, headless) to open Shift_JIS exports in tests.
  libreoffice-calc-nogui
  # One-time passwords for signing in to the demo server from a terminal (scripts/run.sh).
  oathtool
  # PostgreSQL server binaries for the central-server tests.
  postgresql
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} system packages present"
else
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

for tool in cargo rustc; do
  command -v "$tool" >/dev/null || {
    echo "install-deps: '$tool' not found; install Rust (https://rustup.rs) and re-run" >&2
    exit 1
  }
done

# Node.js drives the web UI's build and tests (ui/) and the end-to-end tests (tests/e2e).
command -v npm >/dev/null || {
  echo "install-deps: 'npm' not found; install Node.js 20.19+ and re-run" >&2
  exit 1
}

# tauri-driver: the WebDriver server the end-to-end tests talk to (it drives WebKitWebDriver).
if command -v tauri-driver >/dev/null || [[ -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "install-deps: tauri-driver present"
else
  echo "install-deps: installing tauri-driver (cargo install, once)"
  cargo install tauri-driver --locked
fi
