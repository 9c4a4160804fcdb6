//! Golden files: recordings written by format version 1.0, kept in
//! `testdata/golden/` so that every later version of the reader is checked
//! against the same bytes (see testdata/MANIFEST.md).
//!
//! `G2A_BLESS=1 cargo test -p g2a --test golden` rewrites them; do that only
//! for a deliberate format change (and bump the version).

use std::path::{Path, PathBuf};

use g2a::{EncoderConfig, KeyframePolicy, Player, Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{
    CodecId, EncryptionInfo, EventKind, MediaType, PayloadCipher, Reader, Record, RecordingSide,
    SenderRole, SessionHeader, SharedCipher, TrailerState, Writer, WriterOptions,
};

const SIZE: Size = Size::new(96, 64);

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/golden")
        .join(name)
}

/// Six 96x64 crops of the real terminal sample (frames 0, 7, 14, ...).
fn frames() -> Vec<Vec<u8>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/term-960x540-40f.bgra.zst");
    let raw = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    let full = 960 * 540 * 4;
    (0..6)
        .map(|i| {
            let f = &raw[i * 7 * full..(i * 7 + 1) * full];
            (0..64)
                .flat_map(|y| f[y * 960 * 4..y * 960 * 4 + 96 * 4].to_vec())
                .collect()
        })
        .collect()
}

fn header() -> SessionHeader {
    SessionHeader::new("GOLDEN-1", SIZE)
        .with_portal("Support")
        .with_team("Tier 1")
        .with_representative("Ann Agent")
        .with_customer("Kim Customer")
        .with_start_time_unix_micros(1_767_225_600_000_000)
        .with_side(RecordingSide::Customer)
        .with_recorder("g2a golden", "1.0")
        .with_metadata("ticket", "T-42")
}

/// A deterministic keyed cipher for the sealed golden file: the real one
/// (g2a-catalog) draws a random nonce per record, so its output can't be
/// golden. XOR with a keyed byte stream, then a 4-byte keyed CRC over the
/// associated data and the plaintext: enough to pin down which bytes are
/// sealed and which associated data (FORMAT.md §4.2) authenticates them.
struct GoldenCipher(u8);

impl GoldenCipher {
    fn tag(&self, aad: &[u8], plain: &[u8]) -> [u8; 4] {
        let mut h = crc32fast::Hasher::new();
        h.update(&[self.0]);
        h.update(aad);
        h.update(plain);
        h.finalize().to_le_bytes()
    }
}

impl PayloadCipher for GoldenCipher {
    fn seal(&self, aad: &[u8], plain: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.extend(
            plain
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ self.0 ^ (i as u8)),
        );
        out.extend_from_slice(&self.tag(aad, plain));
        Ok(())
    }

    fn open(&self, aad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let n = sealed
            .len()
            .checked_sub(4)
            .ok_or("sealed payload too short")?;
        let start = out.len();
        out.extend(
            sealed[..n]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ self.0 ^ (i as u8)),
        );
        if self.tag(aad, &out[start..]) != sealed[n..] {
            out.truncate(start);
            return Err("does not authenticate (wrong key or tampered bytes)".into());
        }
        Ok(())
    }
}

/// The recorder options of the golden files: the default ones with the
/// encoder's zstd level pinned to 3, the default when the files were
/// written. The level is the encoder's choice, not the format's (any level
/// decodes the same), so a later change of the default leaves these bytes.
fn golden_options() -> RecorderOptions {
    RecorderOptions::default().encoder(EncoderConfig::default().level(3))
}

/// Writes the all-kinds recording to `path`.
fn write_all_kinds(path: &Path) {
    write_all_kinds_with(path, golden_options());
}

/// The all-kinds recording, encrypted with [`GoldenCipher`].
fn write_sealed(path: &Path) {
    let info = EncryptionInfo {
        scheme: "g2a-golden-xor".into(),
        key_block: b"key 0x5a".to_vec(),
    };
    let opts = golden_options().encrypt(SharedCipher::new(GoldenCipher(0x5a)), info);
    write_all_kinds_with(path, opts);
}

