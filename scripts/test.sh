#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and end-to-end tests with real peers.
#
# Installs what it needs when missing (SIPp from Debian's sip-tester, baresip, iproute2,
# MariaDB, PostgreSQL),
# starts the databases, and runs every test against them. Run as root on Debian, or with
# sudo available. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

need_apt=()
command -v sipp >/dev/null 2>&1 || need_apt+=(sip-tester)
command -v baresip >/dev/null 2>&1 || need_apt+=(baresip-core)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# A Chinese font, so the portal's Simplified Chinese screenshots show characters.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need_apt+=(fonts-wqy-microhei)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# The TLS tests' certificates and TLS peers (s_server, s_client).
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The DNS (RFC 3263) test's name server.
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need_apt+=(dnsmasq-base)
# The NAT test's routers masquerade with nftables (crates/testkit/src/nat.rs).
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need_apt+=(nftables)
# The rtpengine ng client's test peer (started by the test in userspace mode on loopback).
command -v rtpengine >/dev/null 2>&1 || need_apt+=(rtpengine-daemon)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if [ -x scripts/dbs.sh ]; then
    log "starting MariaDB and PostgreSQL"
    dbs_env=$(scripts/dbs.sh) # an assignment, so a failure stops the run (set -e)
    eval "$dbs_env"
    export SWITCHBOARD_REQUIRE_DBS=1
fi

# The cross-host and softphone tests make a network namespace (root): required here, so
# they fail rather than say "not run".
export SWITCHBOARD_REQUIRE_NETNS=1
# The rtpengine test needs the daemon installed above: required here, so it fails rather
# than say "not run".
export SWITCHBOARD_REQUIRE_RTPENGINE=1

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked -- --test-threads=2

log "benches compile (not run: timing belongs to bench/, not to tests)"
cargo build --workspace --benches --locked

log "the Debian package: build, unpack, systemd-analyze verify, a phone registers"
scripts/package-test.sh
log "all tests passed"
