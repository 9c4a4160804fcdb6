//! The rights check used by every path of the catalog.

use crate::model::{Action, Actor, Role, SessionInfo};

/// Why an action was refused. The reason never reveals details of a session
/// the actor may not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The reason, lower case.
    pub reason: &'static str,
}

/// The reason given for sessions outside the actor's reach: the same text as
/// for an unknown session id, so existence is not revealed.
pub const NOT_VISIBLE: &str = "no such session or not permitted";

/// May `actor` do `action` on `session`?
///
/// - company managers: every session, every action;
/// - team managers: sessions whose team is one they manage or a subteam of it;
/// - representatives: only their own sessions, and only with Management
///   Center access.
///
/// # Errors
/// [`Denied`] with the reason.
pub fn authorize(actor: &Actor, action: Action, session: &SessionInfo) -> Result<(), Denied> {
    // Every action is governed by the same visibility rule today; the action
    // is part of the signature so a per-action rule has one place to go.
    let _ = action;
    match actor.role {
        Role::CompanyManager => Ok(()),
        Role::TeamManager => {
            if actor.managed_teams.contains(&session.team_id) {
                Ok(())
            } else {
                Err(Denied {
                    reason: NOT_VISIBLE,
                })
            }
        }
        Role::Representative => {
            if !actor.mc_access {
                Err(Denied {
                    reason: "no Management Center access",
                })
            } else if session.rep_id == actor.id {
                Ok(())
            } else {
                Err(Denied {
                    reason: NOT_VISIBLE,
                })
            }
        }
    }
}

/// May `actor` search at all? (Representatives need Management Center access.)
///
/// # Errors
/// [`Denied`] with the reason.
pub fn authorize_search(actor: &Actor) -> Result<(), Denied> {
    if actor.role == Role::Representative && !actor.mc_access {
        return Err(Denied {
            reason: "no Management Center access",
        });
    }
    Ok(())
}
