//! A step → the HTTP request it sends, the same for every target: the write, query, delete
//! and free-form request steps with their defaults (org, bucket, the operator token), the
//! placeholders (`{org}`, `{bucket_id}`, `{token}`, `{now_s-60}`, ...), parameter overrides and
//! gzip; and the `curl` line that reproduces a request (tokens as `$INFLUX_TOKEN`).

use crate::case::{Step, WriteApi};
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, HttpRequest};
use crate::server::adapter::WriteAdapter;
use crate::server::Context;

fn template(s: &str, ctx: &Context, bucket: &str, token: &str, now: i64) -> String {
    // Every placeholder starts with `{`: a text without one (most generated bodies) is
    // returned as it is instead of being copied once per placeholder.
    if !s.contains('{') {
        return s.to_string();
    }
    // A text whose every `{` opens a `{now_<unit><sign>` offset (a generated body) holds none
    // of the named placeholders below: only the offsets are filled.
    if only_now_offsets(s) {
        return now_offsets(s, now);
    }
    template_in_full(s, ctx, bucket, token, now)
}

/// Every placeholder filled, one after the other (what `template` does past its shortcuts).
fn template_in_full(s: &str, ctx: &Context, bucket: &str, token: &str, now: i64) -> String {
    let b = ctx.bucket(Some(bucket));
    let mut s = s.to_string();
    // The placeholders are replaced one after the other (a value may hold the next one); a
    // placeholder that is not there costs a search, not a copy of the text.
    let mut replace = |placeholder: &str, value: &dyn Fn() -> String| {
        if s.contains(placeholder) {
            s = s.replace(placeholder, &value());
        }
    };
    for (name, id) in &ctx.schemas {
        replace(&format!("{{schema_id:{name}}}"), &|| id.clone());
    }
    // A setup bucket by its logical name: `{bucket_id:other}`, `{bucket:other}`.
    for (logical, named) in &ctx.buckets {
        replace(&format!("{{bucket_id:{logical}}}"), &|| named.id.clone());
        replace(&format!("{{bucket:{logical}}}"), &|| named.name.clone());
    }
    replace("{org}", &|| ctx.org.clone());
    replace("{org_id}", &|| ctx.org_id.clone());
    replace("{bucket}", &|| {
        b.map(|b| b.name.as_str()).unwrap_or(bucket).to_string()
    });
    replace("{bucket_id}", &|| {
        b.map(|b| b.id.as_str()).unwrap_or("").to_string()
    });
    replace("{token}", &|| token.to_string());
    replace("{now_ns}", &|| now.to_string());
    replace("{now_us}", &|| (now / 1_000).to_string());
    replace("{now_ms}", &|| (now / 1_000_000).to_string());
    replace("{now_s}", &|| (now / 1_000_000_000).to_string());
    now_offsets(&s, now)
}

/// Whether every `{` in `s` starts `{now_ns`, `{now_us`, `{now_ms` or `{now_s` followed by a
/// sign: no other placeholder (`{org}`, `{now_s}`, `{schema_id:m}`, ...) can be in it.
fn only_now_offsets(s: &str) -> bool {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == b'{').map(|i| from + i) {
        let rest = &b[i + 1..];
        let unit = match rest {
            [b'n', b'o', b'w', b'_', b'n' | b'u' | b'm', b's', ..] => 6,
            [b'n', b'o', b'w', b'_', b's', ..] => 5,
            _ => return false,
        };
        if !matches!(rest.get(unit), Some(b'+' | b'-')) {
            return false;
        }
        from = i + 1;
    }
    true
}

/// The `{now_<unit><offset>}` placeholder.
pub const NOW_OFFSET_PATTERN: &str = r"\{now_(ns|us|ms|s)([+-][0-9]{1,19})\}";

/// The request builder's patterns compile (the CLI checks this before it runs anything).
pub fn check_patterns() -> Result<(), crate::Error> {
    regex::Regex::new(NOW_OFFSET_PATTERN)
        .map(|_| ())
        .map_err(|e| {
            crate::Error::Config(format!(
                "the {{now_...}} placeholder pattern does not compile: {e}"
            ))
        })
}

