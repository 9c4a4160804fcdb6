//! The SQLite schema and its migrations.

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::CatalogError;

/// Migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: organisation, sessions, audit.
    "
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE portals (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        parent_id INTEGER REFERENCES portals(id),
        active_key_id INTEGER
    );
    CREATE TABLE portal_keys (
        id INTEGER PRIMARY KEY,
        portal_id INTEGER NOT NULL REFERENCES portals(id),
        recipient TEXT NOT NULL UNIQUE,
        wrapped_identity BLOB NOT NULL,
        created_unix_micros INTEGER NOT NULL
    );
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        parent_id INTEGER REFERENCES teams(id)
    );
    CREATE TABLE team_portals (
        team_id INTEGER NOT NULL REFERENCES teams(id),
        portal_id INTEGER NOT NULL REFERENCES portals(id),
        PRIMARY KEY (team_id, portal_id)
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        password_hash TEXT,
        team_id INTEGER REFERENCES teams(id),
        mc_access INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE team_managers (
        user_id INTEGER NOT NULL REFERENCES users(id),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        PRIMARY KEY (user_id, team_id)
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        portal_id INTEGER NOT NULL REFERENCES portals(id),
        team_id INTEGER NOT NULL REFERENCES teams(id),
        rep_id INTEGER NOT NULL REFERENCES users(id),
        customer TEXT NOT NULL,
        start_us INTEGER NOT NULL,
        end_us INTEGER NOT NULL,
        rating INTEGER,
        tracks TEXT NOT NULL,
        key_id INTEGER REFERENCES portal_keys(id),
        key_block BLOB,
        purged INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX sessions_start ON sessions(start_us);
    CREATE INDEX sessions_portal_start ON sessions(portal_id, start_us);
    CREATE INDEX sessions_team_start ON sessions(team_id, start_us);
    CREATE INDEX sessions_rep_start ON sessions(rep_id, start_us);
    CREATE TABLE session_files (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        seq INTEGER NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at_us INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        session_id TEXT,
        outcome TEXT NOT NULL
    );
    ",
    // 2: audit details and indexes, failed-attempt throttling, deactivated
    // users, settings for team managers' rights over representatives.
    "
    ALTER TABLE audit ADD COLUMN detail TEXT NOT NULL DEFAULT '';
    CREATE INDEX audit_actor ON audit(actor, id);
    CREATE INDEX audit_session ON audit(session_id, id);
    CREATE INDEX audit_at ON audit(at_us);
    CREATE TABLE throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_us INTEGER NOT NULL
    );
    ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    INSERT OR IGNORE INTO settings (key, value) VALUES ('team_managers_manage_reps', '0');
    ",
    // 3: logins of the web service (tokens stored as SHA-256 hashes).
    "
    CREATE TABLE logins (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        client TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL
    );
    CREATE INDEX logins_user ON logins(user_id);
    ",
    // 4: recorders that upload (tokens stored as SHA-256 hashes), uploads
    // in progress (tus), sessions still being recorded.
    "
    CREATE TABLE recorder_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE,
        portal_id INTEGER NOT NULL REFERENCES portals(id),
        created_by TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        revoked_us INTEGER,
        last_used_us INTEGER
    );
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        token_id INTEGER NOT NULL REFERENCES recorder_tokens(id),
        file_name TEXT NOT NULL,
        length INTEGER,
        path TEXT NOT NULL,
        session_id TEXT,
        seq INTEGER,
        state TEXT NOT NULL,
        warnings TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        created_us INTEGER NOT NULL,
        updated_us INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX uploads_state ON uploads(state, updated_us);
    CREATE INDEX uploads_session ON uploads(session_id);
    ALTER TABLE sessions ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
    ",
];

/// Newest schema version this build knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens the database file (which exists, possibly empty), in WAL mode,
/// with deleted content overwritten (`secure_delete`), and migrates it.
/// A read-only connection changes nothing, so its database must already be
/// at this build's schema version.
pub(crate) fn connect(path: &std::path::Path, read_only: bool) -> Result<Connection, CatalogError> {
    if read_only {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found != SCHEMA_VERSION {
            return Err(CatalogError::Schema {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        return Ok(conn);
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations the database has not seen yet.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), CatalogError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !(0..=SCHEMA_VERSION).contains(&found) {
        return Err(CatalogError::Schema {
            found,
            expected: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        c.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(CatalogError::Schema { found: 99, .. })
        ));
    }
}
