# Scenarios of photographic and moving-picture content for ../shared/corpus/make_corpus.sh,
# which the shared corpus lacks (issue 21). Recorded the same way as the shared clips:
# real programs under Xvfb, driven by xdotool, grabbed losslessly at 10 fps.
#
#   EXTRA=$PWD/benches/corpus/media_scenarios.sh OUT=../clips \
#       ../shared/corpus/make_corpus.sh photo-video-1080 media-800
#
# (after `make_corpus.sh --install`). `benches/report.sh` measures every clip in
# ../shared/corpus and in ../clips. The videos played are made at record time by
# ffmpeg from real photographs (pans and zooms over them, then H.264 at a
# typical web quality, so each frame carries a lossy codec's noise as real
# videos do), since no video file ships with Debian's packages.

MEDIA=/usr/share/backgrounds/mate/nature
GIMP=/usr/share/gimp/2.0/help/en/images/tutorials/tone-mapping

# photos PATH...   the paths, after checking that each exists (feh skips a
# missing file quietly, which would change the scenario)
photos() {
    local p
    for p in "$@"; do
        [ -f "$p" ] || { echo "missing photo $p (make_corpus.sh --install)" >&2; return 1; }
    done
    echo "$@"
}

# make_video OUT W H SECONDS PHOTO...   a slow pan-and-zoom over each photo in turn
make_video() {
    local out=$1 w=$2 h=$3 secs=$4; shift 4
    local inputs=() chains="" concat="" i=0 n=$# per=$((secs / $#)) frames
    frames=$((per * 25))
    for photo in "$@"; do
        inputs+=(-loop 1 -t "$per" -i "$photo")
        chains+="[$i:v]scale=$((w * 2)):-2,zoompan=z='1+0.25*on/$frames':x='iw/2-(iw/zoom/2)+on*0.6':y='ih/2-(ih/zoom/2)':d=1:s=${w}x${h}:fps=25,trim=0:$per[v$i];"
        concat+="[v$i]"
        i=$((i + 1))
    done
    ffmpeg -nostdin -v error -y "${inputs[@]}" \
        -filter_complex "${chains}${concat}concat=n=$n:v=1:a=0,format=yuv420p[out]" \
        -map '[out]' -c:v libx264 -crf 23 -preset veryfast "$out"
}

# photo-video-1080: a photo wallpaper; a feh slideshow of real photographs
# (a new photo every 2.5 s, zoomed in and panned by keyboard now and then);
# a video playing in an ffplay window; an xterm beside them where commands
# are typed; the windows moved once.
scenario_photo_video_1080() {
    start_x 99 1920 1080
    write_bashrc
    wallpaper "$(photos $MEDIA/Storm.jpg)"
    make_video "$WORK/pan-640.mp4" 640 360 40 $(photos $MEDIA/Aqua.jpg $MEDIA/Wood.jpg $MEDIA/Garden.jpg)
    terminal -fa 'DejaVu Sans Mono' -fs 10 -geometry 90x24+40+620
    local slides
    slides=$(photos $MEDIA/Dune.jpg $MEDIA/Blinds.jpg $MEDIA/FreshFlower.jpg $MEDIA/GreenMeadow.jpg \
        $MEDIA/RainDrops.jpg $MEDIA/YellowFlower.jpg $GIMP/apple-orchard-truck-from-camera.jpg \
        $GIMP/power-lines.jpg)
    # shellcheck disable=SC2086
    spawn feh --title "slideshow" -g 1000x620+40+40 --scale-down --slideshow-delay 2.5 $slides
    SDL_VIDEODRIVER=x11 spawn ffplay -an -loop 0 -x 800 -y 450 -left 1080 -top 80 \
        -window_title video "$WORK/pan-640.mp4"
    local term viewer
    term=$(win xterm); viewer=$(win feh)
    sleep 4
    start_capture 60
    sleep 2
    xdotool windowactivate --sync "$term"; sleep 0.6
    cmd "ls -l /usr/share/backgrounds/mate/nature | head -20"; sleep 3
    cmd "uptime"; sleep 4
    xdotool windowactivate --sync "$viewer"; sleep 1
    keys_slow 0.8 KP_Add KP_Add Right Right Down; sleep 4   # zoom in, pan
    key KP_Subtract; sleep 6
    move_window "$term" 900 600; sleep 3
    xdotool windowactivate --sync "$term"; sleep 0.5
    cmd "df -h | head -8"; sleep 6
    glide 1400 300; sleep 4; glide 500 400; sleep 4
    finish_capture
}

# media-800: at 1280x800, a video filling most of the screen (as a video
# call or a training clip would), a small photo viewer stepping through
# photos by hand, and htop updating in a terminal.
scenario_media_800() {
    start_x 98 1280 800
    write_bashrc
    wallpaper "$(photos /usr/share/backgrounds/mate/desktop/GreenTraditional.jpg)"
    make_video "$WORK/pan-960.mp4" 960 540 40 $(photos $GIMP/tree-exposed-for-sky-ground-is-dark.jpg \
        $GIMP/truck-tone-mapped-using-gegl-mantuik.jpg $MEDIA/YellowFlower.jpg)
    # htop first: keys typed while the video player has the focus would
    # reach it ('p' pauses ffplay)
    terminal -fa 'DejaVu Sans Mono' -fs 9 -geometry 60x16+880+520
    local term viewer
    term=$(win xterm)
    xdotool windowactivate --sync "$term"; sleep 0.5
    cmd "htop"
    sleep 1
    SDL_VIDEODRIVER=x11 spawn ffplay -an -loop 0 -x 960 -y 540 -left 10 -top 20 \
        -window_title video "$WORK/pan-960.mp4"
    # shellcheck disable=SC2046
    spawn feh --title "photos" -g 300x220+975+20 --scale-down $(photos $MEDIA/RainDrops.jpg \
        $MEDIA/Blinds.jpg $MEDIA/GreenMeadow.jpg $GIMP/power-lines.jpg $MEDIA/Dune.jpg)
    viewer=$(win feh)
    sleep 3
    start_capture 45
    sleep 3
    xdotool windowactivate --sync "$viewer"; sleep 1
    keys_slow 3 Right Right Right Right; sleep 3
    move_window "$viewer" 975 300; sleep 3
    xdotool windowactivate --sync "$viewer"; sleep 0.5
    keys_slow 3 Left Left; sleep 4
    glide 600 400; sleep 5; glide 1100 700; sleep 5
    finish_capture
}
