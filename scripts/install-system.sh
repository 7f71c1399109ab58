#!/usr/bin/env bash
# Installs the system programs the stack drives, from Debian/Ubuntu packages, only where missing:
#   ffmpeg (ffmpeg, ffprobe)  our assembler cuts with it; the simulator makes real media with it
#   espeak-ng                 the simulator's speech (a tone of the same length without it)
#   fonts-dejavu-core         the font of the badge, captions and the simulator's on-screen text
#   python3, python3-venv     the API tester (Schemathesis, from PyPI: install-schemathesis.sh)
# Quick when everything is there. Without apt (or root/sudo) it stops and names the packages.
set -euo pipefail

say() { printf '  [system] %s\n' "$*" >&2; }

missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v python3 >/dev/null || missing+=(python3)
# A Debian python3 without its venv module cannot make the tester's environment.
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
for extra in "$@"; do
  case "$extra" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    *) say "unknown extra package $extra"; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  say "missing: ${missing[*]}. Install them with your system's package manager and run make again."
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  say "missing: ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}"
  exit 1
fi
say "installing ${missing[*]} with apt-get (once)"
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine can be empty or stale: update once, quietly.
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
say "installed ${missing[*]}"
