//! Test support shared by every crate: the application spawned on port 0 against a fresh
//! database (SQLite always, PostgreSQL when `EATFIT_TEST_DATABASE_URL` is set), signed initData,
//! and fakes of the external services we cannot reach here, as real HTTP servers on 127.0.0.1.

pub mod app;
pub mod fake_ai_proxy;
pub mod fake_llm;
pub mod fake_telegram;
pub mod fake_yookassa;

pub use app::{BOT_SECRET, BOT_TOKEN, TestApp};