/// `{now_s-3600}`, `{now_ms+5}`, ...: the server's time in that unit plus an offset in the same
/// unit (generated cases state timestamps relative to "now", so they replay on a wall clock).
/// Finds what [`NOW_OFFSET_PATTERN`] matches, left to right, without the regex engine (a
/// generated body holds one per point; a test checks both agree).
fn now_offsets(s: &str, now: i64) -> String {
    const OPEN: &str = "{now_";
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    // Each `{` is found with one byte search and the rest compared in place (a substring
    // searcher for `{now_` was built per body and stepped through every byte of it).
    while let Some(at) = s[from..].find('{').map(|i| from + i) {
        let Some((len, unit, offset)) = s[at..].strip_prefix(OPEN).and_then(now_offset_at) else {
            from = at + 1;
            continue;
        };
        if out.capacity() == 0 {
            out.reserve(s.len() + 8);
        }
        let end = at + OPEN.len() + len;
        out.push_str(&s[copied..at]);
        match offset.parse::<i64>() {
            Ok(off) => out.push_str(itoa::Buffer::new().format((now / unit).saturating_add(off))),
            Err(_) => out.push_str(&s[at..end]),
        }
        copied = end;
        from = end;
    }
    if copied == 0 {
        return s.to_string();
    }
    out.push_str(&s[copied..]);
    out
}

/// After `{now_`: `(ns|us|ms|s)([+-][0-9]{1,19})}` → (bytes matched, the unit in ns, the
/// signed offset's text).
fn now_offset_at(rest: &str) -> Option<(usize, i64, &str)> {
    let b = rest.as_bytes();
    let (unit, n) = match b {
        [b'n', b's', ..] => (1, 2),
        [b'u', b's', ..] => (1_000, 2),
        [b'm', b's', ..] => (1_000_000, 2),
        [b's', ..] => (1_000_000_000, 1),
        _ => return None,
    };
    if !matches!(b.get(n), Some(b'+' | b'-')) {
        return None;
    }
    let digits = b[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=19).contains(&digits) || b.get(n + 1 + digits) != Some(&b'}') {
        return None;
    }
    Some((n + 2 + digits, unit, &rest[n..n + 1 + digits]))
}

fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn apply_overrides(
    params: &mut Vec<(String, String)>,
    overrides: &std::collections::BTreeMap<String, Option<String>>,
    t: &dyn Fn(&str) -> String,
) {
    for (k, v) in overrides {
        match v {
            None => params.retain(|(pk, _)| pk != k),
            Some(v) => {
                let v = t(v);
                match params.iter_mut().find(|(pk, _)| pk == k) {
                    Some(slot) => slot.1 = v,
                    None => params.push((k.clone(), v)),
                }
            }
        }
    }
}

