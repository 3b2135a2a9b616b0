//! Readings of the host for the platform alerts (Disk, MemoryNearLimit, CertExpiry): the IO at
//! the edge is a few thin functions; what the files and numbers mean is decided by pure
//! functions that the tests feed with sample contents.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// Usage of the filesystem holding a path.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskReading {
    /// The configured path (the alert key).
    pub path: String,
    /// Used share in percent, as `df` computes it: used / (used + available to us).
    pub used_percent: f64,
    pub size_bytes: u64,
    pub avail_bytes: u64,
    /// The filesystem's id (`f_fsid`): two paths on one filesystem are one reading.
    pub fs_id: u64,
}

/// `df`'s percentage from statvfs block counts (reserved blocks count as neither used nor
/// available). 0 for an empty filesystem.
pub fn used_percent(blocks: u64, free: u64, avail: u64) -> f64 {
    let used = blocks.saturating_sub(free);
    let denom = used + avail;
    if denom == 0 {
        0.0
    } else {
        used as f64 * 100.0 / denom as f64
    }
}

/// statvfs of `path`.
pub fn disk_usage(path: &Path) -> std::io::Result<DiskReading> {
    let s = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    let unit = if s.f_frsize > 0 {
        s.f_frsize
    } else {
        s.f_bsize
    };
    Ok(DiskReading {
        path: path.display().to_string(),
        used_percent: used_percent(s.f_blocks, s.f_bfree, s.f_bavail),
        size_bytes: s.f_blocks.saturating_mul(unit),
        avail_bytes: s.f_bavail.saturating_mul(unit),
        fs_id: s.f_fsid,
    })
}

/// Memory use of this process's container (cgroup) or, without a limit, of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryReading {
    pub used_bytes: u64,
    pub limit_bytes: u64,
}

impl MemoryReading {
    pub fn percent(&self) -> f64 {
        if self.limit_bytes == 0 {
            0.0
        } else {
            self.used_bytes as f64 * 100.0 / self.limit_bytes as f64
        }
    }
}

/// The cgroup v2 path of this process from `/proc/self/cgroup` (`0::/system.slice/x.service`).
pub fn cgroup_v2_path(proc_self_cgroup: &str) -> Option<String> {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().to_string())
}

fn stat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next() == Some(key))
            .then(|| it.next().and_then(|v| v.parse().ok()))
            .flatten()
    })
}

/// A cgroup v2 reading: `memory.current` minus `inactive_file` of `memory.stat` (the working
/// set, as the container runtimes report it) against `memory.max`. `None` when there is no
/// limit (`max`) or the files do not parse.
pub fn parse_cgroup_memory(current: &str, max: &str, stat: Option<&str>) -> Option<MemoryReading> {
    let limit: u64 = max.trim().parse().ok()?;
    let current: u64 = current.trim().parse().ok()?;
    let inactive = stat
        .and_then(|s| stat_value(s, "inactive_file"))
        .unwrap_or(0);
    (limit > 0).then_some(MemoryReading {
        used_bytes: current.saturating_sub(inactive),
        limit_bytes: limit,
    })
}

/// `/proc/meminfo`: MemTotal − MemAvailable of MemTotal (kB in the file).
pub fn parse_meminfo(text: &str) -> Option<MemoryReading> {
    let kb = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
    };
    let total = kb("MemTotal")?;
    let avail = kb("MemAvailable")?;
    (total > 0).then_some(MemoryReading {
        used_bytes: total.saturating_sub(avail) * 1024,
        limit_bytes: total * 1024,
    })
}

/// This process's memory reading: its cgroup v2 (own path, then the namespace root), else the
/// host's `/proc/meminfo`.
pub fn memory_reading() -> Option<MemoryReading> {
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    let root = PathBuf::from("/sys/fs/cgroup");
    let mut dirs = Vec::new();
    if let Some(own) = read(Path::new("/proc/self/cgroup")).and_then(|t| cgroup_v2_path(&t)) {
        dirs.push(root.join(own.trim_start_matches('/')));
    }
    dirs.push(root);
    for dir in dirs {
        if let (Some(cur), Some(max)) = (
            read(&dir.join("memory.current")),
            read(&dir.join("memory.max")),
        ) && let Some(r) =
            parse_cgroup_memory(&cur, &max, read(&dir.join("memory.stat")).as_deref())
        {
            return Some(r);
        }
    }
    read(Path::new("/proc/meminfo")).and_then(|t| parse_meminfo(&t))
}

