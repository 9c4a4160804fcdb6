//! Chat and diagnostics, served straight from the recording (no pixels
//! needed), behind the same rights check, audit and unlock as a replay.

use g2a_core::Timestamp;
use g2a_format::{Record, SenderRole, SessionSet};

use crate::crypto::Passphrase;
use crate::model::{Action, Actor};
use crate::{Catalog, CatalogError, Grant};

/// One chat message of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// When it was sent, on the session timeline.
    pub ts: Timestamp,
    /// `representative`, `customer`, `system` or `other`.
    pub role: &'static str,
    /// Sender's display name.
    pub sender: String,
    /// Message text.
    pub text: String,
}

/// One diagnostics document of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticDoc {
    /// When it was collected, on the session timeline.
    pub ts: Timestamp,
    /// Document name.
    pub name: String,
    /// Document content.
    pub data: Vec<u8>,
}

fn role_name(r: SenderRole) -> &'static str {
    match r {
        SenderRole::Representative => "representative",
        SenderRole::Customer => "customer",
        SenderRole::System => "system",
        _ => "other",
    }
}

impl Catalog {
    /// The chat transcript of a session, in time order, if `actor` may read
    /// it (audited as `chat`).
    ///
    /// # Errors
    /// As [`Catalog::open_for`], plus [`CatalogError::Format`] when the
    /// recording cannot be read.
    pub fn read_chat(
        &self,
        actor: &Actor,
        session_id: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<Vec<ChatLine>, CatalogError> {
        self.read_chat_with(actor, session_id, || Ok(passphrase))
    }

    /// [`Catalog::read_chat`] asking for the passphrase only when the
    /// recording is encrypted (see [`Catalog::open_with`]).
    ///
    /// # Errors
    /// As [`Catalog::read_chat`].
    pub fn read_chat_with<P: std::borrow::Borrow<Passphrase>>(
        &self,
        actor: &Actor,
        session_id: &str,
        passphrase: impl FnOnce() -> Result<Option<P>, CatalogError>,
    ) -> Result<Vec<ChatLine>, CatalogError> {
        let g = self.open_with(actor, session_id, Action::Chat, passphrase)?;
        let mut out = Vec::new();
        for_each_record(&g, |rec| {
            if let Record::Chat {
                ts,
                role,
                sender,
                text,
            } = rec
            {
                out.push(ChatLine {
                    ts,
                    role: role_name(role),
                    sender: sender.to_owned(),
                    text: text.to_owned(),
                });
            }
        })?;
        Ok(out)
    }

    /// The diagnostics documents of a session, in time order, if `actor`
    /// may read them (audited as `diagnostics`).
    ///
    /// # Errors
    /// As [`Catalog::read_chat`].
    pub fn read_diagnostics(
        &self,
        actor: &Actor,
        session_id: &str,
        passphrase: Option<&Passphrase>,
    ) -> Result<Vec<DiagnosticDoc>, CatalogError> {
        self.read_diagnostics_with(actor, session_id, || Ok(passphrase))
    }

    /// [`Catalog::read_diagnostics`] asking for the passphrase only when
    /// the recording is encrypted (see [`Catalog::open_with`]).
    ///
    /// # Errors
    /// As [`Catalog::read_chat`].
    pub fn read_diagnostics_with<P: std::borrow::Borrow<Passphrase>>(
        &self,
        actor: &Actor,
        session_id: &str,
        passphrase: impl FnOnce() -> Result<Option<P>, CatalogError>,
    ) -> Result<Vec<DiagnosticDoc>, CatalogError> {
        let g = self.open_with(actor, session_id, Action::Diagnostics, passphrase)?;
        let mut out = Vec::new();
        for_each_record(&g, |rec| {
            if let Record::Diagnostic { ts, name, data, .. } = rec {
                out.push(DiagnosticDoc {
                    ts,
                    name: name.to_owned(),
                    data: data.to_vec(),
                });
            }
        })?;
        Ok(out)
    }
}

/// Opens the granted recording (with its cipher, if any) and visits every
/// record in time order.
pub(crate) fn for_each_record(
    g: &Grant,
    mut f: impl FnMut(Record<'_>),
) -> Result<(), CatalogError> {
    let first = g
        .files
        .first()
        .ok_or_else(|| CatalogError::Corrupt(format!("session {} has no files", g.session.id)))?;
    let set = open_set(first)?;
    let cipher = g
        .cipher
        .as_ref()
        .map(|c| c as &dyn g2a_format::PayloadCipher);
    let mut buf = Vec::new();
    for rec in set.merged() {
        let rec = g2a_format::unseal(rec, cipher, &mut buf)
            .map_err(|e| CatalogError::format(first, e))?;
        f(rec);
    }
    Ok(())
}

fn open_set(first: &std::path::Path) -> Result<SessionSet, CatalogError> {
    SessionSet::open(first).map_err(|e| CatalogError::format(first, e))
}
