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

#[test]
fn bless_rewrites_only_what_no_longer_holds() {
    let dir = tmp();
    let file = dir.join("cases/v2/bless.yaml");
    std::fs::write(&file, STALE).expect("write");

    // --dry-run prints the diff and writes nothing.
    let (code, out) = run(&dir, &["bless", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("-          status: 403"), "{out}");
    assert!(out.contains("+          status: 401"), "{out}");
    assert!(out.contains("contains → equals"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), STALE);
    assert!(!dir.join("snapshots").exists(), "dry run wrote snapshots");

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
    assert!(out.contains("snapshot(s) written"), "{out}");
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