fn write_all_kinds_with(path: &Path, opts: RecorderOptions) {
    let mut rec = Recorder::create(path, header(), opts).unwrap();
    let shape: Vec<u8> = [0, 0, 0, 255].repeat(4 * 4);
    rec.push_cursor_shape(Timestamp::ZERO, 1, (1, 2), Size::new(4, 4), &shape)
        .unwrap();
    for (i, f) in frames().iter().enumerate() {
        let ts = Timestamp::from_millis(i as u64 * 100);
        rec.push_frame(ts, &FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap())
            .unwrap();
        rec.push_cursor(ts, 10 + i as i32, -3, Some(1)).unwrap();
    }
    rec.push_chat(
        Timestamp::from_millis(150),
        SenderRole::Customer,
        "Kim",
        "héllo ✓",
    )
    .unwrap();
    rec.push_diagnostic(
        Timestamp::from_millis(250),
        "system.json",
        MediaType::Json,
        br#"{"os":"x"}"#,
    )
    .unwrap();
    rec.push_event(
        Timestamp::from_millis(350),
        EventKind::RemoteControlGranted,
        "full",
    )
    .unwrap();
    rec.push_event(
        Timestamp::from_millis(360),
        EventKind::Other(900),
        "a future event",
    )
    .unwrap();
    rec.finish().unwrap();
}

/// A recording with a record kind this version does not define (0x40),
/// as a later minor version could write.
fn write_unknown_kind(path: &Path) {
    let mut w = Writer::create(path, header(), WriterOptions::default()).unwrap();
    w.write(&Record::Video {
        ts: Timestamp::ZERO,
        codec: CodecId(*b"TEST"),
        keyframe: true,
        data: b"opaque",
    })
    .unwrap();
    w.write(&Record::Unknown {
        ts: Timestamp::from_millis(1),
        kind: 0x40,
        payload: b"from the future",
    })
    .unwrap();
    w.write(&Record::Chat {
        ts: Timestamp::from_millis(2),
        role: SenderRole::System,
        sender: "",
        text: "after",
    })
    .unwrap();
    w.finish().unwrap();
}

