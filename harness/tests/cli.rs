//! The real binary on a user's first day: `list | head` on a closed pipe, `show ID` as written,
//! the preflight against bad servers (one line, exit 2), repeated target faults collapsed to one
//! line, the progress bar only on a terminal, `report A.json B.json`, and an installed binary
//! that finds its cases from any directory.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_influx-conformance"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    // The flags under test come from the command line only.
    for (k, _) in std::env::vars() {
        if k.starts_with("INFLUX_CONFORMANCE_") {
            c.env_remove(k);
        }
    }
    c
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ic-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A small corpus of three writes.
const THREE_WRITES: &str = "about: three writes\nspec: v2.md §2\ncases:\n  - id: one\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=1 1\"}\n        expect: {status: 204}\n  - id: two\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=2 2\"}\n        expect: {status: 204}\n  - id: three\n    description: d\n    expectation: e\n    steps:\n      - write: {body: \"m v=3 3\"}\n        expect: {status: 204}\n";

fn corpus() -> PathBuf {
    let d = temp("cases");
    std::fs::write(d.join("w.yaml"), THREE_WRITES).expect("case file");
    d
}

#[test]
fn list_into_a_closed_pipe_ends_quietly() {
    let mut child = bin()
        .arg("list")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("one line");
    // The reader is gone (like `head -1`): the rest of the listing hits a closed pipe.
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(first.contains("::"), "{first}");
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn show_prints_the_case_as_written() {
    let out = bin()
        .args(["show", "v2/write_basics.yaml::single_point"])
        .output()
        .expect("show");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases/v2/write_basics.yaml");
    let source = std::fs::read_to_string(&file).expect("case file");
    let lines: Vec<&str> = source.lines().collect();
    let head = text.lines().next().unwrap_or("");
    assert!(head.contains("write_basics.yaml:"), "{head}");
    // Every numbered line is that line of the file, byte for byte.
    let mut shown = 0;
    for l in text.lines().skip(1) {
        let Some((n, rest)) = l.split_once(" | ") else {
            break;
        };
        let n: usize = n.trim().parse().expect("a line number");
        assert_eq!(rest, lines[n - 1], "line {n}");
        shown += 1;
    }
    assert!(shown >= 3, "{text}");
    assert!(text.contains("id: single_point"), "{text}");
    assert!(!text.contains("null"), "{text}");
    assert!(text.contains("# snapshot "), "{text}");
}

/// Runs the suite against `url`; returns (exit code, stdout, stderr).
fn run_against(url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let cases = corpus();
    let out = bin()
        .args([
            "run",
            "--quiet",
            "--url",
            url,
            "--token",
            "test-token",
            "--org",
            "o",
        ])
        .arg("--cases")
        .arg(&cases)
        .args(["--request-timeout", "3"])
        .args(extra)
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_line_error(url: &str, want: &str) {
    let (code, stdout, stderr) = run_against(url, &[]);
    assert_eq!(code, Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(want), "want {want:?} in {stderr}");
    assert!(stdout.is_empty(), "no case ran: {stdout}");
}

async fn server(orgs: ResponseTemplate, create: ResponseTemplate) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(path("/ping"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/orgs"))
        .respond_with(orgs)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/buckets"))
        .respond_with(create)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&s)
        .await;
    s
}

fn org() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(r#"{"orgs":[{"id":"0123456789abcdef","name":"o"}]}"#)
}

fn bucket() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_string(r#"{"id":"1111222233334444","name":"b"}"#)
}

#[test]
fn preflight_says_in_one_line_what_is_wrong() {
    // Nothing listens on port 1.
    one_line_error("http://127.0.0.1:1", "connection refused");
    one_line_error("https://127.0.0.1:1", "TLS");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let unauthorized = rt.block_on(server(
        ResponseTemplate::new(401)
            .set_body_string(r#"{"code":"unauthorized","message":"unauthorized access"}"#),
        bucket(),
    ));
    one_line_error(&unauthorized.uri(), "the token is not accepted");
    let no_org = rt.block_on(server(
        ResponseTemplate::new(200).set_body_string(r#"{"orgs":[]}"#),
        bucket(),
    ));
    one_line_error(&no_org.uri(), "org \"o\" not found");
    let read_only = rt.block_on(server(
        org(),
        ResponseTemplate::new(403)
            .set_body_string(r#"{"code":"forbidden","message":"insufficient permissions"}"#),
    ));
    one_line_error(&read_only.uri(), "no permission to create buckets");
    // A server that passes every check runs the cases; --skip-preflight skips the checks.
    let good = rt.block_on(server(org(), bucket()));
    let (code, stdout, _) = run_against(&good.uri(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    let (code, _, stderr) = run_against("http://127.0.0.1:1", &["--skip-preflight"]);
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn identical_target_faults_collapse_to_one_line() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s = rt.block_on(async {
        let s = server(org(), bucket()).await;
        Mock::given(path("/api/v2/write"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
            .mount(&s)
            .await;
        s
    });
    let (code, stdout, _) = run_against(&s.uri(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    let faults: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("answered 503") && !l.starts_with(' '))
        .collect();
    assert_eq!(faults.len(), 1, "{stdout}");
    assert!(faults[0].starts_with("ERROR ×3 on "), "{}", faults[0]);
    assert!(
        stdout.contains("cases: w.yaml::{one [v2], two [v2], three [v2]}"),
        "{stdout}"
    );
}

#[test]
fn the_progress_bar_is_for_terminals_only() {
    let cases = corpus();
    // Not a terminal: nothing on standard error, even with no delay.
    let out = bin()
        .env("INFLUX_CONFORMANCE_PROGRESS_DELAY_MS", "0")
        .args(["run", "--cases"])
        .arg(&cases)
        .args(["--snapshots"])
        .arg(temp("snapshots-pipe"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("/6"), "{err}");
    // A terminal (`script` gives the command a pseudo-terminal): the bar is drawn.
    let script = Path::new("/usr/bin/script");
    assert!(
        script.exists(),
        "util-linux's script is needed for a pseudo-terminal"
    );
    let cmd = format!(
        "INFLUX_CONFORMANCE_PROGRESS_DELAY_MS=0 {} run --cases {} --snapshots {}",
        env!("CARGO_BIN_EXE_influx-conformance"),
        cases.display(),
        temp("snapshots-tty").display()
    );
    let out = Command::new(script)
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .expect("script");
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(all.contains("0/6"), "{all}");
}

#[test]
fn report_renders_runs_side_by_side() {
    let dir = temp("report");
    let mut files = Vec::new();
    for (name, glob) in [("a", "v2/gzip.yaml::*"), ("b", "v2/write_basics.yaml::*")] {
        let json = dir.join(format!("{name}.json"));
        let status = bin()
            .args(["run", "--quiet", "--id", glob, "--report-json"])
            .arg(&json)
            .stdout(Stdio::null())
            .status()
            .expect("run");
        assert_eq!(status.code(), Some(0));
        files.push(json);
    }
    let md = dir.join("m.md");
    let html = dir.join("m.html");
    let status = bin()
        .arg("report")
        .args(&files)
        .arg("--report-md")
        .arg(&md)
        .arg("--report-html")
        .arg(&html)
        .status()
        .expect("report");
    assert_eq!(status.code(), Some(0));
    let md = std::fs::read_to_string(&md).expect("markdown");
    assert!(md.starts_with("# Conformance across servers"), "{md}");
    assert!(md.contains("| level | reference | reference |"), "{md}");
    let html = std::fs::read_to_string(&html).expect("html");
    assert!(html.contains("id=\"report-data\""));
    for external in ["<link", " src=", "@import", "url("] {
        assert!(!html.contains(external), "external asset: {external}");
    }
    // Without an output flag, the Markdown goes to standard output.
    let out = bin()
        .arg("report")
        .args(&files[..1])
        .output()
        .expect("report");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# Conformance report"));
    // A file that is not a report of this schema is a configuration error.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"schema_version":1}"#).expect("write");
    let out = bin().arg("report").arg(&bad).output().expect("report");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema_version 1"));
}

/// Installed the way the Python wheel installs it (`<prefix>/bin/` and the wheel's data in
/// `<prefix>/share/influx-conformance/`), the binary finds its cases from any directory; a
/// `./cases` directory, and then `--cases`, still win.
#[test]
fn an_installed_binary_finds_its_cases_from_any_directory() {
    let prefix = temp("prefix");
    std::fs::create_dir_all(prefix.join("bin")).expect("bin dir");
    let exe = prefix.join("bin").join("influx-conformance");
    let built = Path::new(env!("CARGO_BIN_EXE_influx-conformance"));
    if std::fs::hard_link(built, &exe).is_err() {
        std::fs::copy(built, &exe).expect("copy the binary");
    }
    let share = prefix.join("share").join("influx-conformance");
    std::fs::create_dir_all(share.join("snapshots")).expect("snapshots dir");
    std::fs::create_dir_all(share.join("cases")).expect("cases dir");
    std::fs::write(share.join("cases").join("w.yaml"), THREE_WRITES).expect("case file");
    let elsewhere = temp("elsewhere");
    let list = |cwd: &Path, extra: &[&str]| {
        let mut c = Command::new(&exe);
        c.arg("list").args(extra).current_dir(cwd);
        for (k, _) in std::env::vars() {
            if k.starts_with("INFLUX_CONFORMANCE_") {
                c.env_remove(k);
            }
        }
        let out = c.output().expect("list");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let installed = list(&elsewhere, &[]);
    // Three cases, each under both profiles.
    assert_eq!(installed.lines().count(), 6, "{installed}");
    assert!(installed.contains("w.yaml::one"), "{installed}");
    // A checkout's `./cases` wins over the installed data.
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let local = list(&repository, &[]);
    assert!(local.contains("write_basics.yaml::single_point"), "{local}");
    // And `--cases` over both.
    let flag = repository.join("cases");
    let explicit = list(&elsewhere, &["--cases", flag.to_str().expect("utf-8 path")]);
    assert!(
        explicit.contains("write_basics.yaml::single_point"),
        "{explicit}"
    );
    let _ = std::fs::remove_dir_all(&prefix);
    let _ = std::fs::remove_dir_all(&elsewhere);
}
