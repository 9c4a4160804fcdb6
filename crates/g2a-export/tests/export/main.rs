//! The exporter's tests on real encodes and real clips. One test binary for
//! all of them: linking a binary with the whole crate graph is most of the
//! build time of an integration test.

mod common;
mod export_formats;
mod fidelity_and_player;
mod import_video;