fn check_or_bless(name: &str, write: fn(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join(name);
    write(&fresh);
    let bytes = std::fs::read(&fresh).unwrap();
    let path = golden(name);
    if std::env::var_os("G2A_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let kept = std::fs::read(&path).unwrap();
    assert_eq!(
        kept, bytes,
        "{name}: today's writer no longer produces the golden bytes"
    );
    kept
}

#[test]
fn all_kinds_golden_file_reads_back_exactly() {
    check_or_bless("v1.0-all-kinds.g2a", write_all_kinds);
    let path = golden("v1.0-all-kinds.g2a");
    let r = Reader::open(&path).unwrap();
    assert!(r.verify().is_intact());
    assert_eq!(r.header().session_id, "GOLDEN-1");
    assert_eq!(r.header().side, RecordingSide::Customer);
    assert_eq!(
        r.header().metadata,
        vec![("ticket".to_string(), "T-42".to_string())]
    );
    let mut player = Player::open(&path).unwrap();
    for (i, want) in frames().iter().enumerate() {
        let f = player.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp::from_millis(i as u64 * 100));
        assert!(f
            .data
            .chunks_exact(4)
            .zip(want.chunks_exact(4))
            .all(|(a, b)| a[..3] == b[..3]));
    }
    let chat: Vec<String> = player
        .records()
        .filter_map(|r| match r {
            Record::Chat { text, .. } => Some(text.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(chat, ["héllo ✓"]);
    assert!(player.records().any(|r| matches!(
        r,
        Record::Event {
            kind: EventKind::Other(900),
            ..
        }
    )));
}

#[test]
fn cut_golden_file_keeps_its_complete_prefix() {
    // The all-kinds file cut in the middle of its biggest record after the
    // first frame: what a killed recorder leaves.
    let full = std::fs::read(golden("v1.0-all-kinds.g2a")).unwrap();
    let r = Reader::from_bytes(full.clone()).unwrap();
    // (offset, end, is video) of every record
    let mut spans = Vec::new();
    let mut recs = r.records();
    while let Some((off, rec)) = recs.next_with_offset() {
        spans.push((off, recs.position(), matches!(rec, Record::Video { .. })));
    }
    let first_video = spans.iter().position(|s| s.2).unwrap();
    let &(start, end, _) = spans[first_video + 1..]
        .iter()
        .max_by_key(|(s, e, _)| e - s)
        .unwrap();
    let cut_at = (start + end) / 2;
    let complete_frames = spans.iter().filter(|&&(_, e, v)| v && e <= cut_at).count();
    let cut = &full[..cut_at as usize];
    let path = golden("v1.0-cut.g2a");
    if std::env::var_os("G2A_BLESS").is_some() {
        std::fs::write(&path, cut).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), cut);
    let r = Reader::open(&path).unwrap();
    assert_eq!(*r.trailer(), TrailerState::Missing);
    let damage = r.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(
        (damage[0].start, damage[0].end),
        (start, cut_at),
        "exactly the cut record is lost"
    );
    let mut player = Player::open(&path).unwrap();
    let mut n = 0;
    while player.next_frame().unwrap().is_some() {
        n += 1;
    }
    assert!(complete_frames >= 1);
    assert_eq!(
        n, complete_frames,
        "every complete frame before the cut plays"
    );
}

#[test]
fn unknown_record_kinds_are_skipped() {
    check_or_bless("v1.0-unknown-kind.g2a", write_unknown_kind);
    let r = Reader::open(golden("v1.0-unknown-kind.g2a")).unwrap();
    assert!(r.verify().is_intact());
    let kinds: Vec<String> = r
        .merged()
        .map(|rec| match rec {
            Record::Unknown { kind, .. } => format!("unknown {kind:#x}"),
            Record::Chat { text, .. } => format!("chat {text}"),
            Record::Video { .. } => "video".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["video", "unknown 0x40", "chat after"]);
}

#[test]
fn a_future_major_version_is_refused_clearly() {
    let mut bytes = std::fs::read(golden("v1.0-unknown-kind.g2a")).unwrap();
    bytes[8] = 2; // major version, little-endian u16 after the 8-byte magic
    let e = Reader::from_bytes(bytes).unwrap_err().to_string();
    assert!(
        e.contains('2') && e.to_lowercase().contains("version"),
        "{e}"
    );
}

#[test]
fn sealed_golden_file_opens_with_its_key_only() {
    check_or_bless("v1.0-sealed.g2a", write_sealed);
    let path = golden("v1.0-sealed.g2a");
    let clear = std::fs::read(golden("v1.0-all-kinds.g2a")).unwrap();
    let sealed = std::fs::read(&path).unwrap();
    assert!(!sealed.windows(8).any(|w| w == &"héllo ✓".as_bytes()[..8]));
    assert!(clear.windows(8).any(|w| w == &"héllo ✓".as_bytes()[..8]));

    // Without the key: framing, index and checksums are all there.
    let r = Reader::open(&path).unwrap();
    assert!(r.verify().is_intact());
    assert!(r.is_encrypted());
    assert_eq!(
        r.header().encryption.as_ref().unwrap().scheme,
        "g2a-golden-xor"
    );
    let plain = Reader::open(golden("v1.0-all-kinds.g2a")).unwrap();
    assert_eq!(r.keyframes().len(), plain.keyframes().len());
    let shape = |rec: &Record<'_>| (rec.ts(), rec.track(), rec.is_keyframe());
    let a: Vec<_> = r.merged().map(|x| shape(&x)).collect();
    let b: Vec<_> = plain.merged().map(|x| shape(&x)).collect();
    assert_eq!(
        a, b,
        "same records, times, tracks and keyframes as the clear file"
    );
    assert!(r.merged().any(|x| x.is_sealed()));
    assert!(r
        .merged()
        .all(|x| x.is_sealed()
            != matches!(x, Record::ScreenSize { .. } | Record::CursorPosition { .. })));
    let mut p = Player::open(&path).unwrap();
    assert!(p.is_encrypted());
    let e = p.next_frame().unwrap_err().to_string();
    assert!(e.contains("encrypted"), "{e}");

    // With the wrong key: a clear error, never garbage.
    p.set_cipher(Some(SharedCipher::new(GoldenCipher(0x5b))));
    let e = p.frame_at(Timestamp::ZERO).unwrap_err().to_string();
    assert!(e.contains("wrong key"), "{e}");

    // With the key: the same frames, chat and cursor as the clear file.
    let mut p = Player::open(&path).unwrap();
    p.set_cipher(Some(SharedCipher::new(GoldenCipher(0x5a))));
    for (i, want) in frames().iter().enumerate() {
        let f = p.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp::from_millis(i as u64 * 100));
        assert!(f
            .data
            .chunks_exact(4)
            .zip(want.chunks_exact(4))
            .all(|(a, b)| a[..3] == b[..3]));
    }
    let f = p.frame_at(Timestamp::from_millis(250)).unwrap();
    assert_eq!(f.ts, Timestamp::from_millis(200));
    let mut chat = Vec::new();
    p.for_each_record(|r| {
        if let Record::Chat { text, .. } = r {
            chat.push(text.to_string());
        }
    })
    .unwrap();
    assert_eq!(chat, ["héllo ✓"]);
    let cursor = p.cursor_track().unwrap();
    let c = cursor.at(Timestamp::from_millis(100)).unwrap();
    assert_eq!((c.x, c.y), (11, -3));
    assert!(c.image.is_some(), "the sealed cursor shape opens");
    assert_eq!(p.codec_stats().sealed_frames, 0);
}

/// Frames of the tile-operations golden set: 456×280, so the right column
/// of tiles is 8 pixels wide and the bottom row 24 high (edge tiles).
const TILES_SIZE: Size = Size::new(456, 280);

/// The frames of a raw sample in `testdata/` (960×540 BGRA).
fn sample(name: &str) -> Vec<Vec<u8>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    let raw = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    raw.chunks_exact(960 * 540 * 4)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Eighteen frames built from the real samples so that, between them, they
/// need every tile operation of CODEC.md §3: the left 96 columns show the
/// terminal sample, the right ones a photographic crop of the desktop
/// sample that scrolls (COPY with motion vectors), and a flat "dialog" with
/// a dark border opens and closes over both (SOLID and PALETTE tiles, then
/// CACHE tiles when what it covered comes back). Some frames repeat the one
/// before (unchanged packets); the keyframe policy starts a keyframe every
/// few frames, after which the dialog opens and closes again (the cache is
/// used after a second keyframe), and the size cap starts a continuation
/// file (which starts with a keyframe of its own).
fn tile_frames() -> Vec<Vec<u8>> {
    let term = sample("term-960x540-40f.bgra.zst");
    let desk = sample("desktop-960x540-40f.bgra.zst");
    let (w, h) = (TILES_SIZE.width as usize, TILES_SIZE.height as usize);
    let frame = |t: usize, dy: usize, dialog: bool| -> Vec<u8> {
        let mut f = vec![0u8; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let (src, sx, sy) = match x < 96 {
                    true => (&term[t], x, y),
                    false => (&desk[0], x - 96 + 300, y + dy + 100),
                };
                let i = (sy * 960 + sx) * 4;
                f[(y * w + x) * 4..][..4].copy_from_slice(&src[i..i + 4]);
            }
        }
        if dialog {
            for y in 32..96 {
                for x in 64..160 {
                    let border = x == 64 || x == 159 || y == 32 || y == 95;
                    let c = if border {
                        [40, 40, 40, 255]
                    } else {
                        [230, 230, 230, 255]
                    };
                    f[(y * w + x) * 4..][..4].copy_from_slice(&c);
                }
            }
        }
        f
    };
    vec![
        frame(0, 0, false),
        frame(0, 16, false),
        frame(0, 32, false),
        frame(0, 32, true),
        frame(0, 32, false),
        frame(0, 32, false),
        frame(7, 32, false),
        frame(14, 48, false),
        frame(14, 48, true),
        frame(14, 48, false),
        frame(14, 64, false),
        frame(21, 64, false),
        frame(21, 80, false),
        frame(28, 96, false),
        frame(28, 112, false),
        frame(35, 112, true),
        frame(35, 112, false),
        frame(39, 128, false),
    ]
}

/// The size cap of the tile-operations set: the recording continues in a
/// second file (FORMAT.md §7.3).
const TILES_CAP: u64 = 65_536;

/// Writes the tile-operations set: `v1.0-tiles.g2a` and its continuation
/// `v1.0-tiles.001.g2a` in `dir`.
fn write_tiles(dir: &Path) {
    let mut keyframes = KeyframePolicy::default();
    keyframes.max_frames = Some(4);
    let opts = golden_options()
        .encoder(EncoderConfig::default().level(3).keyframes(keyframes))
        .writer(WriterOptions::default().size_cap(Some(TILES_CAP)));
    let header = SessionHeader::new("GOLDEN-TILES", TILES_SIZE)
        .with_start_time_unix_micros(1_767_225_600_000_000)
        .with_recorder("g2a golden", "1.0");
    let mut rec = Recorder::create(dir.join("v1.0-tiles.g2a"), header, opts).unwrap();
    for (i, f) in tile_frames().iter().enumerate() {
        let ts = Timestamp::from_millis(i as u64 * 100);
        rec.push_frame(
            ts,
            &FrameRef::packed(f, TILES_SIZE, PixelFormat::Bgra8).unwrap(),
        )
        .unwrap();
    }
    rec.finish().unwrap();
}

#[test]
fn tiles_golden_set_exercises_every_tile_operation() {
    let names = ["v1.0-tiles.g2a", "v1.0-tiles.001.g2a"];
    let dir = tempfile::tempdir().unwrap();
    write_tiles(dir.path());
    let mut written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["v1.0-tiles.001.g2a", "v1.0-tiles.g2a"],
        "one continuation file"
    );
    for name in names {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        if std::env::var_os("G2A_BLESS").is_some() {
            std::fs::write(golden(name), &bytes).unwrap();
        }
        assert_eq!(
            std::fs::read(golden(name)).unwrap(),
            bytes,
            "{name}: today's writer no longer produces the golden bytes"
        );
    }

    // Decoded packet by packet, file by file: every frame exact, and the
    // tile operations the set was made for all present.
    let want = tile_frames();
    let mut dec = g2a_codec::Decoder::new(g2a_core::Limits::default());
    let (mut n, mut keys, mut firsts) = (0, Vec::new(), Vec::new());
    let mut cache_after_second_key = 0;
    for name in names {
        let r = Reader::open(golden(name)).unwrap();
        assert!(r.verify().is_intact(), "{name}");
        let mut first = true;
        for rec in r.records() {
            let Record::Video { keyframe, data, .. } = rec else {
                continue;
            };
            if first {
                firsts.push(keyframe);
                first = false;
            }
            let before = dec.tile_counts().cache;
            let f = dec.decode(data).unwrap().data.to_vec();
            assert_eq!(keyframe, g2a_codec::Decoder::is_keyframe(data));
            if keyframe {
                keys.push(n);
            }
            if keys.len() >= 2 {
                cache_after_second_key += dec.tile_counts().cache - before;
            }
            assert!(
                f.chunks_exact(4)
                    .zip(want[n].chunks_exact(4))
                    .all(|(a, b)| a[..3] == b[..3]),
                "frame {n}"
            );
            n += 1;
        }
    }
    assert_eq!(n, want.len());
    assert_eq!(firsts, [true, true], "each file starts with a keyframe");
    assert!(keys.len() >= 2, "keyframes at {keys:?}");
    assert!(
        cache_after_second_key > 0,
        "the cache is used after a second keyframe"
    );
    let c = dec.tile_counts();
    for (what, k) in [
        ("skip", c.skip),
        ("solid", c.solid),
        ("copy", c.copy),
        ("palette", c.palette),
        ("pixels", c.pixels),
        ("cache", c.cache),
        ("edge", c.edge),
        ("motion vectors", c.motion_vectors),
    ] {
        assert!(k > 0, "no {what} tiles in {c:?}");
    }
    let stats = Player::open(golden(names[0])).unwrap().codec_stats();
    assert!(stats.unchanged_frames > 0, "{stats:?}");
    eprintln!("{c:?}, keyframes at {keys:?}, {stats:?}");
}