/// Why a certificate file gave no expiry.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: not a PEM certificate ({1})")]
    Parse(String, String),
}

/// The earliest `notAfter` of the certificates in a PEM bundle (the chain expires with its
/// first member).
pub fn cert_not_after(pem: &[u8], name: &str) -> Result<DateTime<Utc>, CertError> {
    let mut earliest: Option<DateTime<Utc>> = None;
    for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let block = block.map_err(|e| CertError::Parse(name.into(), e.to_string()))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let cert = block
            .parse_x509()
            .map_err(|e| CertError::Parse(name.into(), e.to_string()))?;
        let at = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
            .ok_or_else(|| CertError::Parse(name.into(), "notAfter out of range".into()))?;
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest.ok_or_else(|| CertError::Parse(name.into(), "no CERTIFICATE block".into()))
}

/// The earliest `notAfter` in the PEM file at `path`.
pub fn cert_expiry(path: &Path) -> Result<DateTime<Utc>, CertError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CertError::Read(name.clone(), e))?;
    cert_not_after(&bytes, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_percentage_ignores_reserved_blocks() {
        // 1000 blocks, 300 free of which 250 available to users: 700 used of 950.
        let p = used_percent(1000, 300, 250);
        assert!((p - 700.0 * 100.0 / 950.0).abs() < 1e-9, "{p}");
        assert_eq!(used_percent(0, 0, 0), 0.0);
    }

    #[test]
    fn cgroup_files_parse_into_a_working_set_against_the_limit() {
        let r = parse_cgroup_memory(
            "900000000\n",
            "1000000000\n",
            Some("anon 500\nfile 400\ninactive_file 100000000\nactive_file 3\n"),
        )
        .unwrap_or_else(|| panic!("parsed"));
        assert_eq!(r.used_bytes, 800_000_000);
        assert_eq!(r.limit_bytes, 1_000_000_000);
        assert!((r.percent() - 80.0).abs() < 1e-9);
        // No limit: the container reading says nothing.
        assert_eq!(parse_cgroup_memory("123", "max\n", None), None);
        assert_eq!(parse_cgroup_memory("x", "100", None), None);
        assert_eq!(
            cgroup_v2_path("0::/system.slice/eatfit-worker.service\n").as_deref(),
            Some("/system.slice/eatfit-worker.service")
        );
        assert_eq!(cgroup_v2_path("12:memory:/docker/abc\n"), None);
    }

    #[test]
    fn meminfo_is_used_when_there_is_no_cgroup_limit() {
        let text = "MemTotal:        8000000 kB\nMemFree:          100000 kB\n\
                    MemAvailable:    2000000 kB\nBuffers:  1 kB\n";
        let r = parse_meminfo(text).unwrap_or_else(|| panic!("parsed"));
        assert_eq!(r.limit_bytes, 8_000_000 * 1024);
        assert_eq!(r.used_bytes, 6_000_000 * 1024);
        assert!((r.percent() - 75.0).abs() < 1e-9);
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn the_real_reading_of_a_temp_dir_is_sane() {
        let dir = std::env::temp_dir();
        let r = disk_usage(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.size_bytes > 0, "{r:?}");
        assert!(r.avail_bytes <= r.size_bytes, "{r:?}");
        assert!((0.0..=100.0).contains(&r.used_percent), "{r:?}");
        assert!(disk_usage(Path::new("/no/such/dir/eatfit")).is_err());
        // This process has some memory reading on Linux, and it is plausible.
        if let Some(m) = memory_reading() {
            assert!(m.limit_bytes > 0 && m.used_bytes <= m.limit_bytes, "{m:?}");
        }
    }

    #[test]
    fn not_after_is_read_from_a_pem_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["eatfit.test".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        params.not_after = rcgen::date_time_ymd(2026, 4, 1);
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
        let at = cert_not_after(cert.pem().as_bytes(), "t").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(at.format("%Y-%m-%d").to_string(), "2026-04-01");
        assert!(cert_not_after(b"not a pem", "t").is_err());
        assert!(matches!(
            cert_expiry(Path::new("/no/such/cert.pem")),
            Err(CertError::Read(..))
        ));
    }
}
