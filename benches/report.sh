#!/usr/bin/env bash
# The benchmark report: g2a's size, encode and decode speed, seek time and
# memory on every clip of ../shared/corpus and of ../clips (clips recorded
# with benches/corpus/media_scenarios.sh; CLIPS=DIR for another folder),
# beside the anchors measured in
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
# Encoding as users see it: whole processes on the same raw file, wall
# clock, best of two: `g2a import --raw` against ffmpeg's libx264rgb
# lossless ultrafast on one thread (both read the file from page cache).
whole_process() {
    local clip=$1 raw=$2 name=$3 size g2a_s x264_s t0 i
    size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$clip")
    g2a_s=999999 x264_s=999999
    for i in 1 2; do
        t0=$(date +%s.%N)
        target/release/g2a import --raw "$size" --cap none -o "$out/$name.whole.g2a" "$raw" >/dev/null
        g2a_s=$(python3 -c "import sys,time; print(min(float(sys.argv[1]), time.time() - float(sys.argv[2])))" "$g2a_s" "$t0")
        t0=$(date +%s.%N)
        ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt bgr0 -s "$size" -framerate 10 -i "$raw" \
            -c:v libx264rgb -qp 0 -preset ultrafast -threads 1 "$out/$name.whole.mkv"
        x264_s=$(python3 -c "import sys,time; print(min(float(sys.argv[1]), time.time() - float(sys.argv[2])))" "$x264_s" "$t0")
    done
    printf '{"clip": "%s", "g2a_wall_s": %s, "x264_ultrafast_wall_s": %s}\n' "$name" "$g2a_s" "$x264_s" >"$out/$name.whole.json"
    rm -f "$out/$name.whole.g2a" "$out/$name.whole.mkv"
}

for clip in "$corpus"/*.mkv ${CLIPS:-../clips}/*.mkv; do
    [ -f "$clip" ] || continue
    name=$(basename "$clip" .mkv)
    echo "== $name" >&2
    raw=/tmp/anchors/raw/$name.bgr0
    if [ -f "$anchors/bench_codecs.py" ]; then
        # --keep-raw: g2a then encodes the very raw frames x264 encoded.
        python3 "$anchors/bench_codecs.py" "$clip" "$name" "$out" --only x264rgb-ultrafast --reps 2 --keep-raw >&2
    fi
    if [ -f "$raw" ]; then
        "$report" clip "$clip" "$out/$name.g2a" "$raw" > "$out/$name.g2a.json"
        whole_process "$clip" "$raw" "$name"
    else
        "$report" clip "$clip" "$out/$name.g2a" > "$out/$name.g2a.json"
    fi
    rm -f "$out/$name.g2a" "$raw"
done
echo
echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
"$report" table "$out"
echo
echo "Whole processes on the same raw file, wall clock, best of two (\`g2a import --raw\` vs \`ffmpeg -c:v libx264rgb -qp 0 -preset ultrafast -threads 1\`):"
echo
python3 - "$out" <<'PY'
import glob, json, sys
print("| clip | g2a import s | x264 ultrafast 1 thread s | speed vs x264 |")
print("|---|---|---|---|")
for f in sorted(glob.glob(f"{sys.argv[1]}/*.whole.json")):
    w = json.load(open(f))
    print(f"| {w['clip']} | {w['g2a_wall_s']:.2f} | {w['x264_ultrafast_wall_s']:.2f} | {w['x264_ultrafast_wall_s'] / w['g2a_wall_s']:.1f}x |")
PY
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
