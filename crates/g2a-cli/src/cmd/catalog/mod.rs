//! `g2a catalog …`: the session catalog and access control.
//!
//! Secrets never come from the command line (see [`secrets`]).

mod manage;
mod secrets;
mod show;
mod view;

use std::path::PathBuf;

use anyhow::Result;

pub(crate) use secrets::{Ctx, NewPasswordArgs, PassphraseArgs};
pub(crate) use show::parse_date;

/// The catalog subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CatalogCmd {
    /// Create a catalog with its first company manager (--as names them).
    Create {
        #[command(flatten)]
        ctx: Ctx,
        /// Days sessions are kept.
        #[arg(long, default_value_t = 90)]
        retention_days: u32,
        /// Cheap password and passphrase key derivation, for automated
        /// tests only: never for a real catalog.
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Change how many days sessions are kept (company managers).
    SetRetention {
        #[command(flatten)]
        ctx: Ctx,
        /// Days.
        days: u32,
    },
    /// Add a portal, or a subportal of --parent.
    AddPortal {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal name.
        name: String,
        /// Parent portal.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Add a team, or a subteam of --parent.
    AddTeam {
        #[command(flatten)]
        ctx: Ctx,
        /// Team name.
        name: String,
        /// Parent team.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Assign a team to a portal.
    AssignTeam {
        #[command(flatten)]
        ctx: Ctx,
        /// Team name.
        team: String,
        /// Portal name.
        portal: String,
    },
    /// Add a company or team manager (password from --new-password-file or G2A_NEW_PASSWORD).
    AddManager {
        #[command(flatten)]
        ctx: Ctx,
        /// User name.
        name: String,
        /// `company-manager` or `team-manager`.
        #[arg(long, default_value = "team-manager")]
        role: String,
        /// Teams managed (repeatable).
        #[arg(long = "team")]
        teams: Vec<String>,
        #[command(flatten)]
        pw: NewPasswordArgs,
    },
    /// Add a representative to a team.
    AddRep {
        #[command(flatten)]
        ctx: Ctx,
        /// User name.
        name: String,
        /// Team.
        #[arg(long)]
        team: String,
        /// Grant Management Center access (needs a password).
        #[arg(long)]
        mc_access: bool,
        #[command(flatten)]
        pw: NewPasswordArgs,
    },
    /// Move a representative to another team.
    MoveRep {
        #[command(flatten)]
        ctx: Ctx,
        /// Representative.
        name: String,
        /// New team.
        team: String,
    },
    /// Grant (or with --revoke, revoke) a representative's Management Center
    /// access; a representative without a password gets the one given by
    /// --new-password-file or G2A_NEW_PASSWORD.
    GrantMc {
        #[command(flatten)]
        ctx: Ctx,
        /// Representative.
        name: String,
        /// Revoke instead of grant.
        #[arg(long)]
        revoke: bool,
        #[command(flatten)]
        pw: NewPasswordArgs,
    },
    /// Import recordings (first files; continuation files are found next to
    /// them). Every file is tried; the exit status is non-zero when any was
    /// refused.
    Import {
        #[command(flatten)]
        ctx: Ctx,
        /// `.g2a` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Import even when the header's representative is not in its team
        /// or the team is not assigned to its portal (audited).
        #[arg(long)]
        accept_attribution: bool,
        /// Import a recording in clear into a portal that has a session
        /// replay passphrase (audited).
        #[arg(long)]
        accept_unencrypted: bool,
    },
    /// Search sessions (newest first).
    Search {
        #[command(flatten)]
        ctx: Ctx,
        /// Exact session id.
        #[arg(long)]
        id: Option<String>,
        /// Portal (with subportals).
        #[arg(long)]
        portal: Option<String>,
        /// Team (with subteams).
        #[arg(long)]
        team: Option<String>,
        /// Representative.
        #[arg(long)]
        rep: Option<String>,
        /// Range start, YYYY-MM-DD (UTC).
        #[arg(long)]
        from: Option<String>,
        /// Range end (exclusive), YYYY-MM-DD (UTC).
        #[arg(long)]
        to: Option<String>,
        /// Page number from 0.
        #[arg(long, default_value_t = 0)]
        page: u32,
        /// Results per page.
        #[arg(long, default_value_t = 50)]
        per_page: u32,
        /// Print JSON (with durations) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete the recordings and data of sessions older than the retention period.
    Purge {
        #[command(flatten)]
        ctx: Ctx,
    },
    /// Set a portal's session replay passphrase (cannot be reset if forgotten!).
    SetPassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Change a portal's passphrase (current from --passphrase-file/G2A_PASSPHRASE,
    /// new from --new-passphrase-file/G2A_NEW_PASSPHRASE).
    ChangePassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
        /// File holding the new passphrase.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Remove a portal's passphrase. Recordings made under it still need it.
    RemovePassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Print the public key a recorder encrypts a portal's recordings to
    /// (exit status 1 when the portal has no passphrase).
    Recipient {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
    },
    /// Save the frame on screen at a time of a session as PNG (needs the
    /// right to replay it, and the passphrase of an encrypted recording).
    Frame {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        /// Time from the session start: seconds (`75.5`), `MM:SS` or `HH:MM:SS.mmm`.
        #[arg(long, value_parser = super::frame::parse_time)]
        at: g2a_core::Timestamp,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Leave out the cursor.
        #[arg(long)]
        no_cursor: bool,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Export a session to MP4 or WMV (needs the right to export it).
    Export {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        flags: super::export::Flags,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Replay a session in the replay window (needs the right to replay it).
    /// An encrypted recording takes the passphrase from --passphrase-file or
    /// G2A_PASSPHRASE, or asks for it in the window.
    Play {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        view: super::play::View,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Print a session's chat transcript.
    Chat {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// List a session's diagnostics documents, or extract one.
    Diag {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        /// Extract the document of this name (the last one, if several share it).
        #[arg(long, requires = "output")]
        name: Option<String>,
        /// Where to write the extracted document (`-` for standard output).
        #[arg(short, long, requires = "name")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Show audit log entries, newest first.
    Audit {
        #[command(flatten)]
        ctx: Ctx,
        /// Number of entries (at most 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only entries of this acting user.
        #[arg(long = "user", value_name = "USER")]
        by_user: Option<String>,
        /// Only entries about this session.
        #[arg(long)]
        session: Option<String>,
        /// From, YYYY-MM-DD[THH:MM:SS] (UTC).
        #[arg(long)]
        from: Option<String>,
        /// To (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the users you may see.
    Users {
        #[command(flatten)]
        ctx: Ctx,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the teams you may see, with their portals, managers and representatives.
    Teams {
        #[command(flatten)]
        ctx: Ctx,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the portals, with their teams and passphrase state.
    Portals {
        #[command(flatten)]
        ctx: Ctx,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Rename a user.
    RenameUser {
        #[command(flatten)]
        ctx: Ctx,
        /// Current name.
        name: String,
        /// New name.
        new_name: String,
    },
    /// Delete a user (a user whom sessions name is deactivated instead).
    DeleteUser {
        #[command(flatten)]
        ctx: Ctx,
        /// User.
        name: String,
    },
    /// Set (reset) another user's password (from --new-password-file or G2A_NEW_PASSWORD).
    SetPassword {
        #[command(flatten)]
        ctx: Ctx,
        /// User.
        name: String,
        #[command(flatten)]
        pw: NewPasswordArgs,
    },
    /// Change your own password (the new one from --new-password-file or G2A_NEW_PASSWORD).
    Passwd {
        #[command(flatten)]
        ctx: Ctx,
        #[command(flatten)]
        pw: NewPasswordArgs,
    },
    /// Set exactly which teams a team manager manages.
    SetManagerTeams {
        #[command(flatten)]
        ctx: Ctx,
        /// Team manager.
        name: String,
        /// Teams (repeatable; none leaves the manager without teams).
        #[arg(long = "team")]
        teams: Vec<String>,
    },
    /// Take a team off a portal.
    UnassignTeam {
        #[command(flatten)]
        ctx: Ctx,
        /// Team name.
        team: String,
        /// Portal name.
        portal: String,
    },
    /// Delete one session and its recording on request (privacy laws).
    DeleteSession {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
    },
    /// Correct a session's portal, team or representative.
    SetAttribution {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        /// New portal (or subportal).
        #[arg(long)]
        portal: Option<String>,
        /// New team.
        #[arg(long)]
        team: Option<String>,
        /// New representative.
        #[arg(long)]
        rep: Option<String>,
        /// Accept a representative outside the team, or a team not on the portal (audited).
        #[arg(long)]
        force: bool,
    },
    /// Issue a recording client a token to upload recordings of a portal
    /// (and its subportals) to `g2a serve`; the token is written to
    /// --token-file (created, mode 0600) and shown nowhere else.
    AddRecorder {
        #[command(flatten)]
        ctx: Ctx,
        /// The recorder's name (a machine or a site).
        name: String,
        /// The portal it uploads to.
        #[arg(long)]
        portal: String,
        /// Where to write the token (a new file).
        #[arg(long)]
        token_file: std::path::PathBuf,
    },
    /// Revoke a recorder's token: its uploads stop being accepted.
    RevokeRecorder {
        #[command(flatten)]
        ctx: Ctx,
        /// The recorder's name.
        name: String,
    },
    /// List the recorders and their tokens' state (company managers).
    Recorders {
        #[command(flatten)]
        ctx: Ctx,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Allow (yes) or forbid (no) team managers to manage their teams' representatives.
    SetPolicy {
        #[command(flatten)]
        ctx: Ctx,
        /// `yes` or `no`.
        #[arg(long, value_parser = ["yes", "no"])]
        team_managers_manage_reps: String,
    },
}

/// Runs a catalog subcommand.
pub(crate) fn run(cmd: CatalogCmd) -> Result<()> {
    match cmd {
        c @ (CatalogCmd::Frame { .. }
        | CatalogCmd::Export { .. }
        | CatalogCmd::Play { .. }
        | CatalogCmd::Chat { .. }
        | CatalogCmd::Diag { .. }) => view::run(c),
        c => manage::run(c),
    }
}
