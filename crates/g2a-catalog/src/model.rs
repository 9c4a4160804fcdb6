//! Plain data types of the catalog: roles, actors, actions, sessions, queries.

use std::fmt;
use std::path::PathBuf;

/// What a user is in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// May see, replay and export every recording, and manage the organisation.
    CompanyManager,
    /// Manages one or more teams (and their subteams).
    TeamManager,
    /// A support representative, in one team at a time.
    Representative,
}

impl Role {
    /// The name stored in the database and accepted on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::CompanyManager => "company-manager",
            Role::TeamManager => "team-manager",
            Role::Representative => "representative",
        }
    }

    /// Parses [`Role::name`].
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Role::CompanyManager,
            Role::TeamManager,
            Role::Representative,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something a user asks to do with a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the session in search results.
    Search,
    /// Open the recording for replay.
    Replay,
    /// Extract one frame.
    Frame,
    /// Export the recording to a video file.
    Export,
    /// Read the chat transcript.
    Chat,
    /// Read the diagnostics records.
    Diagnostics,
}

impl Action {
    /// Every action, for tests and help texts.
    pub const ALL: [Action; 6] = [
        Action::Search,
        Action::Replay,
        Action::Frame,
        Action::Export,
        Action::Chat,
        Action::Diagnostics,
    ];

    /// Lower-case name, as written to the audit log.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Action::Search => "search",
            Action::Replay => "replay",
            Action::Frame => "frame",
            Action::Export => "export",
            Action::Chat => "chat",
            Action::Diagnostics => "diagnostics",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A logged-in user, as returned by [`crate::Catalog::login`]. Holds what the
/// rights check needs; built only by the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) mc_access: bool,
    /// The representative's team.
    pub(crate) team: Option<i64>,
    /// For team managers: the managed teams and all their subteams.
    pub(crate) managed_teams: Vec<i64>,
}

impl Actor {
    /// The user's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }
}

/// One file of a recording's file set (the first file and its continuations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingFile {
    /// 0 for the first file, then 1, 2, … for continuation files.
    pub seq: u32,
    /// Where the file is stored in the catalog directory.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// A session as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The support session's id.
    pub id: String,
    /// The portal (top level) the session ran on.
    pub portal: String,
    /// The subportal, when the session ran on one.
    pub subportal: Option<String>,
    /// The representative's team at the time of the session.
    pub team: String,
    /// The representative.
    pub representative: String,
    /// The customer label.
    pub customer: String,
    /// Start, microseconds since the Unix epoch.
    pub start_unix_micros: i64,
    /// End, microseconds since the Unix epoch.
    pub end_unix_micros: i64,
    /// Customer rating, if any.
    pub rating: Option<i64>,
    /// Which tracks the recording has (e.g. `video`, `chat`, `diagnostics`).
    pub tracks: Vec<String>,
    /// True when the recording is encrypted at rest.
    pub encrypted: bool,
    /// The recording's files (empty after a purge).
    pub files: Vec<RecordingFile>,
    /// True while the recording is still arriving (uploaded as it is
    /// made): its last file grows, and its end is not known yet.
    pub live: bool,
    pub(crate) team_id: i64,
    pub(crate) rep_id: i64,
    pub(crate) purged: bool,
    pub(crate) key_id: Option<i64>,
    pub(crate) portal_id: i64,
}

/// Metadata of a session to add to the catalog without a recording file
/// (used by [`crate::Catalog::import_metadata`], benchmarks and tests).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewSession {
    /// The support session's id.
    pub id: String,
    /// Portal or subportal name.
    pub portal: String,
    /// Team name.
    pub team: String,
    /// Representative's user name.
    pub representative: String,
    /// Customer label.
    pub customer: String,
    /// Start, microseconds since the Unix epoch.
    pub start_unix_micros: i64,
    /// End, microseconds since the Unix epoch.
    pub end_unix_micros: i64,
    /// Customer rating.
    pub rating: Option<i64>,
    /// Track names.
    pub tracks: Vec<String>,
}

impl SessionInfo {
    /// The session's length in microseconds.
    #[must_use]
    pub fn duration_micros(&self) -> i64 {
        self.end_unix_micros.saturating_sub(self.start_unix_micros)
    }
}

/// A search. Either `session_id`, or any of the filters plus a date range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Exact session id (other filters are ignored when set).
    pub session_id: Option<String>,
    /// Portal name; includes its subportals.
    pub portal: Option<String>,
    /// Team name; includes its subteams.
    pub team: Option<String>,
    /// Representative's user name.
    pub representative: Option<String>,
    /// Range start (inclusive), microseconds since the Unix epoch; defaults
    /// to the start of the retention window.
    pub from_unix_micros: Option<i64>,
    /// Range end (exclusive); defaults to no limit.
    pub to_unix_micros: Option<i64>,
    /// Zero-based page number.
    pub page: u32,
    /// Results per page (1..=1000; 0 means 50).
    pub per_page: u32,
}