/// The HTTP request of a step (`None` for steps that are not requests).
pub fn build_request(
    step: &Step,
    ctx: &Context,
    adapter: WriteAdapter,
    case_dir: &std::path::Path,
    now: i64,
) -> Result<Option<HttpRequest>, Fault> {
    let token_of = |name: &Option<String>| -> Option<String> {
        match name.as_deref().unwrap_or("operator") {
            "none" => None,
            n => ctx.tokens.get(n).cloned(),
        }
    };
    if let Some(w) = &step.write {
        let logical = w
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let bucket = ctx
            .bucket(Some(&logical))
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let token = token_of(&w.token);
        // `{token}` in params or headers is the step's token, or the operator's when the step
        // sends none (so a case can move the credential elsewhere, e.g. `p={token}`).
        let tok = token
            .clone()
            .or_else(|| ctx.tokens.get("operator").cloned())
            .unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let api = w.api.unwrap_or(ctx.native_write);
        // A v2 step through the v1 adapter goes to `/write` (a v3 step never changes endpoint).
        let v1 = api == WriteApi::V1 || (api == WriteApi::V2 && adapter == WriteAdapter::V1);
        let mut params = if v1 || api == WriteApi::V3 {
            vec![("db".to_string(), bucket.clone())]
        } else {
            vec![
                ("org".to_string(), ctx.org.clone()),
                ("bucket".to_string(), bucket.clone()),
            ]
        };
        let mut overrides = w.params.clone();
        if v1 && api == WriteApi::V2 {
            // A v2 step through the v1 adapter: org and bucket have no v1 meaning.
            overrides.remove("org");
            if let Some(b) = overrides.remove("bucket") {
                overrides.insert("db".into(), b);
            }
        }
        apply_overrides(&mut params, &overrides, &t);
        let path = if api == WriteApi::V3 {
            "/api/v3/write_lp"
        } else if v1 {
            "/write"
        } else {
            "/api/v2/write"
        };
        let qs = query_string(&params);
        let mut body = if let Some(b) = &w.body {
            t(b).into_bytes()
        } else if let Some(f) = &w.body_file {
            let p = case_dir.join(f);
            std::fs::read(&p).map_err(|e| {
                Fault::new(
                    FaultKind::Setup,
                    format!("cannot read body_file {}: {e}", p.display()),
                )
            })?
        } else if let Some(h) = &w.body_hex {
            crate::case::decode_hex(h).unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut headers = Vec::new();
        if let Some(a) = &w.authorization {
            headers.push(("Authorization".to_string(), t(a)));
        } else if let Some(tok) = &token {
            headers.push(("Authorization".to_string(), format!("Token {tok}")));
        }
        if w.gzip {
            body = gzip(&body);
            if !w
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-encoding"))
            {
                headers.push(("Content-Encoding".into(), "gzip".into()));
            }
        }
        for (k, v) in &w.headers {
            headers.push((k.clone(), t(v)));
        }
        return Ok(Some(HttpRequest {
            method: w.method.clone().unwrap_or_else(|| "POST".into()),
            path_and_query: if qs.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{qs}")
            },
            headers,
            body,
        }));
    }
    if let Some(q) = &step.query {
        let logical = q
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let token = token_of(&q.token);
        let tok = token.clone().unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let mut params = vec![("org".to_string(), ctx.org.clone())];
        apply_overrides(&mut params, &q.params, &t);
        let body = match (&q.body, &q.flux) {
            (Some(b), _) => t(b),
            (None, flux) => serde_json::json!({
                "query": t(flux.as_deref().unwrap_or_default()),
                "type": "flux",
                "dialect": {"annotations": ["datatype", "group", "default"]},
            })
            .to_string(),
        };
        let mut headers = Vec::new();
        if !q
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        for (k, v) in &q.headers {
            headers.push((k.clone(), t(v)));
        }
        return Ok(Some(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v2/query?{}", query_string(&params)),
            headers,
            body: body.into_bytes(),
        }));
    }
    if let Some(d) = &step.delete {
        let logical = d
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let bucket = ctx
            .bucket(Some(&logical))
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let token = token_of(&d.token);
        let tok = token.clone().unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let mut params = vec![
            ("org".to_string(), ctx.org.clone()),
            ("bucket".to_string(), bucket),
        ];
        apply_overrides(&mut params, &d.params, &t);
        let body = match &d.body {
            Some(b) => t(b),
            None => {
                let mut body = serde_json::Map::new();
                for (k, v) in [
                    ("start", &d.start),
                    ("stop", &d.stop),
                    ("predicate", &d.predicate),
                ] {
                    if let Some(v) = v {
                        body.insert(k.into(), serde_json::json!(v));
                    }
                }
                serde_json::Value::Object(body).to_string()
            }
        };
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        return Ok(Some(HttpRequest {
            method: "POST".into(),
            path_and_query: format!("/api/v2/delete?{}", query_string(&params)),
            headers,
            body: body.into_bytes(),
        }));
    }
    if let Some(r) = &step.request {
        let logical = r
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.default_bucket.clone());
        let token = token_of(&r.token);
        let tok = token
            .clone()
            .or_else(|| ctx.tokens.get("operator").cloned())
            .unwrap_or_default();
        let t = |s: &str| template(s, ctx, &logical, &tok, now);
        let body = r.body.as_deref().map(t).unwrap_or_default();
        let mut headers = Vec::new();
        if let Some(tok) = &token {
            headers.push(("Authorization".into(), format!("Token {tok}")));
        }
        if r.body.is_some()
            && !r
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        for (k, v) in &r.headers {
            headers.push((k.clone(), t(v)));
        }
        let method = r
            .method
            .clone()
            .unwrap_or_else(|| if r.body.is_some() { "POST" } else { "GET" }.to_string());
        return Ok(Some(HttpRequest {
            method,
            path_and_query: t(&r.path),
            headers,
            body: body.into_bytes(),
        }));
    }
    Ok(None)
}

