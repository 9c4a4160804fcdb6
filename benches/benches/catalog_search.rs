//! Search in a catalog of one million sessions.
//!
//! Generates the catalog once per run into a temporary directory (takes a
//! while), then times the searches a manager makes: by id, by portal, by team
//! (with subteams), by representative, by date range (deep page), and a team
//! manager's view. Figures: docs/CATALOG.md.
//!
//! `CATALOG_BENCH_SESSIONS` overrides the session count (default 1 000 000).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use g2a_catalog::{Catalog, CatalogOptions, Clock, NewSession, Role, SearchQuery};

const NOW: i64 = 1_767_225_600_000_000;
const DAY: i64 = 86_400_000_000;
const PORTALS: usize = 10;
const TEAMS: usize = 100;
const REPS: usize = 2_000;
/// Every account in the generated catalog has this password.
const PW: &str = "bench-pw-Vq8#Lw2!pZ";

fn build(n: usize) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cat = Catalog::create(
        dir.path(),
        "admin",
        PW,
        CatalogOptions::insecure_fast_for_tests(),
    )
    .expect("create catalog");
    cat.set_clock(Clock::Fixed(NOW));
    let admin = cat.login("admin", PW).expect("login");
    for p in 0..PORTALS {
        cat.add_portal(&admin, &format!("portal{p}"), None)
            .expect("portal");
        cat.add_portal(
            &admin,
            &format!("portal{p}-sub"),
            Some(&format!("portal{p}")),
        )
        .expect("subportal");
    }
    // Teams: every fifth team is a top-level team with four subteams.
    for t in 0..TEAMS {
        let parent = (t % 5 != 0).then(|| format!("team{}", t - t % 5));
        cat.add_team(&admin, &format!("team{t}"), parent.as_deref())
            .expect("team");
    }
    // Every top-level team works on every top-level portal (and so on the
    // subportals), as the catalog's attribution checks require.
    for t in (0..TEAMS).step_by(5) {
        for p in 0..PORTALS {
            cat.assign_team_to_portal(&admin, &format!("team{t}"), &format!("portal{p}"))
                .expect("assign team");
        }
    }
    cat.add_manager(&admin, "tm", Role::TeamManager, PW, &["team0"])
        .expect("manager");
    for r in 0..REPS {
        cat.add_representative(
            &admin,
            &format!("rep{r}"),
            &format!("team{}", r % TEAMS),
            None,
            false,
        )
        .expect("rep");
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
        let start = NOW - span + (i as i64 * (span / n as i64));
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
            cat.import_metadata(&admin, &batch).expect("import");
            batch.clear();
        }
    }
    cat.import_metadata(&admin, &batch).expect("import");
    (dir, cat)
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("CATALOG_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let t0 = std::time::Instant::now();
    let (_dir, cat) = build(n);
    eprintln!(
        "catalog_search: generated {n} sessions in {:.1?}",
        t0.elapsed()
    );
    let admin = cat.login("admin", PW).expect("login");
    let tm = cat.login("tm", PW).expect("login");
    let mid = format!("S{:08}", n / 2);
    let mut g = c.benchmark_group(format!("catalog_search_{n}"));
    let queries: Vec<(&str, &g2a_catalog::Actor, SearchQuery)> = vec![
        ("by_id", &admin, SearchQuery::by_id(&mid)),
        ("all_page0", &admin, SearchQuery::default()),
        (
            "portal_page0",
            &admin,
            SearchQuery::default().portal("portal3"),
        ),
        (
            "team_with_subteams_page0",
            &admin,
            SearchQuery::default().team("team10"),
        ),
        (
            "rep_page0",
            &admin,
            SearchQuery::default().representative("rep77"),
        ),
        (
            "portal_range_page20",
            &admin,
            SearchQuery::default()
                .portal("portal3")
                .range(NOW - 30 * DAY, Some(NOW - 20 * DAY))
                .page(20, 50),
        ),
        ("team_manager_all_page0", &tm, SearchQuery::default()),
        (
            "team_manager_rep_range",
            &tm,
            SearchQuery::default()
                .representative("rep100")
                .range(NOW - 10 * DAY, None),
        ),
    ];
    for (name, actor, q) in &queries {
        let hits = cat.search(actor, q).expect("search").sessions.len();
        eprintln!("catalog_search: {name}: {hits} results on the page");
        g.bench_function(*name, |b| {
            b.iter(|| black_box(cat.search(actor, q).expect("search")));
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
