//! How the catalog commands print: sessions (text and JSON), users, teams,
//! portals, audit entries; UTC dates.

use anyhow::{anyhow, Result};
use g2a_catalog::{AuditEntry, PortalInfo, RecorderInfo, SessionInfo, TeamInfo, UserInfo};
use serde_json::{json, Value};

use crate::cmd::shown;

/// A session as one line of text.
pub(crate) fn print_session(s: &SessionInfo) {
    println!(
        "{}  {}  {}  {}{}  team {}  rep {}  customer {:?}  rating {}  tracks {}{}",
        shown(&s.id),
        format_micros(s.start_unix_micros),
        format_duration(s.duration_micros()),
        shown(&s.portal),
        s.subportal
            .as_deref()
            .map(|p| format!("/{}", shown(p)))
            .unwrap_or_default(),
        shown(&s.team),
        shown(&s.representative),
        s.customer,
        s.rating
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into()),
        s.tracks.join(","),
        if s.encrypted { "  encrypted" } else { "" }
    );
}

/// A session as JSON.
pub(crate) fn session_json(s: &SessionInfo) -> Value {
    json!({
        "id": s.id,
        "portal": s.portal,
        "subportal": s.subportal,
        "team": s.team,
        "representative": s.representative,
        "customer": s.customer,
        "start_unix_micros": s.start_unix_micros,
        "start": format_micros(s.start_unix_micros),
        "end_unix_micros": s.end_unix_micros,
        "duration_micros": s.duration_micros(),
        "duration": format_duration(s.duration_micros()),
        "rating": s.rating,
        "tracks": s.tracks,
        "encrypted": s.encrypted,
        "live": s.live,
    })
}

/// A user as JSON.
pub(crate) fn user_json(u: &UserInfo) -> Value {
    json!({
        "name": u.name, "role": u.role.name(), "team": u.team, "managed_teams": u.managed_teams,
        "mc_access": u.mc_access, "has_password": u.has_password, "deactivated": u.deactivated,
    })
}

/// A user as one line of text.
pub(crate) fn print_user(u: &UserInfo) {
    let mut line = format!("{}  {}", shown(&u.name), u.role);
    if let Some(t) = &u.team {
        line.push_str(&format!("  team {}", shown(t)));
    }
    if !u.managed_teams.is_empty() {
        line.push_str(&format!("  manages {}", shown(&u.managed_teams.join(","))));
    }
    if u.mc_access {
        line.push_str("  mc-access");
    }
    if !u.has_password {
        line.push_str("  no-password");
    }
    if u.deactivated {
        line.push_str("  deactivated");
    }
    println!("{line}");
}

/// A team as JSON.
pub(crate) fn team_json(t: &TeamInfo) -> Value {
    json!({"name": t.name, "parent": t.parent, "portals": t.portals, "managers": t.managers, "representatives": t.representatives})
}

/// A team as one line of text.
pub(crate) fn print_team(t: &TeamInfo) {
    println!(
        "{}{}  portals [{}]  managers [{}]  representatives [{}]",
        shown(&t.name),
        t.parent
            .as_deref()
            .map(|p| format!(" (in {})", shown(p)))
            .unwrap_or_default(),
        shown(&t.portals.join(", ")),
        shown(&t.managers.join(", ")),
        shown(&t.representatives.join(", "))
    );
}

/// A portal as JSON.
pub(crate) fn portal_json(p: &PortalInfo) -> Value {
    json!({"name": p.name, "parent": p.parent, "teams": p.teams, "passphrase": p.passphrase})
}

/// A portal as one line of text.
pub(crate) fn print_portal(p: &PortalInfo) {
    println!(
        "{}{}  teams [{}]  passphrase {}",
        shown(&p.name),
        p.parent
            .as_deref()
            .map(|q| format!(" (in {})", shown(q)))
            .unwrap_or_default(),
        shown(&p.teams.join(", ")),
        p.passphrase
    );
}

/// A recorder as JSON.
pub(crate) fn recorder_json(r: &RecorderInfo) -> Value {
    json!({
        "name": r.name,
        "portal": r.portal,
        "created_by": r.created_by,
        "created": format_micros(r.created_unix_micros),
        "revoked": r.revoked_unix_micros.map(format_micros),
        "last_used": r.last_used_unix_micros.map(format_micros),
    })
}

/// A recorder as one line of text.
pub(crate) fn print_recorder(r: &RecorderInfo) {
    println!(
        "{}  portal {}  issued {} by {}  {}  last used {}",
        shown(&r.name),
        shown(&r.portal),
        format_micros(r.created_unix_micros),
        shown(&r.created_by),
        r.revoked_unix_micros
            .map_or("active".to_owned(), |t| format!(
                "revoked {}",
                format_micros(t)
            )),
        r.last_used_unix_micros
            .map_or("never".to_owned(), format_micros)
    );
}

/// An audit entry as JSON.
pub(crate) fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "at_unix_micros": e.at_unix_micros, "at": format_micros(e.at_unix_micros), "actor": e.actor,
        "action": e.action, "session_id": e.session_id, "outcome": e.outcome, "detail": e.detail,
    })
}

/// An audit entry as one line of text.
pub(crate) fn print_audit(e: &AuditEntry) {
    println!(
        "{} {} {} {} {}{}",
        format_micros(e.at_unix_micros),
        shown(&e.actor),
        shown(&e.action),
        shown(e.session_id.as_deref().unwrap_or("-")),
        shown(&e.outcome),
        if e.detail.is_empty() {
            String::new()
        } else {
            format!(" [{}]", shown(&e.detail))
        }
    );
}

/// A length in microseconds as `H:MM:SS`.
pub(crate) fn format_duration(us: i64) -> String {
    let s = us.max(0) / 1_000_000;
    format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// A UTC time to microseconds since the Unix epoch: `YYYY-MM-DD` (midnight),
/// `YYYY-MM-DDTHH:MM:SS` (an optional trailing `Z`), or `@SECONDS` since the
/// epoch.
pub(crate) fn parse_date(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || anyhow!("time {s:?} is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (UTC) or @SECONDS");
    if let Some(secs) = s.strip_prefix('@') {
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        return secs.checked_mul(1_000_000).ok_or_else(bad);
    }
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let num = |t: Option<&str>| -> Result<i64> { t.ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let mut it = date.splitn(3, '-');
    let (y, m, d) = (num(it.next())?, num(it.next())?, num(it.next())?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let mut it = t.splitn(3, ':');
        let (h, mi, se) = (num(it.next())?, num(it.next())?, num(it.next())?);
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..61).contains(&se) {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Ok(secs * 1_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
pub(crate) fn format_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_hours_minutes_seconds() {
        assert_eq!(format_duration(0), "0:00:00");
        assert_eq!(format_duration(600_000_000), "0:10:00");
        assert_eq!(format_duration(3_723_400_000), "1:02:03");
        assert_eq!(format_duration(-5), "0:00:00");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2026-01-01").unwrap(), 1_767_225_600_000_000);
        assert_eq!(format_micros(1_767_225_600_000_000), "2026-01-01 00:00:00");
        assert_eq!(
            format_micros(parse_date("2024-02-29").unwrap()),
            "2024-02-29 00:00:00"
        );
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
        assert_eq!(
            parse_date("2026-01-01T01:02:03Z").unwrap(),
            1_767_225_600_000_000 + 3_723_000_000
        );
        assert_eq!(parse_date("@1767225600").unwrap(), 1_767_225_600_000_000);
        assert!(parse_date("2026-01-01T25:00:00").is_err());
        assert!(parse_date("@x").is_err());
    }
}
