//! Options shared by the commands that write recordings.

use std::path::Path;

use anyhow::bail;
use g2a::{EncoderConfig, KeyframePolicy, RecorderOptions};
use g2a_format::{CapPolicy, SessionHeader, WriterOptions, DEFAULT_SIZE_CAP};

/// Session metadata and recording options.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RecordingOptions {
    /// Session id (default: the output file's name without extension).
    #[arg(long)]
    session_id: Option<String>,
    /// Portal the session belongs to.
    #[arg(long, default_value = "")]
    portal: String,
    /// Team of the representative.
    #[arg(long, default_value = "")]
    team: String,
    /// Representative's name.
    #[arg(long, default_value = "")]
    representative: String,
    /// Customer label.
    #[arg(long, default_value = "")]
    customer: String,
    /// Session start (UTC): YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or @SECONDS;
    /// default: now.
    #[arg(long, value_name = "TIME")]
    started_at: Option<String>,
    /// The machine the recording is made on.
    #[arg(long, value_enum, default_value_t = SideChoice::Representative)]
    side: SideChoice,
    /// Extra metadata, KEY=VALUE (repeatable).
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    meta: Vec<String>,
    /// Size cap per file: bytes with an optional K/M/G suffix, or `none`.
    #[arg(long, default_value = "200M")]
    cap: String,
    /// On reaching the cap: continue in a numbered continuation file, or stop.
    #[arg(long, value_enum, default_value_t = CapChoice::Continue)]
    cap_policy: CapChoice,
    /// Start a keyframe once this many bytes of deltas follow the last one
    /// (bounds the cost of a seek).
    #[arg(long, default_value_t = 1 << 20)]
    keyframe_bytes: u64,
    /// zstd level of the screen codec (1-19; higher levels are slower and
    /// rarely smaller on screen content).
    #[arg(long, default_value_t = 1)]
    level: i32,
    /// Encrypt the recording to a portal's public key (`age1…`, printed by
    /// `g2a catalog recipient`); replaying it then needs the portal's
    /// session replay passphrase. The recorder never sees the passphrase.
    #[arg(long, value_name = "RECIPIENT")]
    encrypt_to: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum SideChoice {
    Representative,
    Customer,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum CapChoice {
    Continue,
    Stop,
}

/// Parses `200M`, `1G`, `65536`, `none`.
pub(crate) fn parse_bytes(s: &str) -> anyhow::Result<Option<u64>> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1_000),
        Some((i, 'm' | 'M')) => (&t[..i], 1_000_000),
        Some((i, 'g' | 'G')) => (&t[..i], 1_000_000_000),
        _ => (t, 1),
    };
    match num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(v) => Ok(Some(v)),
        None => bail!("'{s}' is not a size: expected bytes like 200M, 1G, 65536, or none"),
    }
}

impl RecordingOptions {
    pub(crate) fn session_id(&self, out: &Path) -> String {
        self.session_id.clone().unwrap_or_else(|| {
            out.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "session".into())
        })
    }

    pub(crate) fn header(&self, h: SessionHeader) -> anyhow::Result<SessionHeader> {
        let now = match &self.started_at {
            Some(t) => super::catalog::parse_date(t)?,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0),
        };
        let mut h = h
            .with_portal(&self.portal)
            .with_team(&self.team)
            .with_representative(&self.representative)
            .with_customer(&self.customer)
            .with_start_time_unix_micros(now)
            .with_side(match self.side {
                SideChoice::Representative => g2a_format::RecordingSide::Representative,
                SideChoice::Customer => g2a_format::RecordingSide::Customer,
            })
            .with_recorder("g2a", env!("CARGO_PKG_VERSION"));
        for kv in &self.meta {
            let Some((k, v)) = kv.split_once('=') else {
                bail!("--meta '{kv}': expected KEY=VALUE");
            };
            h = h.with_metadata(k, v);
        }
        Ok(h)
    }

    pub(crate) fn recorder_options(&self) -> anyhow::Result<RecorderOptions> {
        if !(1..=19).contains(&self.level) {
            bail!("--level {}: expected 1 to 19", self.level);
        }
        let cap = parse_bytes(&self.cap)?;
        if cap == Some(0) {
            bail!("--cap 0: expected a positive size or none (the default is {DEFAULT_SIZE_CAP})");
        }
        let writer = WriterOptions::default()
            .size_cap(cap)
            .cap_policy(match self.cap_policy {
                CapChoice::Continue => CapPolicy::Continue,
                CapChoice::Stop => CapPolicy::Stop,
            });
        let mut policy = KeyframePolicy::default();
        policy.max_delta_bytes = self.keyframe_bytes.max(1);
        let encoder = EncoderConfig::default().keyframes(policy).level(self.level);
        let opts = RecorderOptions::default().writer(writer).encoder(encoder);
        Ok(match &self.encrypt_to {
            None => opts,
            Some(text) => {
                let recipient = g2a_catalog::PortalRecipient::parse(text)?;
                let (cipher, key_block) = g2a_catalog::RecordCipher::new_for_recording(&recipient)?;
                let info = g2a_format::EncryptionInfo {
                    scheme: g2a_catalog::SCHEME.to_owned(),
                    key_block,
                };
                opts.encrypt(cipher.shared(), info)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_sizes_parse() {
        assert_eq!(super::parse_bytes("200M").unwrap(), Some(200_000_000));
        assert_eq!(super::parse_bytes("none").unwrap(), None);
        assert_eq!(super::parse_bytes("65536").unwrap(), Some(65_536));
        assert!(super::parse_bytes("lots").is_err());
        assert!(super::parse_bytes("99999999999999999999G").is_err());
    }
}
