//! Thresholds and inputs of the in-process alert evaluator (`crate::ops::alerts`), read where
//! the `ops.alerts` job runs (serve, worker).

use std::path::PathBuf;

use super::Reader;

/// The alert evaluator's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsConfig {
    /// PEM certificates whose expiry is watched (CertExpiry); empty: the rule is off.
    pub cert_files: Vec<PathBuf>,
    /// Disk: warn above, page above (percent used).
    pub disk_warn_percent: f64,
    pub disk_page_percent: f64,
    /// MemoryNearLimit: percent of the container (or host) memory.
    pub memory_percent: f64,
    /// AILatencyHigh: p95 of submission → result, seconds.
    pub ai_latency_p95_secs: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            cert_files: Vec::new(),
            disk_warn_percent: 70.0,
            disk_page_percent: 85.0,
            memory_percent: 85.0,
            ai_latency_p95_secs: 30.0,
        }
    }
}

fn number(r: &mut Reader<'_>, name: &str, default: f64, range: (f64, f64)) -> f64 {
    match r.raw(name) {
        None => default,
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n > range.0 && n < range.1 => n,
            _ => {
                r.problem(
                    name,
                    format!(
                        "must be a number above {} and below {} (got `{v}`)",
                        range.0, range.1
                    ),
                );
                default
            }
        },
    }
}

pub(super) fn load(r: &mut Reader<'_>) -> AlertsConfig {
    let d = AlertsConfig::default();
    let disk_warn_percent = number(
        r,
        "EATFIT_ALERT_DISK_WARN_PERCENT",
        d.disk_warn_percent,
        (0.0, 100.0),
    );
    let disk_page_percent = number(
        r,
        "EATFIT_ALERT_DISK_PAGE_PERCENT",
        d.disk_page_percent,
        (0.0, 100.0),
    );
    if disk_warn_percent >= disk_page_percent {
        r.problem(
            "EATFIT_ALERT_DISK_WARN_PERCENT",
            format!("must be below EATFIT_ALERT_DISK_PAGE_PERCENT ({disk_page_percent})"),
        );
    }
    let memory_percent = number(
        r,
        "EATFIT_ALERT_MEMORY_PERCENT",
        d.memory_percent,
        (0.0, 100.0),
    );
    let ai_latency_p95_secs = number(
        r,
        "EATFIT_ALERT_AI_LATENCY_P95_SECONDS",
        d.ai_latency_p95_secs,
        (0.0, 3600.0),
    );
    let mut cert_files = Vec::new();
    if let Some(list) = r.raw("EATFIT_ALERT_CERT_FILES") {
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(part);
            // Checked at start: a typo or an unreadable file is a configuration error, not a
            // silent "rule off".
            if let Err(e) = crate::ops::host::cert_expiry(&path) {
                r.problem("EATFIT_ALERT_CERT_FILES", e.to_string());
            }
            cert_files.push(path);
        }
    }
    AlertsConfig {
        cert_files,
        disk_warn_percent,
        disk_page_percent,
        memory_percent,
        ai_latency_p95_secs,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Config;
    use super::super::spec::Role;
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(Role::Worker, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn alert_thresholds_and_certificate_files_are_checked_at_start() {
        let c = load(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.alerts, AlertsConfig::default());
        let c = load(&[
            ("EATFIT_ALERT_DISK_WARN_PERCENT", "60"),
            ("EATFIT_ALERT_DISK_PAGE_PERCENT", "90.5"),
            ("EATFIT_ALERT_AI_LATENCY_P95_SECONDS", "45"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.alerts.disk_warn_percent, 60.0);
        assert_eq!(c.alerts.disk_page_percent, 90.5);
        assert_eq!(c.alerts.ai_latency_p95_secs, 45.0);

        let err = load(&[
            ("EATFIT_ALERT_DISK_WARN_PERCENT", "90"),
            ("EATFIT_ALERT_DISK_PAGE_PERCENT", "80"),
            ("EATFIT_ALERT_MEMORY_PERCENT", "120"),
            ("EATFIT_ALERT_CERT_FILES", "/no/such/fullchain.pem"),
        ])
        .err()
        .unwrap_or_default();
        assert!(
            err.contains("EATFIT_ALERT_DISK_WARN_PERCENT: must be below"),
            "{err}"
        );
        assert!(err.contains("EATFIT_ALERT_MEMORY_PERCENT"), "{err}");
        assert!(
            err.contains("EATFIT_ALERT_CERT_FILES") && err.contains("/no/such/fullchain.pem"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("cert.pem");
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let cert = rcgen::CertificateParams::new(vec!["eatfit.test".into()])
            .and_then(|p| p.self_signed(&key))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, cert.pem()).unwrap_or_else(|e| panic!("{e}"));
        let list = format!("{}, ", path.display());
        let c = load(&[("EATFIT_ALERT_CERT_FILES", &list)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.alerts.cert_files, vec![path]);
    }
}
