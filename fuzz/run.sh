#!/usr/bin/env bash
# Runs one AFL++ target for a given number of seconds: fuzz/run.sh TARGET SECONDS
# (build first: cargo install cargo-afl && cargo afl build --release, in fuzz/).
set -euo pipefail
cd "$(dirname "$0")"
target=$1 seconds=${2:-1800}
export AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
mkdir -p out
exec cargo afl fuzz -V "$seconds" -i "seeds/$target" -o "out/$target" "target/release/$target"
