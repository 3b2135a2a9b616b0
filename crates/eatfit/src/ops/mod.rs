//! Operations: backup and restore, the in-process alert evaluator, retention, and the import
//! from the original EatFit24 database.

pub mod alerts;
pub mod backup;
pub mod import;
pub mod retention;
pub mod texts;

use crate::config::Config;

/// Registers the operations jobs (alert evaluation, retention) with a worker's registry.
pub fn register_jobs(
    registry: &mut jobs::worker::Registry,
    config: &Config,
    media: media::MediaStore,
) {
    let mut settings =
        alerts::AlertSettings::new(config.telegram.admins.iter().map(|a| a.get()).collect());
    settings.heartbeat = config.alerts_heartbeat;
    settings.backups_required = config.is_prod();
    settings.scheduled = crate::app::periodic()
        .ok()
        .map(|p| p.into_iter().map(|p| p.name).collect());
    alerts::register(registry, settings);
    retention::register(registry, media, config.retention_enabled);
}
