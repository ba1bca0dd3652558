//! From flags to what a command works with: the cases, snapshots and targets directories, the
//! selection, and the targets (the in-process reference, or a URL configured by flags and a
//! target file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::args::{Cli, FilterArgs, TargetArgs};
use crate::case::Profile;
use crate::select::{parse_partition, Selection};
use crate::server::adapter::{Isolation, ReadAdapter, WriteAdapter};
use crate::server::url::preflight::preflight;
use crate::server::url::{UrlConfig, UrlTarget};
use crate::server::Target;
use crate::targets::TargetFile;
use crate::Error;

/// `--cases`; else `./cases` (a checkout); else the cases installed beside the executable
/// ([`installed_data_dir`]); else the repository this binary was built from.
pub fn cases_dir(cli: &Cli) -> PathBuf {
    cli.cases.clone().unwrap_or_else(|| {
        let local = PathBuf::from("cases");
        if local.is_dir() {
            local
        } else if let Some(installed) = installed_data_dir() {
            installed.join("cases")
        } else {
            crate::default_cases_dir()
        }
    })
}

/// `--snapshots`; else those beside the cases found as [`cases_dir`] finds them (`./snapshots`
/// when `./cases` is a directory, the installed ones, the repository's).
pub fn snapshots_dir(cli: &Cli) -> PathBuf {
    cli.snapshots.clone().unwrap_or_else(|| {
        let local = PathBuf::from("snapshots");
        if PathBuf::from("cases").is_dir() {
            local
        } else if let Some(installed) = installed_data_dir() {
            installed.join("snapshots")
        } else {
            crate::default_snapshots_dir()
        }
    })
}

/// The data an installed binary ships with: `<prefix>/share/influx-conformance/` (`cases/`,
/// `snapshots/`, `targets/`) for an executable at `<prefix>/bin/influx-conformance`, which is
/// where the Python wheel's data lands (a virtual environment, `~/.local`, a system prefix;
/// Windows' `Scripts\` likewise). The executable's path is resolved through symbolic links, so
/// a link to it (`pipx` puts one in `~/.local/bin`) finds the environment it belongs to. `None`
/// when that directory has no `cases/` (a `cargo install` or a build in `target/`).
pub fn installed_data_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    data_dir_beside(&exe)
}

fn data_dir_beside(exe: &Path) -> Option<PathBuf> {
    let dir = exe
        .parent()?
        .parent()?
        .join("share")
        .join("influx-conformance");
    dir.join("cases").is_dir().then_some(dir)
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 1.0 })
}

pub fn selection(f: &FilterArgs) -> Result<Selection, Error> {
    Ok(Selection {
        ids: f.ids.clone(),
        levels: f.levels.clone(),
        profiles: f.profiles.clone(),
        partition: f.partition.as_deref().map(parse_partition).transpose()?,
    })
}

pub fn targets_dir(cli: &Cli, t: &TargetArgs) -> PathBuf {
    t.targets_dir.clone().unwrap_or_else(|| {
        let d = cases_dir(cli).join("../targets");
        if d.is_dir() {
            d
        } else {
            PathBuf::from("targets")
        }
    })
}

/// The targets of a run, the profiles they cover, the target file's labels, and the URL
/// target's configuration (for the preflight).
pub struct Targets {
    pub targets: Vec<Arc<dyn Target>>,
    pub profiles: Vec<Profile>,
    pub labels: BTreeMap<String, String>,
    pub url: Option<UrlConfig>,
}

impl Targets {
    /// Checks a URL target before any case runs (not with `--skip-preflight`): one line on
    /// what is wrong, as a configuration error (exit 2).
    pub async fn preflight(&self, t: &TargetArgs) -> Result<(), Error> {
        match &self.url {
            Some(config) if !t.skip_preflight => preflight(config)
                .await
                .map_err(|e| Error::Config(format!("preflight: {e}"))),
            _ => Ok(()),
        }
    }
}