impl SearchQuery {
    /// A query for one session id.
    #[must_use]
    pub fn by_id(id: impl Into<String>) -> Self {
        SearchQuery {
            session_id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Sets the portal filter.
    #[must_use]
    pub fn portal(mut self, v: impl Into<String>) -> Self {
        self.portal = Some(v.into());
        self
    }

    /// Sets the team filter.
    #[must_use]
    pub fn team(mut self, v: impl Into<String>) -> Self {
        self.team = Some(v.into());
        self
    }

    /// Sets the representative filter.
    #[must_use]
    pub fn representative(mut self, v: impl Into<String>) -> Self {
        self.representative = Some(v.into());
        self
    }

    /// Sets the date range `[from, to)`.
    #[must_use]
    pub fn range(mut self, from_unix_micros: i64, to_unix_micros: Option<i64>) -> Self {
        self.from_unix_micros = Some(from_unix_micros);
        self.to_unix_micros = to_unix_micros;
        self
    }

    /// Sets the page and page size.
    #[must_use]
    pub fn page(mut self, page: u32, per_page: u32) -> Self {
        self.page = page;
        self.per_page = per_page;
        self
    }
}

/// One page of search results, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The sessions on this page (without their file lists).
    pub sessions: Vec<SessionInfo>,
    /// True when a further page exists.
    pub has_more: bool,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When, microseconds since the Unix epoch.
    pub at_unix_micros: i64,
    /// Who.
    pub actor: String,
    /// What (an [`Action`] name, or a management operation).
    pub action: String,
    /// Which session, if any.
    pub session_id: Option<String>,
    /// `allowed`, `refused: …` or `failed: …`.
    pub outcome: String,
    /// What was done or asked, e.g. `portal acme-eu (subportal of acme)`.
    pub detail: String,
}

/// Which audit entries [`crate::Catalog::audit_log`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuditQuery {
    /// Only entries of this acting user.
    pub actor: Option<String>,
    /// Only entries about this session.
    pub session_id: Option<String>,
    /// From (inclusive), microseconds since the Unix epoch.
    pub from_unix_micros: Option<i64>,
    /// To (exclusive).
    pub to_unix_micros: Option<i64>,
    /// At most this many entries (0 means 50; at most 10 000).
    pub limit: u32,
}

impl AuditQuery {
    /// The newest `limit` entries.
    #[must_use]
    pub fn newest(limit: u32) -> Self {
        AuditQuery {
            limit,
            ..Self::default()
        }
    }

    /// Only entries of `actor`.
    #[must_use]
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Only entries about `session`.
    #[must_use]
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session_id = Some(session.into());
        self
    }

    /// Only entries in `[from, to)`.
    #[must_use]
    pub fn range(mut self, from: Option<i64>, to: Option<i64>) -> Self {
        self.from_unix_micros = from;
        self.to_unix_micros = to;
        self
    }
}

/// A user as listed by [`crate::Catalog::list_users`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// A representative's team.
    pub team: Option<String>,
    /// A team manager's teams (as assigned, without their subteams).
    pub managed_teams: Vec<String>,
    /// Whether the user may use the Management Center.
    pub mc_access: bool,
    /// Whether the user has a password (may log in).
    pub has_password: bool,
    /// A deactivated user: kept because sessions name them, can't log in.
    pub deactivated: bool,
}

/// A team as listed by [`crate::Catalog::list_teams`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamInfo {
    /// Team name.
    pub name: String,
    /// Parent team, for a subteam.
    pub parent: Option<String>,
    /// Portals the team is assigned to.
    pub portals: Vec<String>,
    /// Team managers of the team (assigned directly).
    pub managers: Vec<String>,
    /// Representatives in the team now.
    pub representatives: Vec<String>,
}

/// A portal as listed by [`crate::Catalog::list_portals`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalInfo {
    /// Portal name.
    pub name: String,
    /// Parent portal, for a subportal.
    pub parent: Option<String>,
    /// Teams assigned to it.
    pub teams: Vec<String>,
    /// `own` (it has a passphrase), `inherited` (a parent has one) or `none`.
    pub passphrase: &'static str,
}

/// How [`crate::Catalog::import_recording`] treats a recording whose header
/// doesn't fit the catalog. Both overrides are a company manager's decision
/// and are written to the audit log with what they overrode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Import even when the representative isn't in the header's team, or
    /// the team isn't assigned to the portal.
    pub accept_attribution: bool,
    /// Import a recording in clear into a portal that has a passphrase.
    pub accept_unencrypted: bool,
}

impl ImportOptions {
    /// Sets [`ImportOptions::accept_attribution`].
    #[must_use]
    pub fn accept_attribution(mut self, yes: bool) -> Self {
        self.accept_attribution = yes;
        self
    }

    /// Sets [`ImportOptions::accept_unencrypted`].
    #[must_use]
    pub fn accept_unencrypted(mut self, yes: bool) -> Self {
        self.accept_unencrypted = yes;
        self
    }
}

/// What [`crate::Catalog::import_recording`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The session as now in the catalog.
    pub session: SessionInfo,
    /// Warnings: damaged byte ranges, a missing trailer, overrides used.
    pub warnings: Vec<String>,
}

/// Microseconds since the Unix epoch as a UTC date, `YYYY-MM-DD`
/// (H. Hinnant's civil-from-days algorithm).
pub(crate) fn utc_date(us: i64) -> String {
    let days = us.div_euclid(86_400_000_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
