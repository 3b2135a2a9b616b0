//! The `eatfit` binary's library: configuration, telemetry and role wiring. `main.rs` only
//! parses the command line.

#![forbid(unsafe_code)]

pub mod ai_probe;
pub mod app;
pub mod billing_admin;
pub mod cli;
pub mod config;
pub mod ops;
pub mod telemetry;
