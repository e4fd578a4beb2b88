#!/bin/sh
# Conference bench: ROOMS rooms of SIZE participants (default 10 of 5) mixed on the media
# clock; prints the clock thread's CPU per participant, without and with mixing, and the
# pacing of the RTP the participants receive (inter-arrival p50/p99/max, pacing error).
# Figures: bench/README.md ("Conference mixing").
# Usage: bench/conference.sh [ROOMS [SIZE]]   (BENCH_SECS=10 per run by default)
set -eu
cd "$(dirname "$0")/.."
cargo run --release -q -p media --example conference -- "$@"
