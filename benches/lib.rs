//! Benchmarks of the g2a crates; see `benches/`.
