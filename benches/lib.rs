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

/// A video's frames (all, or the first `max`) as packed BGRA bytes, from
/// an `ffmpeg` child: the child, to wait for, and its output to read.
///
/// # Errors
/// When `ffmpeg` can't be started.
pub fn bgra_stream(
    path: &Path,
    max: Option<usize>,
) -> std::io::Result<(std::process::Child, std::process::ChildStdout)> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-loglevel", "error", "-i"]).arg(path);
    if let Some(max) = max {
        cmd.args(["-frames:v", &max.to_string()]);
    }
    let mut child = cmd
        .args(["-f", "rawvideo", "-pix_fmt", "bgra", "-"])
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no pipe from ffmpeg"))?;
    Ok((child, out))
}

/// Decodes up to `max` frames of a video with the `ffmpeg` command.
#[must_use]
pub fn decode_video(path: &Path, max: usize) -> Option<Clip> {
    let size = probe_size(path)?;
    let (mut child, mut out) = bgra_stream(path, Some(max)).ok()?;
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

/// The password of every account of [`synthetic_catalog`].
pub const SYNTHETIC_PASSWORD: &str = "bench-pw-Vq8#Lw2!pZ";
const DAY: i64 = 86_400_000_000;

/// Creates at `dir` a catalog of `n` sessions spread over the 89 days
/// before `now` (µs since the Unix epoch): 10 portals with a subportal
/// each, 100 teams (every fifth a top-level team with four subteams),
/// 2 000 representatives, company manager `admin` and team manager `tm`
/// (team0), all with [`SYNTHETIC_PASSWORD`]. With `fixed_clock` the
/// catalog's clock stays at `now` (criterion benches); otherwise it is the
/// real clock (a catalog to serve). Password hashing uses the fast test
/// parameters.
///
/// # Errors
/// Any catalog error.
pub fn synthetic_catalog(
    dir: &Path,
    n: usize,
    now: i64,
    fixed_clock: bool,
) -> Result<g2a_catalog::Catalog, g2a_catalog::CatalogError> {
    use g2a_catalog::{Catalog, CatalogOptions, Clock, NewSession, Role};
    const PORTALS: usize = 10;
    const TEAMS: usize = 100;
    const REPS: usize = 2_000;
    let pw = SYNTHETIC_PASSWORD;
    let mut cat = Catalog::create(dir, "admin", pw, CatalogOptions::insecure_fast_for_tests())?;
    if fixed_clock {
        cat.set_clock(Clock::Fixed(now));
    }
    let admin = cat.login("admin", pw)?;
    for p in 0..PORTALS {
        cat.add_portal(&admin, &format!("portal{p}"), None)?;
        cat.add_portal(
            &admin,
            &format!("portal{p}-sub"),
            Some(&format!("portal{p}")),
        )?;
    }
    for t in 0..TEAMS {
        let parent = (t % 5 != 0).then(|| format!("team{}", t - t % 5));
        cat.add_team(&admin, &format!("team{t}"), parent.as_deref())?;
    }
    // Every top-level team works on every top-level portal (and so on the
    // subportals), as the catalog's attribution checks require.
    for t in (0..TEAMS).step_by(5) {
        for p in 0..PORTALS {
            cat.assign_team_to_portal(&admin, &format!("team{t}"), &format!("portal{p}"))?;
        }
    }
    cat.add_manager(&admin, "tm", Role::TeamManager, pw, &["team0"])?;
    for r in 0..REPS {
        cat.add_representative(
            &admin,
            &format!("rep{r}"),
            &format!("team{}", r % TEAMS),
            None,
            false,
        )?;
    }
    let mut batch = Vec::new();
    let span = 89 * DAY;
    for i in 0..n {
        let r = (i * 7919) % REPS;
        let p = (i * 31) % (2 * PORTALS);
        let portal = if p % 2 == 0 {
            format!("portal{}", p / 2)
        } else {
            format!("portal{}-sub", p / 2)
        };
        let start = now - span + (i as i64 * (span / n.max(1) as i64));
        batch.push(NewSession {
            id: format!("S{i:08}"),
            portal,
            team: format!("team{}", r % TEAMS),
            representative: format!("rep{r}"),
            customer: format!("customer {}", i % 997),
            start_unix_micros: start,
            end_unix_micros: start + 900_000_000,
            rating: Some((i % 5) as i64 + 1),
            tracks: vec!["video".into(), "chat".into(), "diagnostics".into()],
        });
        if batch.len() == 50_000 {
            cat.import_metadata(&admin, &batch)?;
            batch.clear();
        }
    }
    cat.import_metadata(&admin, &batch)?;
    Ok(cat)
}
