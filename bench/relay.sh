#!/bin/sh
# Media relay bench: N concurrent RTP streams (one 20 ms packet per stream from a
# caller phone, timed at the callee phone) through the relay, driven through
# `dyn MediaRelay`; prints the relay's CPU per forwarded packet and the forwarding pacing
# (inter-arrival p50/p99/max by kernel receive timestamps) at 100, 500 and 1,000 streams.
# Usage: bench/relay.sh [STREAMS...]   (BENCH_SECS=10 per run by default)
#   RELAY=embedded (default) | RELAY=rtpengine (the rtpengine ng backend, once built in)
#   RELAY_THREADS=N: the embedded relay's data-plane threads (default 1)
set -eu
cd "$(dirname "$0")/.."
cargo run --release -q -p relay --features embedded --example relay_bench -- "$@"
