//! End-to-end tests of the `freight` binary: generated organisations, hand-written fixtures for
//! each log shape, and parity with ccusage (the peer) on the same files.

mod api;
mod company;
mod eval;
mod fixtures;
mod hooks;
mod outcomes;
mod parity;
mod reports;
mod serve;
mod support;
