//! Which (case, target, profile) triples a run executes: id globs, levels, profiles and the
//! stable `hash:M/N` partitions.

use std::sync::Arc;

use crate::case::{Level, LoadedCase, Profile};
use crate::server::Target;

/// A selected (case, target, profile) triple.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub case: usize,
    pub target: usize,
    pub profile: Profile,
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Globs over case names (`v2/gzip.yaml::*`) or ids; empty selects all.
    pub ids: Vec<String>,
    pub levels: Vec<Level>,
    pub profiles: Vec<Profile>,
    /// `hash:M/N`: the M-th of N stable partitions (1-based).
    pub partition: Option<(u64, u64)>,
}

/// FNV-1a, stable across runs and platforms (partitioning must not move cases around).
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn parse_partition(s: &str) -> Result<(u64, u64), crate::Error> {
    let bad = || {
        crate::Error::Config(format!(
            "partition {s:?}: expected hash:M/N with 1 <= M <= N"
        ))
    };
    let rest = s.strip_prefix("hash:").ok_or_else(bad)?;
    let (m, n) = rest.split_once('/').ok_or_else(bad)?;
    let m: u64 = m.parse().map_err(|_| bad())?;
    let n: u64 = n.parse().map_err(|_| bad())?;
    if m == 0 || n == 0 || m > n {
        return Err(bad());
    }
    Ok((m, n))
}

impl Selection {
    pub fn jobs(
        &self,
        cases: &[LoadedCase],
        targets: &[Arc<dyn Target>],
    ) -> Result<Vec<Job>, crate::Error> {
        let mut globs = Vec::new();
        for g in &self.ids {
            let glob = globset::Glob::new(g)
                .map_err(|e| crate::Error::Config(format!("id glob {g:?}: {e}")))?;
            globs.push(glob.compile_matcher());
        }
        let mut out = Vec::new();
        for (ci, c) in cases.iter().enumerate() {
            if !globs.is_empty()
                && !globs
                    .iter()
                    .any(|g| g.is_match(c.name()) || g.is_match(&c.case.id))
            {
                continue;
            }
            if !self.levels.is_empty() && !self.levels.contains(&c.level) {
                continue;
            }
            for (ti, t) in targets.iter().enumerate() {
                for p in c.profiles.list() {
                    if !t.profiles().contains(p) {
                        continue;
                    }
                    if !self.profiles.is_empty() && !self.profiles.contains(p) {
                        continue;
                    }
                    if let Some((m, n)) = self.partition {
                        if fnv(&format!("{}@{}", c.name(), p.as_str())) % n != m - 1 {
                            continue;
                        }
                    }
                    out.push(Job {
                        case: ci,
                        target: ti,
                        profile: *p,
                    });
                }
            }
        }
        Ok(out)
    }
}
