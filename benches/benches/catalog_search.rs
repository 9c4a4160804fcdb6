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
use g2a_catalog::{Catalog, SearchQuery};

const NOW: i64 = 1_767_225_600_000_000;
const DAY: i64 = 86_400_000_000;
/// Every account in the generated catalog has this password.
const PW: &str = g2a_benches::SYNTHETIC_PASSWORD;

fn build(n: usize) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cat = g2a_benches::synthetic_catalog(&dir.path().join("cat"), n, NOW, true)
        .expect("generate the catalog");
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
