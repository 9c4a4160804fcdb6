//! Any bytes as a `.g2a` file: opening, iterating, merging, seeking,
//! verifying and recovering must never panic, hang or over-allocate, and
//! what the reader reports must be self-consistent.
#![no_main]

use g2a_core::Timestamp;
use g2a_format::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = Reader::from_bytes(data.to_vec()) else {
        return;
    };
    let mut count = 0u64;
    let mut last_offset = 0u64;
    let mut records = reader.records();
    while let Some((offset, rec)) = records.next_with_offset() {
        assert!(offset >= last_offset, "records go forward");
        assert!(offset < reader.len());
        last_offset = offset;
        let _ = rec.ts();
        count += 1;
    }
    let merged = reader.merged().count() as u64;
    assert_eq!(merged, count, "merge yields every record once");
    let report = reader.verify();
    let _ = report.is_intact();
    for probe in [0, 1, 1_000_000, u64::MAX / 2] {
        if let Some(k) = reader.seek_keyframe(Timestamp::from_micros(probe)) {
            assert!(k.ts.as_micros() <= probe);
            let _ = reader.records_from(k.offset).next();
        }
    }
    let dir = std::env::temp_dir().join(format!("g2a-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let out = dir.join("recovered.g2a");
    if g2a_format::recover(&reader, &out).is_ok() {
        let again = Reader::open(&out).expect("a recovered file opens");
        assert!(again.verify().is_intact(), "a recovered file is intact");
    }
});
