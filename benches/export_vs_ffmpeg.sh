#!/usr/bin/env bash
# Export fidelity and speed against ffmpeg, on the shared screen corpus.
#
# For each clip of ../shared/corpus (relative to the repository root):
#   1. import it losslessly into a .g2a recording (not timed);
#   2. time `g2a export` to MP4 (defaults: H.264 4:2:0, VFR, veryfast, crf 16,
#      2 x264 threads) and, side by side in the same run, `ffmpeg` transcoding
#      the clip's lossless file with the same codec and settings;
#   3. PSNR of both against the clip, both converted to yuv420p (ffmpeg's
#      psnr filter, each clip frame against the output frame shown then),
#      duration and size; then WMV (PSNR in yuv420p) and full-colour MP4
#      (PSNR in RGB, gbrp).
# Usage: benches/export_vs_ffmpeg.sh [CLIP.mkv ...]
#   G2A=path/to/g2a (default: target/release/g2a, built if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/../shared/corpus"
if [ "$#" -gt 0 ]; then
    clips=("$@")
elif [ -d "$corpus" ]; then
    clips=("$corpus"/*.mkv)
else
    echo "skipping: no corpus at $corpus (it is not part of the repository)"
    exit 0
fi
target=${CARGO_TARGET_DIR:-$root/target}
G2A=${G2A:-$target/release/g2a}
if [ ! -x "$G2A" ]; then
    (cd "$root" && cargo build --release -q -p g2a-cli)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

secs() { # seconds of a command's wall time
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
psnr() { # psnr OURS REF PIX_FMT -> average dB; the reference drives, so
    # each clip frame is compared with the output frame on screen at its time.
    ffmpeg -nostats -v info -i "$2" -i "$1" -lavfi \
        "[0:v]format=$3[r];[1:v]format=$3[o];[r][o]psnr" -f null - 2>&1 |
        sed -n 's/.*PSNR.*average:\([0-9.inf]*\).*/\1/p' | tail -1
}
dur() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
size() { stat -c %s "$1"; }

printf '%-18s %-22s %8s %8s %9s %9s %10s\n' clip output seconds xrealtime psnr_dB duration bytes
for clip in "${clips[@]}"; do
    name=$(basename "$clip" .mkv)
    real=$(dur "$clip")
    "$G2A" import "$clip" -o "$work/$name.g2a" >/dev/null
    t_ours=$(secs "$G2A" export "$work/$name.g2a" -o "$work/$name.mp4")
    t_ff=$(secs ffmpeg -v error -y -i "$clip" -c:v libx264 -preset veryfast -crf 16 -threads 2 \
        -pix_fmt yuv420p -movflags +faststart "$work/$name.ffmpeg.mp4")
    t_wmv=$(secs "$G2A" export "$work/$name.g2a" -o "$work/$name.wmv")
    t_444=$(secs "$G2A" export "$work/$name.g2a" --full-colour -o "$work/$name.444.mp4")
    row() { printf '%-18s %-22s %8.2f %8.1fx %9s %9s %10s\n' "$name" "$1" "$2" \
        "$(echo "$real / $2" | bc -l)" "$3" "$(dur "$4")" "$(size "$4")"; }
    row "g2a export mp4" "$t_ours" "$(psnr "$work/$name.mp4" "$clip" yuv420p)" "$work/$name.mp4"
    row "ffmpeg libx264" "$t_ff" "$(psnr "$work/$name.ffmpeg.mp4" "$clip" yuv420p)" "$work/$name.ffmpeg.mp4"
    row "g2a export wmv" "$t_wmv" "$(psnr "$work/$name.wmv" "$clip" yuv420p)" "$work/$name.wmv"
    row "g2a export mp4 4:4:4" "$t_444" "$(psnr "$work/$name.444.mp4" "$clip" gbrp)" "$work/$name.444.mp4"
done
