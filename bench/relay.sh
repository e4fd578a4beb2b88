#!/bin/sh
# Media relay bench: N concurrent RTP streams (one 20 ms packet per stream from a
# caller phone, timed at the callee phone) through the relay, driven through
# `dyn MediaRelay` (offer, answer, delete per call, as the proxy does); prints the relay
# process's CPU per forwarded packet and the forwarding pacing (inter-arrival p50/p99/max
# by kernel receive timestamps) at 100, 500 and 1,000 streams. The phones run in a second
# process pinned to the other core; the relay is pinned to one core.
# Usage: bench/relay.sh [STREAMS...]   (BENCH_SECS=10 per run by default)
#   RELAY=embedded (default) | rtpengine (Debian's rtpengine-daemon, userspace, started
#     by the bench) | both (the two back to back at each stream count) | direct (no
#     relay: the phones' own pacing, the control) | all (direct, embedded, rtpengine)
#   RELAY_THREADS=N: data-plane threads (embedded) or --num-threads (rtpengine), default 1
#   RELAY_CPU=0, PHONE_CPU=1: the cores; PIN=0 pins nothing
#   SLOTS=20: the callers spread their streams over each 20 ms in 1 ms slots (1: one burst)
# The side-by-side table: RELAY=all BENCH_SECS=10 bench/relay.sh 100 500 1000
set -eu
cd "$(dirname "$0")/.."
cargo run --release -q -p relay --features embedded --example relay_bench -- "$@"
