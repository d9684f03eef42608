#!/bin/bash
# Build the macOS installer package around the app bundle (UNTESTED in this project's CI,
# which runs on Linux; see docs/install.md). On a Mac with the build extra installed:
#
#   .venv/bin/python -m installer.build          # dist/WATS Station.app (build.spec)
#   installer/macos/build-pkg.sh                 # dist/wats-station-<version>.pkg
#
# Set WATS_INSTALLER_IDENTITY to a "Developer ID Installer" identity to sign the package
# (and WATS_CODESIGN_IDENTITY for the app when building it).
#
# The package installs /Applications/WATS Station.app and two LaunchAgents in
# /Library/LaunchAgents (the worker and the tray, for every user at login), and starts them
# for the user logged in now.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
app="${1:-$root/dist/WATS Station.app}"
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/app/__init__.py")

if [ ! -d "$app" ]; then
  echo "no app bundle at $app: build it first (python -m installer.build on macOS)" >&2
  exit 1
fi
command -v pkgbuild >/dev/null || { echo "pkgbuild not found (macOS only)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/Applications" "$stage/root/Library/LaunchAgents" "$stage/scripts"
ditto "$app" "$stage/root/Applications/WATS Station.app"
for plist in com.wats.station.default.plist com.wats.station.default.tray.plist; do
  plutil -lint "$here/$plist"
  install -m 0644 "$here/$plist" "$stage/root/Library/LaunchAgents/$plist"
done
install -m 0755 "$here/scripts/preinstall" "$here/scripts/postinstall" "$stage/scripts/"

out="$root/dist/wats-station-$version.pkg"
sign=()
if [ -n "${WATS_INSTALLER_IDENTITY:-}" ]; then
  sign=(--sign "$WATS_INSTALLER_IDENTITY")
fi
pkgbuild --root "$stage/root" --scripts "$stage/scripts" --identifier com.wats.station \
  --version "$version" --install-location / --ownership recommended ${sign[@]+"${sign[@]}"} "$out"
echo "$out"
