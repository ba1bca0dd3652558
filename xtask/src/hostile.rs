//! `cargo xtask hostile`: the release reference served for real and tried as a hostile client
//! would, class by class (issue 13). Each class runs on a fresh server; afterwards the process
//! must still be alive and answer `/health`, and the class's own rule must hold (nothing
//! granted that 2.7 refuses, memory within its bound, connections closed in time). Prints, per
//! class, the inputs tried, whether the process survived, its peak resident memory (VmHWM)
//! and what was checked; exits non-zero when any class fails.
//!
//! Raw sockets on 127.0.0.1 with `Connection: close` requests, so what is sent is exactly what
//! the class means (half-sent heads, lying lengths, idle connections).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::servers::{self, Server};

type Result<T> = std::result::Result<T, String>;

/// One answer read whole (the server closes after it).
struct Answer {
    status: u16,
    body: String,
}

/// Where a served reference listens (cloneable into threads).
#[derive(Clone)]
struct Target {
    addr: String,
}

impl Target {
    fn of(server: &Server) -> Self {
        Self {
            addr: server.url.trim_start_matches("http://").to_string(),
        }
    }
}

fn addr(server: &Target) -> String {
    server.addr.clone()
}

/// Sends `head` (without the blank line), then `body`; reads the answer until the server
/// closes, within `timeout`.
fn send(server: &Target, head: &str, body: &[u8], timeout: Duration) -> Result<Answer> {
    let mut s = TcpStream::connect(addr(server)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    let head = format!(
        "{head}\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // A server may answer (413) and close before the body is all sent: read what it said.
    let _ = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no answer to {:?}", head.lines().next().unwrap_or("")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok(Answer { status, body })
}

fn post(server: &Target, path: &str, token: Option<&str>, body: &[u8]) -> Result<Answer> {
    let auth = token.map_or(String::new(), |t| format!("\r\nAuthorization: Token {t}"));
    send(
        server,
        &format!("POST {path} HTTP/1.1{auth}"),
        body,
        Duration::from_secs(60),
    )
}

fn request(server: &Target, method: &str, path: &str, token: &str, body: &[u8]) -> Result<Answer> {
    send(
        server,
        &format!("{method} {path} HTTP/1.1\r\nAuthorization: Token {token}\r\nContent-Type: application/json"),
        body,
        Duration::from_secs(60),
    )
}

fn healthy(server: &Target) -> bool {
    send(server, "GET /health HTTP/1.1", b"", Duration::from_secs(5)).is_ok_and(|a| a.status == 200)
}

fn peak_rss(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}/status")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| !s.contains("State:\tZ"))
}

/// The outcome of one class.
struct Outcome {
    class: &'static str,
    inputs: usize,
    survived: bool,
    peak: Option<u64>,
    /// What the class's rule found (empty: held).
    broken: Vec<String>,
    note: String,
}

type Class = fn(&Target, &mut Vec<String>) -> Result<(usize, String)>;

/// A token of the operator's org with `permissions` (JSON), made through the API.
fn make_token(server: &Target, org_id: &str, permissions: &str, status: &str) -> Result<String> {
    let body = format!(r#"{{"orgID":"{org_id}","status":"{status}","permissions":{permissions}}}"#);
    let a = request(
        server,
        "POST",
        "/api/v2/authorizations",
        "my-token",
        body.as_bytes(),
    )?;
    if a.status != 201 {
        return Err(format!("cannot make a token: {} {}", a.status, a.body));
    }
    json_str(&a.body, "token").ok_or_else(|| "no token in the answer".into())
}

fn json_str(body: &str, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get(key)?.as_str().map(str::to_string)
}

fn ids(server: &Target) -> Result<(String, String)> {
    let a = request(
        server,
        "GET",
        "/api/v2/buckets?name=my-bucket",
        "my-token",
        b"",
    )?;
    let v: serde_json::Value =
        serde_json::from_str(&a.body).map_err(|e| format!("buckets: {e}: {}", a.body))?;
    let b = &v["buckets"][0];
    match (b["orgID"].as_str(), b["id"].as_str()) {
        (Some(o), Some(b)) => Ok((o.to_string(), b.to_string())),
        _ => Err(format!("no bucket in {}", a.body)),
    }
}

fn nesting(server: &Target, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let mut n = 0;
    let paths: [(&str, Option<&str>); 5] = [
        ("/api/v2/setup", None),
        ("/api/v2/buckets", Some("my-token")),
        ("/api/v2/orgs", Some("my-token")),
        ("/api/v2/authorizations", Some("my-token")),
        (
            "/api/v2/delete?org=my-org&bucket=my-bucket",
            Some("my-token"),
        ),
    ];
    for (path, token) in paths {
        for depth in [10_001, 100_000, 1_000_000] {
            for open in ["[", "{\"a\":"] {
                let body = open.repeat(depth);
                let a = post(server, path, token, body.as_bytes())?;
                n += 1;
                if a.status < 400 {
                    broken.push(format!("{path} depth {depth}: {}", a.status));
                }
            }
        }
    }
    let deep = |s: &str, k: usize| s.repeat(k);
    let flux = [
        format!("{}1{}", deep("(", 200_000), deep(")", 200_000)),
        format!("{}true", deep("not ", 200_000)),
        format!("{}1", deep("-", 200_000)),
        format!("{}1{}", deep("[", 200_000), deep("]", 200_000)),
        format!("{}1{}", deep("{a: ", 100_000), deep("}", 100_000)),
        "f = (n) => f(n: n + 1)\nf(n: 0)".to_string(),
        format!("x = 1{}", deep(" + 1", 300_000)),
        format!(
            "from(bucket: \"my-bucket\"){}",
            deep(" |> range(start: 0)", 50_000)
        ),
    ];
    for script in flux {
        let body = serde_json::json!({"query": script}).to_string();
        let a = post(
            server,
            "/api/v2/query?org=my-org",
            Some("my-token"),
            body.as_bytes(),
        )?;
        n += 1;
        if a.status < 400 {
            broken.push(format!("flux of {} bytes: {}", script.len(), a.status));
        }
    }
    for predicate in [
        format!("{}a=1{}", deep("(", 200_000), deep(")", 200_000)),
        vec!["a=1"; 200_000].join(" and "),
        format!("a={}1{}", deep("-(", 100_000), deep(")", 100_000)),
    ] {
        let body = serde_json::json!({
            "start": "1970-01-01T00:00:00Z", "stop": "2100-01-01T00:00:00Z", "predicate": predicate
        })
        .to_string();
        let a = post(
            server,
            "/api/v2/delete?org=my-org&bucket=my-bucket",
            Some("my-token"),
            body.as_bytes(),
        )?;
        n += 1;
        if a.status != 400 {
            broken.push(format!("delete predicate: {}", a.status));
        }
    }
    Ok((
        n,
        "JSON, Flux and predicates nested 10^4 to 10^6 deep: 4xx".into(),
    ))
}

fn authorization(server: &Target, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let (org, bucket) = ids(server)?;
    let read = format!(r#"[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}"}}}}]"#);
    let write =
        format!(r#"[{{"action":"write","resource":{{"type":"buckets","orgID":"{org}"}}}}]"#);
    let auth_writer =
        format!(r#"[{{"action":"write","resource":{{"type":"authorizations","orgID":"{org}"}}}}]"#);
    let ro = make_token(server, &org, &read, "active")?;
    let wo = make_token(server, &org, &write, "active")?;
    let aw = make_token(server, &org, &auth_writer, "active")?;
    let all = format!(
        r#"[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}"}}}},{{"action":"write","resource":{{"type":"authorizations","orgID":"{org}"}}}}]"#
    );
    let sleeper = make_token(server, &org, &all, "inactive")?;
    let op_id = {
        let a = request(server, "GET", "/api/v2/authorizations", "my-token", b"")?;
        let v: serde_json::Value = serde_json::from_str(&a.body).map_err(|e| e.to_string())?;
        v["authorizations"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["token"] == "my-token"))
            .and_then(|x| x["id"].as_str())
            .map(str::to_string)
            .ok_or("no operator token listed to the operator")?
    };
    let mut n = 0;
    let mut refuse = |what: &str, a: Result<Answer>, granted: &dyn Fn(&Answer) -> bool| {
        n += 1;
        match a {
            Ok(a) if granted(&a) => broken.push(format!(
                "{what}: granted ({} {})",
                a.status,
                &a.body[..a.body.len().min(120)]
            )),
            Ok(_) => {}
            Err(e) => broken.push(format!("{what}: {e}")),
        }
    };
    for (name, token) in [
        ("read-only", &ro),
        ("write-only", &wo),
        ("inactive", &sleeper),
    ] {
        refuse(
            &format!("{name} lists the operator token"),
            request(server, "GET", "/api/v2/authorizations", token, b""),
            &|a| a.body.contains("my-token"),
        );
        for method in ["GET", "PATCH", "DELETE"] {
            refuse(
                &format!("{name} {method}s the operator token"),
                request(
                    server,
                    method,
                    &format!("/api/v2/authorizations/{op_id}"),
                    token,
                    br#"{"status":"inactive"}"#,
                ),
                &|a| a.status < 300,
            );
        }
    }
    let global = r#"[{"action":"write","resource":{"type":"buckets"}},{"action":"write","resource":{"type":"orgs"}}]"#;
    refuse(
        "write:authorizations mints global permissions",
        request(
            server,
            "POST",
            "/api/v2/authorizations",
            &aw,
            format!(r#"{{"orgID":"{org}","permissions":{global}}}"#).as_bytes(),
        ),
        &|a| a.status < 300,
    );
    refuse(
        "an inactive token re-activates itself",
        request(server, "GET", "/api/v2/authorizations", &sleeper, b""),
        &|a| a.body.contains(&sleeper),
    );
    refuse(
        "an inactive token reads through Flux",
        request(
            server,
            "POST",
            "/api/v2/query?org=my-org",
            &sleeper,
            br#"{"query":"from(bucket: \"my-bucket\") |> range(start: 0)"}"#,
        ),
        &|a| a.status == 200,
    );
    refuse(
        "an inactive token writes",
        post(
            server,
            "/api/v2/write?org=my-org&bucket=my-bucket",
            Some(&sleeper),
            b"m v=1",
        ),
        &|a| a.status < 300,
    );
    refuse(
        "a write-only token reads the bucket",
        request(
            server,
            "GET",
            &format!("/api/v2/buckets/{bucket}"),
            &wo,
            b"",
        ),
        &|a| a.status < 300,
    );
    Ok((
        n,
        "token takeover, escalation and inactive tokens: all refused".into(),
    ))
}

fn secrets(bin: &Path, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let running = servers::start_reference(bin, &[])?;
        let server = Target::of(&running);
        let (org, _) = ids(&server)?;
        let read =
            format!(r#"[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}"}}}}]"#);
        tokens.push(make_token(&server, &org, &read, "active")?);
        let mut s = TcpStream::connect(addr(&server)).map_err(|e| e.to_string())?;
        s.write_all(b"POST /api/v2/signin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic bXktdXNlcjpteS1wYXNzd29yZA==\r\nContent-Length: 0\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let cookie = out
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("set-cookie:")
                    .then(|| l.to_string())
            })
            .ok_or("no session cookie")?;
        tokens.push(cookie);
    }
    if tokens[0] == tokens[2] || tokens[1] == tokens[3] {
        broken.push("a token or session key repeats across restarts".into());
    }
    Ok((4, "tokens and session keys of two starts differ".into()))
}

fn query_budget(server: &Target, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let (org, _) = ids(server)?;
    let read = format!(r#"[{{"action":"read","resource":{{"type":"buckets","orgID":"{org}"}}}}]"#);
    let ro = make_token(server, &org, &read, "active")?;
    let body: String = (0..1000)
        .map(|i| format!("m v={i} {}\n", i * 1_000_000_000_000i64))
        .collect();
    post(
        server,
        "/api/v2/write?org=my-org&bucket=my-bucket",
        Some("my-token"),
        body.as_bytes(),
    )?;
    let scripts = [
        "from(bucket: \"my-bucket\") |> range(start: 0) |> aggregateWindow(every: 1ns, fn: mean)",
        "from(bucket: \"my-bucket\") |> range(start: 0) |> aggregateWindow(every: 1s, fn: mean)",
    ];
    let mut n = 0;
    for script in scripts {
        let target = server.clone();
        let ro = ro.clone();
        let q = std::thread::spawn(move || {
            let start = Instant::now();
            let s = target;
            let a = request(
                &s,
                "POST",
                "/api/v2/query?org=my-org",
                &ro,
                serde_json::json!({ "query": script })
                    .to_string()
                    .as_bytes(),
            );
            (a.map(|a| a.status), start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        let t = Instant::now();
        if !healthy(server) || t.elapsed() > Duration::from_secs(2) {
            broken.push(format!("/health waited {:?} during a query", t.elapsed()));
        }
        let t = Instant::now();
        let w = post(
            server,
            "/api/v2/write?org=my-org&bucket=my-bucket",
            Some("my-token"),
            b"m v=1 1",
        );
        if !w.as_ref().is_ok_and(|a| a.status == 204) || t.elapsed() > Duration::from_secs(2) {
            broken.push(format!("a write waited {:?} during a query", t.elapsed()));
        }
        let (status, took) = q.join().map_err(|_| "query thread panicked")?;
        n += 3;
        match status {
            Ok(s) if s >= 400 => {}
            Ok(s) => broken.push(format!("{script}: {s} after {took:?} (no budget)")),
            Err(e) => broken.push(format!("{script}: {e}")),
        }
    }
    Ok((n, "windows of 1ns/1s over 55 years: error within the budget; health and writes served meanwhile".into()))
}

/// Both flavors, the cloud one with its write-rate quota and request size lifted and no apply
/// delay (what is measured is the write, not the plan).
const FLAVORS: [(&str, &[&str]); 2] = [
    ("v2", &[]),
    (
        "cloud",
        &[
            "--flavor",
            "cloud",
            "--plan",
            "usage-based",
            "--write-rate-bytes",
            "100000000000",
            "--max-request-bytes",
            "400000000",
            "--apply-delay",
            "0s",
        ],
    ),
];

/// Most resident bytes a distinct (series, field) pair of a write may add, stored and in
/// flight (its index entries, its values' head, its column while grouped: ~1.2 KiB measured).
const BYTES_PER_PAIR: usize = 2048;

/// Most resident bytes one tag or field of a single line may add while it is parsed and
/// grouped (~250-560 B measured: its spans, its parsed form, vectors grown by doubling).
const BYTES_PER_ITEM: usize = 1024;

/// Bodies whose shape, not size, is hostile: many field keys in one series (a new key on each
/// line, within one chunk and cycled past it) and across a few series, and one line of 100,000
/// tags or fields. Each must be answered within 10 s (204 for the first three, any answer
/// below 500 for the long lines: v2 refuses a key over 65,535 bytes) with the peak within 3×
/// the body plus [`BYTES_PER_PAIR`] a distinct pair and [`BYTES_PER_ITEM`] a tag or field of
/// the long line. Grouping once reserved points × keys for such a series (8.7 GB for a 700 KB
/// body) and searched its columns one by one, and the parser sorted tags by insertion and
/// searched them one by one (each minutes).
fn write_shapes(
    bin: &Path,
    broken: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<(usize, String)> {
    let lines = |n: usize, line: &dyn Fn(usize) -> String| -> Vec<u8> {
        (0..n).flat_map(|i| line(i).into_bytes()).collect()
    };
    let long_line = |head: &str, sep: &str, tail: &str| -> Vec<u8> {
        let items: Vec<String> = (0..100_000).map(|i| format!("a{i}=1")).collect();
        format!("{head}{}{tail}\n", items.join(sep)).into_bytes()
    };
    // (shape, body, distinct pairs, items of its long line)
    let shapes: [(&str, Vec<u8>, usize, usize); 5] = [
        (
            "one series, a new key a line",
            lines(1 << 16, &|i| format!("m f{i}=1\n")),
            1 << 16,
            0,
        ),
        (
            "one series, 70,000 keys cycled over 300,000 lines",
            lines(300_000, &|i| format!("m f{}=1 {i}\n", i % 70_000)),
            70_000,
            0,
        ),
        (
            "7 series, a new key a line",
            lines(1 << 16, &|i| format!("m,t={} f{i}=1\n", i % 7)),
            1 << 16,
            0,
        ),
        (
            "a line of 100,000 tags",
            long_line("m,", ",", " f=1"),
            1,
            100_000,
        ),
        (
            "a line of 100,000 fields",
            long_line("m ", ",", ""),
            100_000,
            100_000,
        ),
    ];
    let mut n = 0;
    for (flavor, args) in FLAVORS {
        for (shape, body, pairs, items) in &shapes {
            let running = servers::start_reference(bin, args)?;
            let server = Target::of(&running);
            let base = peak_rss(running.pid()).unwrap_or(0);
            let started = Instant::now();
            let a = send(
                &server,
                "POST /api/v2/write?org=my-org&bucket=my-bucket HTTP/1.1\r\nAuthorization: Token my-token",
                body,
                Duration::from_secs(30),
            )?;
            // A later request applies the queued cloud write.
            let _ = request(&server, "GET", "/api/v2/buckets", "my-token", b"");
            let took = started.elapsed();
            n += 1;
            let grown = peak_rss(running.pid()).unwrap_or(0).saturating_sub(base);
            let bound = 3 * body.len() + BYTES_PER_PAIR * pairs + BYTES_PER_ITEM * items;
            let answered = if *items > 0 {
                a.status > 0 && a.status < 500
            } else {
                a.status == 204
            };
            let (per, what) = if *items > 0 {
                (*items, "an item")
            } else {
                (*pairs, "a pair")
            };
            notes.push(format!(
                "{flavor} {shape}: {} in {:.2}s, peak +{} MiB ({:.0} B {what}; bound {} MiB)",
                a.status,
                took.as_secs_f64(),
                grown >> 20,
                grown as f64 / per as f64,
                bound >> 20
            ));
            if !answered || took > Duration::from_secs(10) || grown > bound as u64 {
                broken.push(format!(
                    "{flavor} {shape}: {} in {:.2}s, peak +{} MiB over a bound of {} MiB",
                    a.status,
                    took.as_secs_f64(),
                    grown >> 20,
                    bound >> 20
                ));
            }
        }
    }
    Ok((
        n,
        "many keys per series, long lines: answered within 10s, peak within 3x the body + 2 KiB a pair + 1 KiB an item of a long line".into(),
    ))
}

fn write_memory(
    bin: &Path,
    broken: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<(usize, String)> {
    let line = b"cpu,host=a usage=0.5\n";
    let body: Vec<u8> = line.repeat((128 << 20) / line.len());
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&body).map_err(|e| e.to_string())?;
        e.finish().map_err(|e| e.to_string())?
    };
    let mut n = 0;
    for (flavor, args) in FLAVORS {
        for gzip in [false, true] {
            let running = servers::start_reference(bin, args)?;
            let server = Target::of(&running);
            let base = peak_rss(running.pid()).unwrap_or(0);
            let (head, payload) = if gzip {
                ("POST /api/v2/write?org=my-org&bucket=my-bucket HTTP/1.1\r\nAuthorization: Token my-token\r\nContent-Encoding: gzip", &gz)
            } else {
                ("POST /api/v2/write?org=my-org&bucket=my-bucket HTTP/1.1\r\nAuthorization: Token my-token", &body)
            };
            let a = send(&server, head, payload, Duration::from_secs(120))?;
            // A later request applies the queued cloud write.
            let _ = request(&server, "GET", "/api/v2/buckets", "my-token", b"");
            n += 1;
            let peak = peak_rss(running.pid()).unwrap_or(0);
            let ratio = peak.saturating_sub(base) as f64 / body.len() as f64;
            notes.push(format!(
                "{flavor} {}: {} in, peak RSS {} MiB ({ratio:.2}x the decompressed body above the idle server)",
                if gzip { "gzip" } else { "plain" },
                a.status,
                peak >> 20
            ));
            if a.status != 204 || ratio > 3.0 {
                broken.push(format!(
                    "{flavor} gzip={gzip}: {} with {ratio:.2}x",
                    a.status
                ));
            }
        }
    }
    Ok((
        n,
        "128 MiB of line protocol, plain and gzipped: peak within 3x".into(),
    ))
}

fn buffering(server: &Target, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let mut n = 0;
    // A declared gigabyte: refused before it is read.
    let t = Instant::now();
    let mut s = TcpStream::connect(addr(server)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(b"POST /api/v2/setup HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n{")
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 256];
    let got = s.read(&mut buf).unwrap_or(0);
    n += 1;
    if !String::from_utf8_lossy(&buf[..got]).starts_with("HTTP/1.1 413")
        || t.elapsed() > Duration::from_secs(5)
    {
        broken.push("a declared 1 GiB setup body was not refused at once".into());
    }
    // A chunked body past the cap: cut at the cap.
    let mut s = TcpStream::connect(addr(server)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(b"POST /api/v2/signin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "x".repeat(1 << 20));
    for _ in 0..64 {
        if s.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    n += 1;
    for (path, token) in [
        ("/api/v2/setup", None),
        ("/api/v2/buckets", Some("my-token")),
    ] {
        let big = vec![b' '; 8 << 20];
        let a = post(server, path, token, &big)?;
        n += 1;
        if a.status != 413 {
            broken.push(format!("{path} read 8 MiB of JSON: {}", a.status));
        }
    }
    Ok((
        n,
        "public and JSON routes: 413 past 4 MiB, unread when declared".into(),
    ))
}

fn connections(bin: &Path, broken: &mut Vec<String>) -> Result<(usize, String)> {
    let running = servers::start_reference(bin, &["--http-max-connections", "512"])?;
    let server = Target::of(&running);
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        match TcpStream::connect(addr(&server)) {
            Ok(s) => idle.push(s),
            Err(_) => break,
        }
    }
    let t = Instant::now();
    if !healthy(&server) || t.elapsed() > Duration::from_secs(3) {
        broken.push(format!(
            "/health after 1,100 idle connections: {:?}",
            t.elapsed()
        ));
    }
    // A request half-sent, then SIGTERM: the process ends within its bound.
    let mut half = TcpStream::connect(addr(&server)).map_err(|e| e.to_string())?;
    let _ = half
        .write_all(b"POST /api/v2/write HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nm v=");
    let pid = running.pid();
    let t = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    while alive(pid) && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        broken.push("SIGTERM with a request half-sent did not end the process in 10 s".into());
    } else if t.elapsed() > Duration::from_secs(4) {
        broken.push(format!("SIGTERM took {:?}", t.elapsed()));
    }
    drop(idle);
    drop(running);
    Ok((
        1_102,
        "1,100 idle connections, then /health; SIGTERM with a request half-sent".into(),
    ))
}

pub fn run(root: &Path, target_dir: &Path) -> Result<bool> {
    eprintln!("building the reference (release)");
    let bin = crate::build_release_reference(root, target_dir)?;
    let mut outcomes = Vec::new();
    let per_server: [(&'static str, Class); 4] = [
        ("nesting", nesting),
        ("authorization", authorization),
        ("query budget", query_budget),
        ("body caps", buffering),
    ];
    for (class, f) in per_server {
        let running = servers::start_reference(&bin, &[])?;
        let server = Target::of(&running);
        let mut broken = Vec::new();
        let (inputs, note) = f(&server, &mut broken).unwrap_or_else(|e| {
            broken.push(e);
            (0, String::new())
        });
        let survived = alive(running.pid()) && healthy(&server);
        outcomes.push(Outcome {
            class,
            inputs,
            survived,
            peak: peak_rss(running.pid()),
            broken,
            note,
        });
    }
    // Classes that start their own servers; the last two note each input's peak.
    type OwnServers = fn(&Path, &mut Vec<String>, &mut Vec<String>) -> Result<(usize, String)>;
    let mut notes = Vec::new();
    for (class, f) in [
        (
            "secrets",
            (|bin, broken, _| secrets(bin, broken)) as OwnServers,
        ),
        ("connections", |bin, broken, _| connections(bin, broken)),
        ("write memory", write_memory),
        ("write shapes", write_shapes),
    ] {
        let mut broken = Vec::new();
        let mut class_notes = Vec::new();
        let (inputs, note) = f(&bin, &mut broken, &mut class_notes).unwrap_or_else(|e| {
            broken.push(e);
            (0, String::new())
        });
        notes.extend(class_notes.into_iter().map(|n| (class, n)));
        outcomes.push(Outcome {
            class,
            inputs,
            survived: true,
            peak: None,
            broken,
            note,
        });
    }

    println!(
        "{:<14} {:>7}  {:<9} {:>10}  checked",
        "class", "inputs", "survived", "peak RSS"
    );
    let mut ok = true;
    for o in &outcomes {
        let held = o.survived && o.broken.is_empty();
        ok &= held;
        println!(
            "{:<14} {:>7}  {:<9} {:>10}  {}{}",
            o.class,
            o.inputs,
            if o.survived { "yes" } else { "NO" },
            o.peak
                .map_or("-".to_string(), |p| format!("{} MiB", p >> 20)),
            o.note,
            if held { "" } else { "  ** FAILED **" }
        );
        for b in &o.broken {
            println!("    - {b}");
        }
    }
    for (class, n) in notes {
        println!("  {class}: {n}");
    }
    Ok(ok)
}
