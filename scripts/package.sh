#!/usr/bin/env bash
# Builds the Debian package of Switchboard and prints its path (the only line on stdout).
#
# What goes in it is declared in crates/server/Cargo.toml ([package.metadata.deb]); the
# unit, configuration, fail2ban files and maintainer scripts are in contrib/. The man
# pages are generated from the binary's own clap definitions (`switchboard man`), so
# they say what `--help` says. Installs cargo-deb (pinned) when it is missing.
#
# Usage: scripts/package.sh [--profile release|dev] [--fast]
#   --profile dev  packages the debug build (what scripts/package-test.sh uses: that binary
#                  is already built by the test suite, a release build takes minutes)
#   --fast         faster, larger compression
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0 # builds with Rust 1.95; bump deliberately
profile=release
fast=()
while [ $# -gt 0 ]; do
    case "$1" in
    --profile) profile=${2:?--profile needs a name}; shift 2 ;;
    --fast) fast=(--fast); shift ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

log() { printf 'package.sh: %s\n' "$*" >&2; }

if ! cargo deb --version >/dev/null 2>&1; then
    log "installing cargo-deb $CARGO_DEB_VERSION"
    cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked >&2
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "$profile" in
release) profile_dir=release ;;
dev | test) profile_dir=debug ;;
*) profile_dir=$profile ;;
esac
out_dir="$target_dir/$profile_dir"

log "building switchboard ($profile profile)"
cargo build --locked -p server --bin switchboard --profile "$profile" >&2

# cargo-deb reads the pages from target/<profile>/man (the "target/release/" asset prefix
# stands for the real target directory and profile).
log "man pages"
rm -rf "$out_dir/man"
"$out_dir/switchboard" man "$out_dir/man" >&2
gzip -9n "$out_dir"/man/*.1
[ -s "$out_dir/man/switchboard.1.gz" ] || { log "no switchboard.1 generated"; exit 1; }

# The voicemail prompts, spoken from their texts (prompts/en/*.txt) by espeak-ng into
# 8 kHz WAV files; installed in /usr/share/switchboard/prompts/en with their texts.
log "voice prompts (espeak-ng)"
command -v espeak-ng >/dev/null 2>&1 || {
    log "espeak-ng makes the voicemail prompts: apt install espeak-ng"
    exit 1
}
rm -rf "$out_dir/prompts"
"$out_dir/switchboard" voicemail prompts --from prompts/en --to "$out_dir/prompts/en" >&2

log "cargo deb"
# --strip: the release profile keeps line tables for profiling (bench/); the package
# does not need them.
# (cargo deb prints the path of the package it wrote on stdout.)
deb=$(cargo deb --locked -p server --no-build --profile "$profile" --strip "${fast[@]}" \
    --output "$target_dir/debian/" | tail -n 1)
[ -s "$deb" ] || { log "no package was written (cargo deb said: $deb)"; exit 1; }
echo "$deb"
