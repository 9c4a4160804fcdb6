//! The SQLite schema and its migrations.

use rusqlite::Connection;

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
];

/// Newest schema version this build knows.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens (or creates) the database file, in WAL mode, and migrates it.
pub(crate) fn connect(path: &std::path::Path) -> Result<Connection, CatalogError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
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
        let tx = conn.transaction()?;
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
