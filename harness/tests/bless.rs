//! `bless` on a temporary corpus with deliberately stale expectations: only the values that no
//! longer hold change (comments, quoting and layout of everything else survive), the rewritten
//! file reloads and passes, a second bless changes nothing, and a case whose matchers all hold
//! is untouched.

use std::path::{Path, PathBuf};
use std::process::Command;

const STALE: &str = r#"# yaml-language-server: $schema=../case.schema.json
about: Bless test corpus.   # header comment
spec: none
defaults: {level: must, profiles: v2}
cases:
  # a comment before the case
  - id: stale
    description: An unauthenticated write, then a write.
    expectation: Old expectations.
    steps:
      - write: {body: "m v=1 1", token: none}
        expect:
          status: 403                          # comment: status
          message: {equals: 'old message'}     # comment: equals
          json:
            code: {contains: forbidden}        # comment: contains
          headers:
            x-platform-error-code: {equals: unauthorized}   # comment: holds
      - write: {body: "m v=1 1"}
        expect:
          landed:              # comment: landed
            - m v=2 1
            - "m v=3 2"
      - write: {body: "m v=1 2"}
        expect: {landed: ["m v=9 9"]}   # comment: flow rows

  - id: implicit_status
    description: A line that does not parse, with no status stated.
    expectation: The implicit 204 no longer holds.
    steps:
      - write: {body: "m v="}   # comment: no expect
      - write: {body: "m v="}
        expect: {body: {matches: "^nothing$"}}   # comment: matches

  - id: accepted_alternative
    description: Main expectation fails but an alternative matches.
    expectation: Untouched.
    steps:
      - write: {body: "m v=1 1", token: none}
        expect: {status: 403}   # comment: alternative
        also_accept:
          - expect: {status: 401}
            verdict: info
            why: some servers say 401

  - id: holds
    description: Everything still matches.
    expectation: Untouched, byte for byte.
    steps:
      - write: {body: 'm v=1 1', token: none}
        expect:
          status: 401   # holds
          message: {contains: unauthorized}   # holds
"#;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_influx-conformance")
}

fn tmp() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bless-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("cases/v2")).expect("mkdir");
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .current_dir(dir)
        .args(["--cases", "cases", "--snapshots", "snapshots"])
        .args(args)
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A snapshot an older bless recorded for `v2/<file>.yaml::<id>`, of `steps` steps: the case
/// is not new, so bless only rewrites what no longer holds.
fn old_snapshot(dir: &Path, file: &str, id: &str, steps: usize) {
    let snaps = dir.join("snapshots/v2");
    std::fs::create_dir_all(&snaps).expect("mkdir");
    let body: String = (0..steps)
        .map(|i| format!("- request: old {i}\n"))
        .collect();
    std::fs::write(
        snaps.join(format!("v2__{file}__{id}.snap")),
        format!("---\nsource: cases/v2/{file}.yaml\nexpression: \"{id}\"\n---\nsteps:\n{body}"),
    )
    .expect("write snapshot");
}