/// `data` gzipped as `flate2::write::GzEncoder` with the default level writes it (a test
/// checks the bytes agree), with one deflate state per thread reset between bodies instead
/// of a new one per body: a new state is ~300 KiB allocated and zeroed, which cost the fuzzer
/// more than compressing its small bodies.
fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    thread_local! {
        static DEFLATE: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::default(), false));
    }
    // RFC 1952 header as `GzBuilder` writes it: no flags, mtime 0, XFL 0 (neither the
    // fastest nor the best level), OS 255 (unknown).
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.reserve(data.len() / 2 + 64);
    DEFLATE.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset();
        // Fed as `GzEncoder` feeds it: the input without flushing, then `Finish` until the
        // stream ends. Compressing into a `Vec` cannot fail; it only runs out of room.
        let mut at = 0;
        while at < data.len() {
            if out.len() == out.capacity() {
                out.reserve(data.len() - at + 64);
            }
            let before = d.total_in();
            if d.compress_vec(&data[at..], &mut out, FlushCompress::None)
                .is_err()
            {
                break;
            }
            at += (d.total_in() - before) as usize;
        }
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.len().max(64));
            }
            match d.compress_vec(&[], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// `curl ...` that sends the same request; tokens appear as `$INFLUX_TOKEN`.
pub fn curl(req: &HttpRequest, base: &str, ctx: &Context, is_reference: bool) -> String {
    let shell = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let hide = |s: &str| {
        let mut out = s.to_string();
        for t in ctx.redactions.tokens() {
            out = out.replace(t, "$INFLUX_TOKEN");
        }
        out
    };
    let mut cmd = format!(
        "curl -i -X{} {}",
        req.method,
        shell(&format!("{base}{}", hide(&req.path_and_query)))
    );
    for (k, v) in &req.headers {
        let v = hide(v);
        let h = format!("{k}: {v}");
        if v.contains("$INFLUX_TOKEN") {
            cmd.push_str(&format!(" -H \"{}\"", h.replace('"', "\\\"")));
        } else {
            cmd.push_str(&format!(" -H {}", shell(&h)));
        }
    }
    if !req.body.is_empty() {
        match std::str::from_utf8(&req.body) {
            Ok(text)
                if !req
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-encoding")) =>
            {
                cmd.push_str(&format!(" --data-binary {}", ansi_c(text)));
            }
            _ => {
                let hex: String = req.body.iter().map(|b| format!("{b:02x}")).collect();
                cmd = format!("printf '%s' {hex} | xxd -r -p | {cmd} --data-binary @-");
            }
        }
    }
    if is_reference && ctx.tokens.is_empty() {
        // An `onboarded: false` case: the server must start with no tenant.
        cmd.push_str("    # against a fresh `influx-reference serve --no-setup`");
    } else if is_reference && ctx.native_write == crate::case::WriteApi::V3 {
        cmd.push_str("    # with INFLUX_TOKEN=my-token against `influx-reference serve --flavor v3` (databases appear on first write)");
    } else if is_reference {
        cmd.push_str("    # with INFLUX_TOKEN=my-token against `influx-reference serve` (the case's first bucket is my-bucket)");
    }
    cmd
}

/// Bash `$'...'` quoting, so newlines and control bytes survive copy and paste.
fn ansi_c(s: &str) -> String {
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders as the regex finds them: what `now_offsets` must do.
    fn by_regex(s: &str, now: i64) -> String {
        let re = regex::Regex::new(NOW_OFFSET_PATTERN).unwrap();
        re.replace_all(s, |c: &regex::Captures<'_>| {
            let unit = match &c[1] {
                "ns" => 1,
                "us" => 1_000,
                "ms" => 1_000_000,
                _ => 1_000_000_000,
            };
            match c[2].parse::<i64>() {
                Ok(off) => (now / unit).saturating_add(off).to_string(),
                Err(_) => c[0].to_string(),
            }
        })
        .into_owned()
    }

    #[test]
    fn now_offsets_fill_every_unit_and_keep_the_rest() {
        let now = 1_747_735_200_123_456_789;
        let s = "m v=1 {now_s-3600}\nm v=2 {now_ns+0}\n{now_ms-5}{now_us+7} {now_x+1} {now_s+} \
                 {now_s-99999999999999999999} {now_s-9999999999999999999} {{now_ns-1}} é{now_s+1}";
        assert_eq!(now_offsets(s, now), by_regex(s, now));
        assert!(now_offsets(s, now).starts_with("m v=1 1747731600\nm v=2 1747735200123456789"));
    }

    fn gzip_encoder(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The reused deflate state writes what a new `GzEncoder` writes, body after body (small,
    /// empty, compressible, incompressible, larger than the encoder's 32 KiB buffer).
    #[test]
    fn gzip_writes_what_gz_encoder_writes() {
        let mut bodies: Vec<Vec<u8>> = vec![Vec::new(), b"m v=1".to_vec()];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut noise = Vec::new();
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(x as u8);
        }
        bodies.push(noise.clone());
        bodies.push(b"cpu,host=a usage=1.5 1700000000000000000\n".repeat(5_000));
        bodies.push(noise[..40_000].to_vec());
        bodies.push(b"m v=1".to_vec());
        for b in &bodies {
            assert_eq!(gzip(b), gzip_encoder(b), "{} bytes", b.len());
        }
    }

    fn template_context() -> Context {
        let mut ctx = Context {
            org: "my-org".into(),
            org_id: "0123456789abcdef".into(),
            default_bucket: "main".into(),
            ..Context::default()
        };
        ctx.buckets.insert(
            "main".into(),
            crate::server::BucketInfo {
                name: "my-bucket".into(),
                id: "fedcba9876543210".into(),
            },
        );
        ctx.schemas.insert("m".into(), "00000000000000aa".into());
        ctx
    }

    proptest::proptest! {
        /// The shortcut for texts with only `{now_..}` offsets fills what the full
        /// replacement fills, whatever else the text holds.
        #[test]
        fn template_agrees_with_the_full_replacement(
            s in "([a-z =,{}]|\\{now_|\\{org\\}|\\{org_id\\}|\\{bucket\\}|\\{bucket_id\\}|\\{token\\}|\\{schema_id:m\\}|\\{now_s\\}|\\{now_ms\\}|ns|us|ms|s|[+-]|[0-9]{1,3}|\\}){0,24}",
            now in proptest::prelude::any::<i64>(),
        ) {
            let ctx = template_context();
            proptest::prop_assert_eq!(
                template(&s, &ctx, "main", "tok", now),
                template_in_full(&s, &ctx, "main", "tok", now)
            );
        }

        #[test]
        fn gzip_agrees_with_gz_encoder(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000),
            repeat in 1usize..40,
        ) {
            let b = body.repeat(repeat);
            proptest::prop_assert_eq!(gzip(&b), gzip_encoder(&b));
        }

        #[test]
        fn now_offsets_agree_with_the_pattern(
            s in "([a-z {}é]|\\{now_|ns|us|ms|s|[+-]|[0-9]{1,21}|\\}){0,24}",
            now in proptest::prelude::any::<i64>(),
        ) {
            proptest::prop_assert_eq!(now_offsets(&s, now), by_regex(&s, now));
        }
    }
}
