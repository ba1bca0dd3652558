//! Benchmark data in the shape of TSBS "cpu-only" (the Time Series Benchmark Suite's most used
//! workload): measurement `cpu`, ten tags per host, ten integer fields `usage_user` ..
//! `usage_guest_nice`, one line per host every ten seconds. Deterministic, so every server and
//! every run gets byte-identical batches. Used by the parser and write benchmarks and by
//! `cargo xtask bench ingest`.

use std::fmt::Write as _;

const REGIONS: [&str; 9] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];
const OS: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ARCH: [&str; 2] = ["x64", "x86"];
const TEAM: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
const ENVIRONMENT: [&str; 3] = ["production", "staging", "test"];

/// The ten field keys of every line.
pub const FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// Seconds between two lines of one host.
pub const STEP_NS: i64 = 10_000_000_000;

/// xorshift64*: small and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct CpuOnly {
    /// Number of distinct hosts (series per field).
    pub hosts: usize,
    /// Total lines.
    pub points: usize,
    /// Lines per batch (the last batch may be shorter).
    pub batch: usize,
    /// Timestamp of the first tick, in ns.
    pub start: i64,
}

impl CpuOnly {
    /// `points` lines: host i % hosts at tick i / hosts, in batches of `batch` lines, each
    /// line ending in `\n`.
    pub fn batches(&self) -> Vec<String> {
        self.batches_iter().collect()
    }

    /// [`CpuOnly::batches`] one batch at a time (a benchmark of 2,000,000 points need not hold
    /// 700 MB of line protocol).
    pub fn batches_iter(&self) -> impl Iterator<Item = String> {
        let hosts = self.hosts.max(1);
        let batch = self.batch.max(1);
        let (points, start) = (self.points, self.start);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let series: Vec<String> = (0..hosts)
            .map(|h| {
                let region = rng.pick(&REGIONS);
                let dc = ["a", "b", "c"][rng.below(3) as usize];
                format!(
                    "cpu,hostname=host_{h},region={region},datacenter={region}{dc},rack={},os={},arch={},team={},service={},service_version={},service_environment={} ",
                    rng.below(100),
                    rng.pick(&OS),
                    rng.pick(&ARCH),
                    rng.pick(&TEAM),
                    rng.below(20),
                    rng.below(2),
                    rng.pick(&ENVIRONMENT),
                )
            })
            .collect();
        let mut next = 0usize;
        std::iter::from_fn(move || {
            if next >= points {
                return None;
            }
            let end = (next + batch).min(points);
            let mut buf = String::new();
            for i in next..end {
                buf.push_str(&series[i % hosts]);
                for (k, f) in FIELDS.iter().enumerate() {
                    if k > 0 {
                        buf.push(',');
                    }
                    let _ = write!(buf, "{f}={}i", rng.below(101));
                }
                let _ = writeln!(buf, " {}", start + (i / hosts) as i64 * STEP_NS);
            }
            next = end;
            Some(buf)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_deterministic_and_parse() {
        let spec = CpuOnly {
            hosts: 3,
            points: 7,
            batch: 3,
            start: 1_000,
        };
        let a = spec.batches();
        assert_eq!(a, spec.batches());
        assert_eq!(a.len(), 3);
        let batch =
            crate::line_protocol::parse_batch(a[0].as_bytes(), crate::model::Precision::Nanosecond);
        assert!(batch.errors.is_empty());
        assert_eq!(batch.points.len(), 3);
        assert_eq!(batch.points[0].fields.len(), 10);
        assert_eq!(batch.points[0].tags.len(), 10);
        let last =
            crate::line_protocol::parse_batch(a[2].as_bytes(), crate::model::Precision::Nanosecond);
        assert_eq!(last.points[0].timestamp, Some(1_000 + 2 * STEP_NS));
    }
}
