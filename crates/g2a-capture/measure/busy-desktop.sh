#!/usr/bin/env bash
# Measures `g2a record` on a busy 1920x1080 Xvfb desktop: CPU (user+sys of
# the g2a process / wall), resident memory over time, frames dropped.
#
#   crates/g2a-capture/measure/busy-desktop.sh G2A_BINARY SECONDS [FPS] [extra g2a record options]
#
# Busy programs: `top -d 0.1`, a terminal scrolling `ls -l` output without
# pause, one printing `yes` lines, xclock -update 1, xeyes following the
# pointer, and xdotool moving a window and the pointer every 100 ms.
# SCENE=full instead fills the whole screen with one terminal scrolling
# `ls -lR` output without pause behind the other windows; SCENE=video adds a
# video playing in an 800x450 ffplay window (a 25 fps pan and zoom over a
# real photograph, H.264 at CRF 23; needs `mate-backgrounds`, installed by
# ../shared/corpus/make_corpus.sh --install); SCENE=idle runs only xclock
# -update 1 (one small change a second) and no pointer moves.
set -euo pipefail
g2a=${1:?g2a binary}; secs=${2:-60}; fps=${3:-10}; shift 3 || true
out=$(mktemp -d)
exec 3< <(Xvfb -displayfd 1 -nolisten tcp -screen 0 1920x1080x24 2>/dev/null & echo "pid $!")
read -r _ xvfb_pid <&3
read -r n <&3
export DISPLAY=:$n
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; kill "$xvfb_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [ "${SCENE:-}" = full ]; then
  xterm -geometry 320x110+0+0 -e sh -c 'while :; do ls -lR /usr/share; done' & pids+=($!)
fi
if [ "${SCENE:-}" = video ]; then
  photo=/usr/share/backgrounds/mate/nature/Aqua.jpg
  [ -f "$photo" ] || { echo "SCENE=video needs $photo (mate-backgrounds)" >&2; exit 1; }
  ffmpeg -nostdin -v error -y -loop 1 -t 30 -i "$photo" \
    -vf "scale=1600:-2,zoompan=z='1+0.25*on/750':x='iw/2-(iw/zoom/2)+on*0.6':y='ih/2-(ih/zoom/2)':d=1:s=800x450:fps=25,format=yuv420p" \
    -c:v libx264 -crf 23 -preset veryfast "$out/video.mp4"
  SDL_VIDEODRIVER=x11 ffplay -loglevel error -an -loop 0 -x 800 -y 450 -left 1000 -top 120 \
    -window_title video "$out/video.mp4" & pids+=($!)
fi
if [ "${SCENE:-}" != idle ]; then
  xterm -geometry 120x50+0+0 -e top -d 0.1 & pids+=($!)
  xterm -geometry 100x40+900+0 -e sh -c 'while :; do ls -l /usr/bin; done' & pids+=($!)
  xterm -geometry 80x20+900+600 -e sh -c 'yes "g2a busy desktop line" | while read -r l; do echo "$l $(date +%T.%N)"; sleep 0.01; done' & pids+=($!)
  xeyes -geometry 200x150+1400+850 & pids+=($!)
fi
xclock -update 1 -geometry 200x200+1650+820 & pids+=($!)
sleep 2
win=$(xdotool search --class XClock | head -1)
[ "${SCENE:-}" = idle ] || ( i=0; while :; do i=$((i+1)); x=$(( (i*37) % 1700 )); y=$(( (i*23) % 860 ));
  xdotool mousemove $(( (i*53) % 1920 )) $(( (i*29) % 1080 )) windowmove "$win" $x $y; sleep 0.1; done ) & pids+=($!)
"$g2a" record --fps "$fps" --duration "$secs" -o "$out/busy.g2a" "$@" > "$out/summary.txt" &
g=$!
echo "t_s rss_mb" > "$out/rss.txt"
t=0
while kill -0 "$g" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$g/status 2>/dev/null || true)
  [ -n "$rss" ] && echo "$t $rss" >> "$out/rss.txt"
  sleep 5; t=$((t+5))
done
wait "$g"
cat "$out/summary.txt"
echo "RSS (MB) every 5 s: $(awk 'NR>1 {printf "%s ", $2}' "$out/rss.txt")"
"$g2a" verify "$out/busy.g2a" >/dev/null && echo "g2a verify: ok"
"$g2a" info "$out/busy.g2a" | grep -iE "frames|dropped|duration|size" | head -8 || true
if [ -n "${KEEP:-}" ]; then mv "$out/busy.g2a" "$KEEP"; fi
rm -rf "$out"