/// `profile` overrides the URL target's profile (v2 unless a target file says otherwise).
pub fn build_targets(
    cli: &Cli,
    t: &TargetArgs,
    profile: Option<Profile>,
) -> Result<Targets, Error> {
    let file = match &t.target {
        Some(name) => {
            let dir = targets_dir(cli, t);
            Some((
                name.clone(),
                TargetFile::load(&dir.join(format!("{name}.yaml")))?,
            ))
        }
        None => None,
    };
    let url = t.url.clone().or(file.as_ref().map(|f| f.1.url.clone()));
    let Some(url) = url else {
        let both = Profile::ALL.to_vec();
        let reference = crate::targets::reference(both.clone(), &targets_dir(cli, t))?;
        return Ok(Targets {
            targets: vec![Arc::new(reference)],
            profiles: both,
            labels: BTreeMap::new(),
            url: None,
        });
    };
    let profile = profile
        .or(file.as_ref().map(|f| f.1.profile))
        .unwrap_or(Profile::V2);
    let mut config = UrlConfig::new(&url, profile);
    config.name = file
        .as_ref()
        .map(|f| f.0.clone())
        .unwrap_or_else(|| url.clone());
    config.token = t.token.clone().unwrap_or_default();
    config.org = t
        .org
        .clone()
        .or(file.as_ref().and_then(|f| f.1.org.clone()))
        .unwrap_or_default();
    config.write = t
        .write
        .or(file.as_ref().map(|f| f.1.write))
        .unwrap_or(WriteAdapter::V2);
    config.read = t
        .read
        .or(file.as_ref().map(|f| f.1.read))
        .unwrap_or(ReadAdapter::Flux);
    config.bucket = t
        .bucket
        .clone()
        .or(file.as_ref().and_then(|f| f.1.bucket.clone()));
    config.database = t
        .database
        .clone()
        .or(file.as_ref().and_then(|f| f.1.database.clone()));
    config.isolation = t
        .isolation
        .or(file.as_ref().map(|f| f.1.isolation))
        .unwrap_or_default();
    config.request_timeout = secs(t.request_timeout);
    config.settle_timeout = secs(t.settle_timeout);
    config.max_body_bytes = t.max_response_bytes;
    if config.org.is_empty()
        && config.bucket.is_none()
        && config.database.is_none()
        && config.isolation == Isolation::Buckets
    {
        return Err(Error::Config(
            "--org (or INFLUX_CONFORMANCE_ORG) is required with --url".into(),
        ));
    }
    let mut target = UrlTarget::new(config.clone())?;
    if let Some((_, f)) = &file {
        target = target.with_deviations(f.deviations.clone());
    }
    Ok(Targets {
        targets: vec![Arc::new(target)],
        profiles: vec![profile],
        labels: file.map(|(_, f)| f.labels).unwrap_or_default(),
        url: Some(config),
    })
}

/// Writes a file the command produces (a report, a rewritten case file).
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The spec directory for area titles: `--spec`, else `../shared/spec` beside the repository
/// the cases are in, when it is there.
pub fn spec_dir(cli: &Cli, spec: &Option<PathBuf>) -> Option<PathBuf> {
    spec.clone().or_else(|| {
        let d = cases_dir(cli).join("../../shared/spec");
        d.is_dir().then_some(d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_data_is_found_beside_the_executable_only_with_its_cases() {
        let prefix = std::env::temp_dir().join(format!("ic-installed-data-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        let exe = prefix.join("bin").join("influx-conformance");
        let share = prefix.join("share").join("influx-conformance");
        std::fs::create_dir_all(&share).expect("share dir");
        assert_eq!(data_dir_beside(&exe), None, "no cases/ yet");
        std::fs::create_dir_all(share.join("cases")).expect("cases dir");
        assert_eq!(data_dir_beside(&exe), Some(share));
        assert_eq!(data_dir_beside(Path::new("influx-conformance")), None);
        let _ = std::fs::remove_dir_all(&prefix);
    }
}
