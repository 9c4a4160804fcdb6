#!/usr/bin/env bash
# The benchmark report: g2a's size, encode and decode speed, seek time and
# memory on every clip of ../shared/corpus, beside the anchors measured in
# the same run by ../shared/anchors/bench_codecs.py (x264 lossless RGB,
# preset ultrafast, one thread; the corpus files are the veryslow sizes).
#
#   benches/report.sh [OUTDIR]        (default /tmp/g2a-report)
#   HOUR=1 benches/report.sh          (also a one-hour recording's seek times)
#
# Prints a Markdown table; docs/BENCHMARKS.md keeps a dated copy. Speeds are
# frames per CPU second of one thread (ours and the anchors'), so a busy
# machine skews them less, the best of two runs on both sides; both encoders
# read the same raw frames from the same file (the anchors' script keeps it
# for us). Memory is anonymous resident memory (the mapped recording's pages
# are page cache and not counted).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/g2a-report}
corpus=../shared/corpus
anchors=../shared/anchors
mkdir -p "$out"
if [ ! -d "$corpus" ]; then
    echo "no $corpus: nothing to measure" >&2
    exit 1
fi
cargo build --release -q -p g2a-benches --bin g2a-report
report=target/release/g2a-report
if [ -f "$anchors/bench_codecs.py" ] && [ ! -x /tmp/anchors/rawbench ]; then
    mkdir -p /tmp/anchors
    gcc -O2 -o /tmp/anchors/rawbench "$anchors/rawbench.c" -lzstd
fi
for clip in "$corpus"/*.mkv; do
    name=$(basename "$clip" .mkv)
    echo "== $name" >&2
    raw=/tmp/anchors/raw/$name.bgr0
    if [ -f "$anchors/bench_codecs.py" ]; then
        # --keep-raw: g2a then encodes the very raw frames x264 encoded.
        python3 "$anchors/bench_codecs.py" "$clip" "$name" "$out" --only x264rgb-ultrafast --reps 2 --keep-raw >&2
    fi
    if [ -f "$raw" ]; then
        "$report" clip "$clip" "$out/$name.g2a" "$raw" > "$out/$name.g2a.json"
    else
        "$report" clip "$clip" "$out/$name.g2a" > "$out/$name.g2a.json"
    fi
    rm -f "$out/$name.g2a" "$raw"
done
echo
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
"$report" table "$out"
if [ "${HOUR:-0}" = 1 ]; then
    echo
    echo "One-hour recording (desktop-1080 looped 45 times, 36,000 frames):"
    "$report" encode "$corpus/desktop-1080.mkv" "$out/hour.g2a" 45 > "$out/hour.encode.json"
    "$report" play "$out/hour.g2a" > "$out/hour.play.json"
    python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
e = json.load(open(f"{d}/hour.encode.json")); p = json.load(open(f"{d}/hour.play.json"))
print(f"| frames | bytes | seek p50 / p95 / max ms | open ms | play memory (anon) MB | play RSS incl. mapped file MB |")
print(f"|---|---|---|---|---|---|")
print(f"| {e['frames']} | {e['bytes']} | {p['seek_ms_p50']:.1f} / {p['seek_ms_p95']:.1f} / {p['seek_ms_max']:.1f} | {p['open_ms']:.2f} | {p['play_anon_mb']:.0f} | {p['play_peak_rss_mb']:.0f} |")
PY
    rm -f "$out/hour.g2a"
fi
