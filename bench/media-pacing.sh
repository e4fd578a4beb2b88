#!/bin/sh
# Media engine bench: concurrent deposit-like streams (play + record) at 50, 200 and 500
# streams; prints the clock thread's CPU per stream and the pacing of the RTP it sends
# (inter-arrival p50/p99/max, pacing error). Figures: bench/README.md ("Media engine").
# Usage: bench/media-pacing.sh [STREAMS...]   (BENCH_SECS=10 per run by default;
# CLOCK_RT=10 runs the clock SCHED_FIFO 10, CLOCK_NICE=N sets its nice value, default -10).
# The engine runs pinned to core ENGINE_CPU (0) in a session of its own, the phones in a
# second process pinned to PHONE_CPU (1); PIN=0 pins nothing.
set -eu
cd "$(dirname "$0")/.."
cargo run --release -q -p media --example pacing -- "$@"
