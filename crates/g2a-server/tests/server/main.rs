//! The review service's tests, over the whole router and over real sockets
//! and a real browser. One test binary for all of them: linking a binary
//! with the whole crate graph is most of the build time of an integration
//! test.

mod api;
mod browser;
mod common;
mod player;
mod tls;
mod uploads;
