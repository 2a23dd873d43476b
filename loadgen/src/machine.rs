//! Facts about the machine the numbers were taken on, and who used its CPUs during a phase
//! (from Linux's `/proc`; elsewhere these are simply missing from the report).

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Clock ticks per second in `/proc` CPU times (`USER_HZ`, 100 on every Linux ABI).
const TICKS_PER_SEC: f64 = 100.0;

/// Static facts, read once.
pub struct Facts {
    pub nproc: usize,
    pub cpu_model: Option<String>,
    pub kernel: Option<String>,
    pub memory_gib: Option<f64>,
    /// 1, 5 and 15-minute load averages when the tool started.
    pub load_average: Option<String>,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
}

impl Facts {
    /// Reads them now.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| kib / (1024.0 * 1024.0));
        Facts {
            nproc: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned()),
            memory_gib,
            load_average: std::fs::read_to_string("/proc/loadavg").ok().map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")),
            date: utc_now(),
        }
    }
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    let rest = secs % 86_400;
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// CPU time used so far: by the whole machine, the server (if its pid is known) and this tool.
pub struct CpuSnapshot {
    at: Instant,
    machine_busy: Option<u64>,
    server: Option<u64>,
    loadgen: Option<u64>,
}

/// CPU used between two snapshots, in cores (1.0 = one core busy the whole time).
pub struct CpuUse {
    pub machine: Option<f64>,
    pub server: Option<f64>,
    pub loadgen: Option<f64>,
}

impl CpuSnapshot {
    /// Takes one.
    pub fn take(server_pid: Option<u32>) -> Self {
        CpuSnapshot {
            at: Instant::now(),
            machine_busy: machine_busy_ticks(),
            server: server_pid.and_then(|pid| process_ticks(&Path::new("/proc").join(pid.to_string()).join("stat"))),
            loadgen: process_ticks(Path::new("/proc/self/stat")),
        }
    }

    /// What was used since `earlier`.
    pub fn since(&self, earlier: &CpuSnapshot) -> CpuUse {
        let secs = self.at.duration_since(earlier.at).as_secs_f64().max(1e-9);
        let cores = |now: Option<u64>, then: Option<u64>| Some(now?.saturating_sub(then?) as f64 / TICKS_PER_SEC / secs);
        CpuUse {
            machine: cores(self.machine_busy, earlier.machine_busy),
            server: cores(self.server, earlier.server),
            loadgen: cores(self.loadgen, earlier.loadgen),
        }
    }
}

/// Non-idle ticks of all CPUs, from the `cpu` line of `/proc/stat`.
fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat.lines().next()?.strip_prefix("cpu ")?.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some(total.saturating_sub(idle))
}

/// User + system ticks of a process, from its `/proc/<pid>/stat`.
fn process_ticks(path: &Path) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses; the fields after the last `)` start
    // at field 3 (state), so utime and stime (fields 14 and 15) are at 11 and 12.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
    }

    #[test]
    fn process_times_survive_odd_command_names() {
        let dir = std::env::temp_dir().join(format!("loadgen-stat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stat");
        std::fs::write(&path, "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0").unwrap();
        assert_eq!(process_ticks(&path), Some(300));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
