//! Append-only migrations. They run on SQLite and PostgreSQL alike; never edit one that has
//! landed — add a new one.

use sea_orm_migration::prelude::*;

mod m0001_core;
mod m0002_jobs;
mod m0003_weights;
mod m0004_recognition;
mod m0005_alerts;
mod m0006_outbox;
mod m0007_billing;
mod m0008_bot;
mod m0010_import;
mod m0011_rate_limits;
mod m0012_ops_state;

/// Every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_core::Migration),
            Box::new(m0002_jobs::Migration),
            Box::new(m0003_weights::Migration),
            Box::new(m0004_recognition::Migration),
            Box::new(m0005_alerts::Migration),
            Box::new(m0006_outbox::Migration),
            Box::new(m0007_billing::Migration),
            Box::new(m0008_bot::Migration),
            Box::new(m0010_import::Migration),
            Box::new(m0011_rate_limits::Migration),
            Box::new(m0012_ops_state::Migration),
        ]
    }
}
