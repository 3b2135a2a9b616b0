//! Operations: backup and restore, the in-process alert evaluator, retention, and the import
//! from the original EatFit24 database.

pub mod alerts;
pub mod backup;
pub mod host;
pub mod import;
pub mod retention;
pub mod roles;
pub mod texts;

use crate::config::Config;

/// The alert evaluator's settings from the configuration of the process that runs it.
pub fn alert_settings(config: &Config) -> anyhow::Result<alerts::AlertSettings> {
    let mut settings =
        alerts::AlertSettings::new(config.telegram.admins.iter().map(|a| a.get()).collect());
    settings.heartbeat = config.alerts_heartbeat;
    settings.backups_required = config.is_prod();
    settings.scheduled = crate::app::periodic()
        .ok()
        .map(|p| p.into_iter().map(|p| p.name).collect());
    let a = &config.alerts;
    settings.ai_latency_p95_secs = a.ai_latency_p95_secs;
    settings.cert_files = a.cert_files.clone();
    settings.disk_warn_percent = a.disk_warn_percent;
    settings.disk_page_percent = a.disk_page_percent;
    settings.memory_percent = a.memory_percent;
    settings.disk_paths = vec![config.media_dir.clone()];
    if let Some(db_file) = config.database.sqlite_path() {
        let folder = match db_file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        settings.disk_paths.push(folder);
    }
    if let Some(proxy) = &config.ai_proxy {
        settings.ai_proxy = Some(crate::ai_probe::AiProxyProbe::with_root_certificates(
            proxy.clone(),
            &config.ai_proxy_ca,
        )?);
    }
    Ok(settings)
}

/// Registers the operations jobs (alert evaluation, retention) with a worker's registry.
pub fn register_jobs(
    registry: &mut jobs::worker::Registry,
    config: &Config,
    media: media::MediaStore,
) -> anyhow::Result<()> {
    alerts::register(registry, alert_settings(config)?);
    retention::register(registry, media, config.retention_enabled);
    Ok(())
}
