//! The audit log: every attempt, allowed or refused, with its subject and
//! what was done; every field bounded.

use rusqlite::params;

use crate::model::{Actor, AuditEntry, AuditQuery};
use crate::names::bounded;
use crate::{Catalog, CatalogError};

/// Longest actor name or session id stored in an entry, in characters.
const MAX_NAME: usize = 200;
/// Longest outcome or detail stored in an entry, in characters.
const MAX_TEXT: usize = 1000;
/// Most entries one [`Catalog::audit_log`] call returns.
pub const MAX_AUDIT_ENTRIES: u32 = 10_000;

/// The outcome an error is logged with: `refused: …` for refusals (rights,
/// credentials, throttling, passphrases), `failed: …` for everything else.
pub(crate) fn outcome_of(e: &CatalogError) -> String {
    let refused = matches!(
        e,
        CatalogError::Denied { .. }
            | CatalogError::BadCredentials(_)
            | CatalogError::BadToken
            | CatalogError::Throttled { .. }
            | CatalogError::WrongPassphrase { .. }
            | CatalogError::WrongEarlierPassphrase { .. }
            | CatalogError::PassphraseRequired { .. }
            | CatalogError::Expired { .. }
    );
    format!("{}: {e}", if refused { "refused" } else { "failed" })
}

impl Catalog {
    /// Writes one entry; every field is bounded and stripped of control
    /// characters.
    pub(crate) fn audit_as(
        &self,
        actor: &str,
        action: &str,
        session: Option<&str>,
        outcome: &str,
        detail: &str,
    ) -> Result<(), CatalogError> {
        self.conn.execute(
            "INSERT INTO audit (at_us, actor, action, session_id, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                self.now(),
                bounded(actor, MAX_NAME),
                bounded(action, MAX_NAME),
                session.map(|s| bounded(s, MAX_NAME)),
                bounded(outcome, MAX_TEXT),
                bounded(detail, MAX_TEXT)
            ],
        )?;
        Ok(())
    }

    /// Logs a refusal or failure that is already being returned: a catalog
    /// that can't be written (opened read-only) can't log it, and the
    /// caller gets the original error either way.
    pub(crate) fn audit_best_effort(
        &self,
        actor: &str,
        action: &str,
        session: Option<&str>,
        outcome: &str,
        detail: &str,
    ) {
        if !self.is_read_only() {
            let _ = self.audit_as(actor, action, session, outcome, detail);
        }
    }

    /// Audit entries matching `q`, newest first (company managers only;
    /// reading the log is itself logged).
    ///
    /// # Errors
    /// Denied; [`CatalogError::Invalid`] for a limit above
    /// [`MAX_AUDIT_ENTRIES`] or a range that ends before it begins; database
    /// errors.
    pub fn audit_log(
        &self,
        actor: &Actor,
        q: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, CatalogError> {
        let r = self.audit_log_inner(actor, q);
        if let Err(e) = &r {
            self.audit_best_effort(&actor.name, "read-audit", None, &outcome_of(e), "");
        }
        r
    }

    fn audit_log_inner(
        &self,
        actor: &Actor,
        q: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, CatalogError> {
        self.require_company(actor, "read audit log")?;
        let limit = match q.limit {
            0 => 50,
            n if n > MAX_AUDIT_ENTRIES => {
                return Err(CatalogError::Invalid(format!(
                    "audit limit {n} is larger than {MAX_AUDIT_ENTRIES}"
                )))
            }
            n => n,
        };
        if let (Some(f), Some(t)) = (q.from_unix_micros, q.to_unix_micros) {
            if t < f {
                return Err(CatalogError::Invalid(
                    "audit date range ends before it begins".into(),
                ));
            }
        }
        let mut wh = vec!["1"];
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(a) = &q.actor {
            wh.push("actor = ?");
            args.push(crate::names::lookup_form(a).into());
        }
        if let Some(s) = &q.session_id {
            wh.push("session_id = ?");
            args.push(s.clone().into());
        }
        if let Some(f) = q.from_unix_micros {
            wh.push("at_us >= ?");
            args.push(f.into());
        }
        if let Some(t) = q.to_unix_micros {
            wh.push("at_us < ?");
            args.push(t.into());
        }
        args.push(i64::from(limit).into());
        let sql = format!(
            "SELECT at_us, actor, action, session_id, outcome, detail FROM audit WHERE {} ORDER BY id DESC LIMIT ?",
            wh.join(" AND ")
        );
        let mut st = self.conn.prepare(&sql)?;
        let v = st
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok(AuditEntry {
                    at_unix_micros: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    session_id: r.get(3)?,
                    outcome: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(v)
    }
}