/// Cases blessed before (their snapshots exist) whose expectations went stale.
#[test]
fn bless_rewrites_only_what_no_longer_holds() {
    let dir = tmp();
    let file = dir.join("cases/v2/bless.yaml");
    std::fs::write(&file, STALE).expect("write");
    old_snapshot(&dir, "bless", "stale", 3);
    old_snapshot(&dir, "bless", "implicit_status", 2);

    // --dry-run prints the diff and writes nothing.
    let (code, out) = run(&dir, &["bless", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("-          status: 403"), "{out}");
    assert!(out.contains("+          status: 401"), "{out}");
    assert!(out.contains("contains → equals"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), STALE);

    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    let blessed = std::fs::read_to_string(&file).expect("read");
    let want = STALE
        .replace(
            "status: 403                          # comment: status",
            "status: 401                          # comment: status",
        )
        .replace(
            "message: {equals: 'old message'}     # comment: equals",
            "message: {equals: \"unauthorized access\"}     # comment: equals",
        )
        .replace(
            "code: {contains: forbidden}        # comment: contains",
            "code: {equals: \"unauthorized\"}        # comment: contains",
        )
        .replace(
            "            - m v=2 1\n            - \"m v=3 2\"",
            "            - \"m v=1 1\"",
        )
        .replace(
            "expect: {landed: [\"m v=9 9\"]}   # comment: flow rows",
            "expect: {landed: [\"m v=1 1\", \"m v=1 2\"]}   # comment: flow rows",
        )
        .replace(
            "      - write: {body: \"m v=\"}   # comment: no expect\n",
            "      - write: {body: \"m v=\"}   # comment: no expect\n        expect: {status: 400}\n",
        )
        .replace(
            "expect: {body: {matches: \"^nothing$\"}}   # comment: matches",
            r#"expect: {status: 400, body: {equals: "{\"code\":\"invalid\",\"message\":\"unable to parse 'm v=': missing field value\"}"}}   # comment: matches"#,
        );
    assert_eq!(blessed, want, "bless output:\n{out}");
    assert!(
        out.contains("rewrote 8 matcher(s), added 0 expectation(s)"),
        "{out}"
    );
    assert!(
        std::fs::read_dir(dir.join("snapshots/v2"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 3,
        "{out}"
    );

    // The rewritten corpus reloads and passes; a second bless changes nothing.
    let (code, out) = run(&dir, &["run", "--quiet"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&dir, &["bless", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("+++"), "{out}");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rewrote 0 matcher(s)"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), blessed);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A case run in both profiles whose observations call for different rewrites is left alone,
/// and bless says so (exit code 1).
#[test]
fn profiles_that_disagree_are_not_rewritten() {
    let dir = tmp();
    let file = dir.join("cases/v2/both.yaml");
    let text = "about: a\nspec: s\ndefaults: {level: must, profiles: both}\ncases:\n  - id: differs\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=1 1\\nm v=\"}\n        expect: {status: 400, message: {equals: x}}   # stale\n";
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "not rewritten: v2/both.yaml::differs: the profiles observe different outcomes"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A case being written: requests, and expectations only where the author has an opinion.
const NEW: &str = r#"about: A case being written.
spec: none
defaults: {level: must, profiles: v2}
cases:
  - id: new_case
    description: Requests written, expectations not yet.
    expectation: Filled in by bless.
    steps:
      - write: {body: "m v=1 1"}
      # a line that does not parse
      - write:
          body: "m v="
          params: {precision: s}   # seconds
      - write: {body: "m v=2 2"}
        expect:
          landed: ["m v=1 1", "m v=2 2"]
      - landed: {}
      - query: {flux: "from(bucket: \"{bucket}\") |> range(start: 0)"}
      - query: {flux: "from(bucket: \"nope\") |> range(start: 0)"}
      - request: {path: "/api/v2/buckets/0000000000000000"}
      - write:
          body: |
            m v=
        expect:
          status: 400
          message:
            equals: >-
              an old message
              written over two lines
      - write: {body: "m v=3 3"}"#;

/// `NEW` after bless: status on every exchange, the error message on non-2xx answers, the
/// reads (`landed`, a query answering 200) left to the snapshot, the stale folded message
/// rewritten folded; the file still ends without a line break.
const NEW_BLESSED: &str = r#"about: A case being written.
spec: none
defaults: {level: must, profiles: v2}
cases:
  - id: new_case
    description: Requests written, expectations not yet.
    expectation: Filled in by bless.
    steps:
      - write: {body: "m v=1 1"}
        expect: {status: 204}
      # a line that does not parse
      - write:
          body: "m v="
          params: {precision: s}   # seconds
        expect:
          status: 400
          message: {equals: "unable to parse 'm v=': missing field value"}
      - write: {body: "m v=2 2"}
        expect:
          status: 204
          landed: ["m v=1 1", "m v=2 2"]
      - landed: {}
      - query: {flux: "from(bucket: \"{bucket}\") |> range(start: 0)"}
      - query: {flux: "from(bucket: \"nope\") |> range(start: 0)"}
        expect:
          status: 404
          message: {equals: "failed to initialize execute state: could not find bucket \"nope\""}
      - request: {path: "/api/v2/buckets/0000000000000000"}
        expect:
          status: 400
          message: {equals: "invalid ID"}
      - write:
          body: |
            m v=
        expect:
          status: 400
          message:
            equals: >-
              unable to parse 'm v=': missing field value
      - write: {body: "m v=3 3"}
        expect: {status: 204}"#;

/// A new case (no snapshot yet): bless fills in what its steps do not state, the dry run shows
/// it, the case then passes, and a second bless changes nothing.
#[test]
fn bless_fills_in_a_new_case() {
    let dir = tmp();
    let file = dir.join("cases/v2/new.yaml");
    std::fs::write(&file, NEW).expect("write");

    let (code, out) = run(&dir, &["bless", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+        expect: {status: 204}"), "{out}");
    assert!(
        out.contains(
            "bless: would rewrite 1 matcher(s), add 9 expectation(s) in 1 case(s) of 1 file(s); 1 snapshot(s) would be written"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), NEW);
    assert!(!dir.join("snapshots").exists(), "dry run wrote snapshots");

    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        NEW_BLESSED,
        "{out}"
    );
    for line in [
        "v2/new.yaml: new_case added step 1 status: 204",
        "v2/new.yaml: new_case added step 2 status: 400",
        "v2/new.yaml: new_case added step 2 message: {equals: \"unable to parse 'm v=': missing field value\"}",
        "v2/new.yaml: new_case added step 3 status: 204",
        "v2/new.yaml: new_case added step 7 message: {equals: \"invalid ID\"}",
        "v2/new.yaml: new_case step 8 message: equals",
        "v2/new.yaml: new_case added step 9 status: 204",
        "snapshot snapshots/v2/v2__new__new_case.snap",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert!(!out.contains("step 4"), "a read step was filled in:\n{out}");
    assert!(!out.contains("step 5"), "a read step was filled in:\n{out}");

    let (code, out) = run(&dir, &["run", "--quiet"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rewrote 0 matcher(s), added 0 expectation(s)"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), NEW_BLESSED);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A case its snapshot records is not new: its steps without expectations rely on the
/// implicit status, and bless leaves them alone unless `--fill` asks. A step appended to it
/// (past what the snapshot records) is new.
#[test]
fn recorded_cases_are_filled_in_only_when_asked() {
    let dir = tmp();
    let file = dir.join("cases/v2/old.yaml");
    let text = "about: a\nspec: s\ndefaults: {level: must, profiles: v2}\ncases:\n  - id: recorded\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=1 1\"}\n      - landed: {}\n        expect: {landed: [\"m v=1 1\"]}\n";
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    let blessed = text.replace(
        "      - write: {body: \"m v=1 1\"}\n",
        "      - write: {body: \"m v=1 1\"}\n        expect: {status: 204}\n",
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), blessed);

    // Recorded, then the author removes the status again: it is implicit, bless agrees.
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rewrote 0 matcher(s), added 0 expectation(s)"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);

    // A step appended: only it is filled in.
    let appended = format!("{text}      - write: {{body: \"m v=\"}}\n");
    std::fs::write(&file, &appended).expect("write");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("added 2 expectation(s)"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        format!("{text}      - write: {{body: \"m v=\"}}\n        expect:\n          status: 400\n          message: {{equals: \"unable to parse 'm v=': missing field value\"}}\n")
    );

    // --fill: every selected step.
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&dir, &["bless", "--fill", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("would rewrite 0 matcher(s), add 1 expectation(s)"),
        "{out}"
    );
    let (code, out) = run(&dir, &["bless", "--fill"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), blessed);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 503 no step expects is a target fault, not an observation: bless cannot fill it in, and
/// says so (exit code 1) instead of passing over it.
#[test]
fn a_fault_is_reported_not_blessed() {
    let dir = tmp();
    let file = dir.join("cases/v2/fault.yaml");
    let text = "about: a\nspec: s\ndefaults: {level: must, profiles: v2}\ncases:\n  - id: unavailable\n    description: d\n    expectation: e\n    setup: {fault: {status: 503, share: 1.0, retry_after: 7}}\n    steps:\n      - write: {body: \"m v=1 1\"}\n";
    std::fs::write(&file, text).expect("write");
    let (code, out) = run(&dir, &["bless"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("still failing: v2/fault.yaml::unavailable [v2]: target fault"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
    let _ = std::fs::remove_dir_all(&dir);
}
