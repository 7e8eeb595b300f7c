//! Resident memory of a process, from `/proc/PID/status` (Linux).

use std::io;

/// `VmRSS` of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmRSS line: pid={pid}"),
        )
    })
}

/// The `VmRSS:` value (KiB) of a `/proc/PID/status` text.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// KiB as MiB, one decimal.
pub fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss_from_a_status_text() {
        let status = "Name:\tworker-light\nVmPeak:\t  20000 kB\nVmRSS:\t    9876 kB\nThreads:\t2\n";
        assert_eq!(parse_vm_rss(status), Some(9876));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert_eq!(mib(15 * 1024), 15.0);
    }

    #[test]
    fn reads_this_process() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
    }
}
