/*
 * record_example.c: records a short synthetic session through the g2a C API.
 *
 * Draws 60 frames of 320x240 (a moving rectangle over a background with
 * lines of "text" being typed), pushes chat, a diagnostics document, a
 * session event, a cursor shape and cursor positions, finishes the file and
 * prints the summary. Usage: record_example OUT.g2a
 *
 * Build (from the repository root, after cargo build -p g2a-ffi):
 *   gcc -std=c11 -Wall -Wextra -Icrates/g2a-ffi/include \
 *       crates/g2a-ffi/examples/c/record_example.c target/debug/libg2a.a \
 *       -lpthread -ldl -lm -o record_example
 *
 * crates/g2a-ffi/tests/c_example.rs builds and runs this program and checks
 * its output frame by frame: keep draw_frame in step with the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "g2a.h"

#define WIDTH 320u
#define HEIGHT 240u
#define FRAMES 60u
/* Rows are padded: the library must honour the stride. */
#define STRIDE (WIDTH * 4u + 16u)

static uint32_t mix(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    uint32_t h = a * 0x9E3779B1u ^ b * 0x85EBCA77u ^ c * 0xC2B2AE3Du ^ d * 0x27D4EB2Fu;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

/* Frame i: B, G, R of every pixel; the fourth byte is padding (BGRX). */
static void draw_frame(uint8_t *px, uint32_t i) {
    uint32_t rx = (i * 5u) % (WIDTH - 40u);
    uint32_t ry = 40u + (i * 3u) % (HEIGHT - 70u);
    for (uint32_t y = 0; y < HEIGHT; y++) {
        for (uint32_t x = 0; x < WIDTH; x++) {
            uint8_t *p = px + (size_t)y * STRIDE + (size_t)x * 4u;
            uint8_t b = (uint8_t)(200u + y % 32u), g = 220u, r = (uint8_t)(230u + x % 16u);
            /* Text: lines of 12 pixels, glyphs of 6, typed 8 glyphs a frame. */
            uint32_t line = y / 12u, ly = y % 12u;
            if (ly < 8u && x >= 8u && x < WIDTH - 8u) {
                uint32_t glyph = (x - 8u) / 6u, gx = (x - 8u) % 6u;
                int typed = line * 52u + glyph < i * 8u;
                int space = mix(line, glyph, 0u, 0u) % 7u == 0u;
                if (typed && !space && gx < 5u && (mix(line, glyph, ly, gx) & 1u)) {
                    b = 20u;
                    g = 20u;
                    r = 20u;
                }
            }
            if (x >= rx && x < rx + 40u && y >= ry && y < ry + 30u) {
                b = 200u;
                g = 80u;
                r = 30u;
            }
            p[0] = b;
            p[1] = g;
            p[2] = r;
            p[3] = 0x5au; /* ignored */
        }
    }
}

/* Prints the failed call and the library's message; returns 1. */
static int fail(const char *what, g2a_status st) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)st, g2a_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.g2a\n", argv[0]);
        return 2;
    }
    printf("g2a %s\n", g2a_version());

    g2a_metadata_entry meta[2] = {
        {"ticket", "T-4711"},
        {"client", "record_example.c"},
    };
    g2a_session_info info;
    memset(&info, 0, sizeof info);
    info.session_id = "C-EXAMPLE-1";
    info.portal = "support.example.com";
    info.team = "Tier 1";
    info.representative = "Ada";
    info.customer = "Kim";
    info.side = G2A_SIDE_REPRESENTATIVE;
    info.start_time_unix_us = 1700000000000000LL;
    info.width = WIDTH;
    info.height = HEIGHT;
    info.recorder_name = "record_example";
    info.metadata = meta;
    info.metadata_len = 2;

    g2a_recorder_options opts;
    g2a_status st = g2a_recorder_options_init(&opts);
    if (st != G2A_OK) return fail("g2a_recorder_options_init", st);
    opts.queue_frames = 4; /* encode on a background thread... */
    opts.queue_full = G2A_QUEUE_FULL_BLOCK; /* ...without dropping frames */
    opts.keyframe_max_frames = 25;

    g2a_recorder *rec = NULL;
    st = g2a_recorder_create(argv[1], &info, &opts, &rec);
    if (st != G2A_OK) return fail("g2a_recorder_create", st);

    /* An 8x8 cursor: an opaque white square with a black border. */
    uint8_t cursor[8 * 8 * 4];
    for (int k = 0; k < 64; k++) {
        int edge = k % 8 == 0 || k % 8 == 7 || k / 8 == 0 || k / 8 == 7;
        uint8_t v = edge ? 0u : 255u;
        cursor[k * 4 + 0] = v;
        cursor[k * 4 + 1] = v;
        cursor[k * 4 + 2] = v;
        cursor[k * 4 + 3] = 255u;
    }
    st = g2a_recorder_push_cursor_shape(rec, 0, 1, 0, 0, 8, 8, cursor, sizeof cursor);
    if (st != G2A_OK) goto failed;

    uint8_t *pixels = malloc((size_t)STRIDE * HEIGHT);
    if (!pixels) {
        g2a_recorder_free(rec);
        return 1;
    }
    int recorded = 0;
    for (uint32_t i = 0; i < FRAMES; i++) {
        uint64_t ts = (uint64_t)i * 100000u; /* 10 frames a second */
        draw_frame(pixels, i);
        st = g2a_recorder_push_frame(rec, pixels, STRIDE, WIDTH, HEIGHT, G2A_PIXEL_FORMAT_BGRX, ts);
        if (st < 0) {
            free(pixels);
            goto failed;
        }
        if (st == G2A_RECORDED) recorded++;
        st = g2a_recorder_push_cursor(rec, ts, (int32_t)((i * 5u) % (WIDTH - 40u)) + 20,
                                      (int32_t)(40u + (i * 3u) % (HEIGHT - 70u)) + 15, 1, 1);
        if (st != G2A_OK) {
            free(pixels);
            goto failed;
        }
        if (i == 10) {
            st = g2a_recorder_push_chat(rec, ts, G2A_ROLE_CUSTOMER, "Kim",
                                        "Hello, my printer says \xE2\x80\x9Coffline\xE2\x80\x9D.");
            if (st != G2A_OK) { free(pixels); goto failed; }
        }
        if (i == 20) {
            st = g2a_recorder_push_event(rec, ts, G2A_EVENT_REMOTE_CONTROL_GRANTED, "Ada");
            if (st != G2A_OK) { free(pixels); goto failed; }
        }
        if (i == 30) {
            const char *doc = "{\"os\":\"Debian 12\",\"printers\":[\"HP-1\"]}";
            st = g2a_recorder_push_diagnostic(rec, ts, "sysinfo.json", G2A_MEDIA_JSON,
                                              (const uint8_t *)doc, strlen(doc));
            if (st != G2A_OK) { free(pixels); goto failed; }
            /* An error on purpose: chat may not go back in time. Nothing is
             * recorded and the recorder stays usable. */
            st = g2a_recorder_push_chat(rec, 0, G2A_ROLE_REPRESENTATIVE, "Ada", "late");
            printf("expected error %d: %s\n", (int)st, g2a_last_error_message());
            st = g2a_recorder_push_chat(rec, ts, G2A_ROLE_REPRESENTATIVE, "Ada",
                                        "Thanks, I see it. Restarting the spooler.");
            if (st != G2A_OK) { free(pixels); goto failed; }
        }
    }
    free(pixels);

    g2a_recording_summary sum;
    st = g2a_recorder_finish(rec, &sum); /* rec is consumed */
    if (st != G2A_OK) return fail("g2a_recorder_finish", st);
    printf("pushed=%d frames=%llu dropped=%llu key=%llu delta=%llu unchanged=%llu "
           "records=%llu files=%u bytes=%llu stopped=%u\n",
           recorded, (unsigned long long)sum.frames, (unsigned long long)sum.dropped,
           (unsigned long long)sum.key_frames, (unsigned long long)sum.delta_frames,
           (unsigned long long)sum.unchanged_frames, (unsigned long long)sum.records,
           (unsigned)sum.files, (unsigned long long)sum.bytes, (unsigned)sum.stopped_by_cap);
    return 0;

failed:
    fail("recording", st);
    g2a_recorder_free(rec); /* finishes what was recorded */
    return 1;
}
