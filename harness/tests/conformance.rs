//! `cargo test` runs every case × profile against the in-process reference, one libtest-mimic
//! test each, named `<file>::<id>::<profile>` (works with `cargo nextest run`, including
//! `--exact`). A snapshot difference appears in the test's failure message and is written
//! next to the snapshot as `.snap.new` for `cargo insta review`; `INSTA_UPDATE=always` (or
//! `INFLUX_CONFORMANCE_BLESS=1`) records snapshots instead.
//!
//! Cases are data: this file knows nothing of what any case expects.

use std::sync::Arc;

use influx_conformance::case::{Corpus, Profile};
use influx_conformance::report::failure_text;
use influx_conformance::run::{run_case, RunConfig};
use influx_conformance::snapshot::SnapshotMode;
use influx_conformance::targets::reference;
use influx_conformance::verdict::Verdict;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let root = influx_conformance::default_cases_dir();
    let corpus = match Corpus::load(&root) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let bless = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
        || std::env::var("INFLUX_CONFORMANCE_BLESS").is_ok_and(|v| v == "1");
    let targets_dir = root.join("../targets");
    let target = match reference(Profile::ALL.to_vec(), &targets_dir) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let mut trials = Vec::new();
    for (i, case) in corpus.cases.iter().enumerate() {
        for profile in case.profiles.list() {
            let profile = *profile;
            let name = format!("{}::{}", case.name(), profile.as_str());
            let corpus = corpus.clone();
            let target = target.clone();
            let trial = Trial::test(name, move || {
                let case = &corpus.cases[i];
                let config = RunConfig {
                    jobs: 1,
                    snapshots: Some(influx_conformance::default_snapshots_dir()),
                    snapshot_mode: if bless {
                        SnapshotMode::Bless
                    } else {
                        SnapshotMode::Compare
                    },
                    ..RunConfig::default()
                };
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?;
                let r = rt.block_on(run_case(case, target.as_ref(), profile, &config));
                match r.verdict {
                    // xfail: a documented deviation of the reference (targets/reference.yaml).
                    Verdict::Pass | Verdict::Xfail => Ok(()),
                    _ => Err(Failed::from(failure_text(&r, &corpus.root))),
                }
            });
            trials.push(trial);
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
