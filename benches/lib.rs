//! Shared helpers of the g2a benchmarks: loading real screen clips.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use g2a_core::Size;

/// Frames of one clip, packed BGRA.
#[derive(Debug)]
pub struct Clip {
    /// Clip name (file stem).
    pub name: String,
    /// Frame size.
    pub size: Size,
    /// The frames.
    pub frames: Vec<Vec<u8>>,
}

/// The repository root.
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `../shared/corpus` beside the repository, when present.
#[must_use]
pub fn corpus_dir() -> Option<PathBuf> {
    let d = repo_root().join("../shared/corpus");
    d.is_dir().then_some(d)
}

/// The corpus clips (`*.mkv`), sorted.
#[must_use]
pub fn corpus_clips() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "mkv"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The size of a video, from `ffprobe`.
#[must_use]
pub fn probe_size(path: &Path) -> Option<Size> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height", "-of", "csv=p=0:s=x"])
        .arg(path)
        .output()
        .ok()?;
    Size::parse(String::from_utf8_lossy(&out.stdout).trim())
}

/// Decodes up to `max` frames of a video with the `ffmpeg` command.
#[must_use]
pub fn decode_video(path: &Path, max: usize) -> Option<Clip> {
    let size = probe_size(path)?;
    let mut child = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            &max.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgra",
            "-",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let n = usize::try_from(size.area() * 4).ok()?;
    let mut frames = Vec::new();
    loop {
        let mut buf = vec![0u8; n];
        if out.read_exact(&mut buf).is_err() {
            break;
        }
        frames.push(buf);
    }
    let _ = child.wait();
    let name = path.file_stem()?.to_string_lossy().into_owned();
    Some(Clip { name, size, frames })
}

/// The first `max` frames of each corpus clip, or the testdata samples when
/// the corpus (or ffmpeg) is absent.
#[must_use]
pub fn load_clips(max: usize) -> Vec<Clip> {
    let clips: Vec<Clip> = corpus_clips()
        .iter()
        .filter_map(|p| decode_video(p, max))
        .filter(|c| !c.frames.is_empty())
        .collect();
    if !clips.is_empty() {
        return clips;
    }
    eprintln!("../shared/corpus not found: using the samples in testdata/");
    ["term-960x540-40f.bgra.zst", "desktop-960x540-40f.bgra.zst"]
        .iter()
        .filter_map(|name| {
            let f = std::fs::File::open(repo_root().join("testdata").join(name)).ok()?;
            let raw = zstd::decode_all(f).ok()?;
            let size = Size::new(960, 540);
            let frames = raw
                .chunks_exact(960 * 540 * 4)
                .take(max)
                .map(<[u8]>::to_vec)
                .collect();
            Some(Clip {
                name: name.split('.').next().unwrap_or(name).to_string(),
                size,
                frames,
            })
        })
        .collect()
}
