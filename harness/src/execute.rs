//! A case on a session → its [`Observation`]: open fresh state on the target, run the steps
//! in order (each request built by `request.rs`, sent, its answer observed through the
//! redactions; reads of landed rows and `rejected_points`; waits and settles), close. A target
//! that faults or cannot run the case ends the execution with [`Exec`]; nothing here judges.

use std::time::Duration;

use crate::case::{LoadedCase, Profile, Step};
use crate::fault::{Fault, FaultKind};
use crate::http::{encode, HttpRequest};
use crate::observe::{Observation, Redactions, Row, StepObservation, CHOSEN_HEADERS};
use crate::request::{build_request, curl};
use crate::server::{Context, OpenError, Session, Target};

/// Why a case produced no observation: the target cannot run it, or it faulted (with the
/// `curl` line of the request that faulted, when there was one).
#[derive(Debug, Clone)]
pub enum Exec {
    Skip(String),
    Fault(Fault, Option<String>),
}

/// A case's observation and, per step, the `curl` line that reproduces its request.
pub type Executed = (Observation, Vec<Option<String>>);

/// The time bounds of a step: one request, and waiting for an asynchronous server to settle.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub request: Duration,
    pub settle: Duration,
}

/// Opens a session for the case, runs its steps in order, closes the session.
pub async fn execute(
    case: &LoadedCase,
    target: &dyn Target,
    profile: Profile,
    timeouts: Timeouts,
) -> Result<Executed, Exec> {
    let mut session = match target.open(case, profile).await {
        Ok(s) => s,
        Err(OpenError::Skip(r)) => return Err(Exec::Skip(r)),
        Err(OpenError::Fault(f)) => return Err(Exec::Fault(f, None)),
    };
    let r = steps(case, target, profile, timeouts, session.as_mut()).await;
    session.close().await;
    r
}

async fn steps(
    case: &LoadedCase,
    target: &dyn Target,
    profile: Profile,
    timeouts: Timeouts,
    session: &mut dyn Session,
) -> Result<Executed, Exec> {
    let mut obs = Observation::default();
    let mut repros = Vec::new();
    let dir = case
        .path
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    for step in &case.case.steps {
        session.step_started();
        let now = session.now();
        let opts = StepOptions {
            now,
            judge_unavailable: true,
            reproduce: true,
            timeouts,
        };
        let (mut o, repro) = run_step(step, &dir, target, profile, session, opts).await?;
        o.unrecorded_body.clone_from(&step.unrecorded_body);
        obs.steps.push(o);
        repros.push(repro);
    }
    Ok((obs, repros))
}

/// How one step runs (the generator runs a target and the oracle in lock-step).
#[derive(Debug, Clone, Copy)]
pub struct StepOptions {
    /// The server time used for body placeholders (`{now_s}`, `{now_s-60}`).
    pub now: i64,
    /// A 429/502/503/504 the step does not expect is a target fault (`false`: observed as is).
    pub judge_unavailable: bool,
    /// Build the step's "reproduce with: curl" line (the generator skips it until it has a
    /// difference to report).
    pub reproduce: bool,
    pub timeouts: Timeouts,
}

/// One step: build the request, send it, observe (status, chosen headers, body, read-back).
/// The caller has called `session.step_started()`.
pub async fn run_step(
    step: &Step,
    dir: &std::path::Path,
    target: &dyn Target,
    profile: Profile,
    session: &mut dyn Session,
    opts: StepOptions,
) -> Result<(StepObservation, Option<String>), Exec> {
    let built = build_request(step, session.context(), target.info().write, dir, opts.now);
    run_built_step(step, target, profile, session, opts, built).await
}

/// [`run_step`] with the step's request already built by `request::build_request` for this
/// session's context (or for one that builds the same requests,
/// [`crate::server::Context::same_requests`]) and the target's write adapter at `opts.now`.
pub async fn run_built_step(
    step: &Step,
    target: &dyn Target,
    profile: Profile,
    session: &mut dyn Session,
    opts: StepOptions,
    built: Result<Option<HttpRequest>, Fault>,
) -> Result<(StepObservation, Option<String>), Exec> {
    let info = target.info();
    let mut o = StepObservation::default();
    let mut repro = None;
    let bucket_for_read;
    if let Some(req) = built.map_err(|f| Exec::Fault(f, None))? {
        let ctx = session.context();
        if opts.reproduce {
            repro = Some(curl(&req, &info.base_url, ctx, info.is_reference));
            o.curl = Some(curl(&req, &info.base_url, ctx, false));
        }
        o.request = format!(
            "{} {}",
            req.method,
            redact_request_line(&req.path_and_query, ctx)
        );
        let resp = tokio::time::timeout(opts.timeouts.request, session.send(req))
            .await
            .map_err(|_| {
                Exec::Fault(
                    Fault::new(
                        FaultKind::Timeout,
                        format!("no answer within {}s", opts.timeouts.request.as_secs_f64()),
                    ),
                    repro.clone(),
                )
            })?
            .map_err(|f| Exec::Fault(f, repro.clone()))?;
        let window = Some(session.step_window());
        let redactions = &session.context().redactions;
        // A server that is unavailable has not told us anything about conformance.
        if opts.judge_unavailable
            && matches!(resp.status, 429 | 502 | 503 | 504)
            && !expects_status(step, resp.status)
        {
            let retry = resp
                .headers
                .get("retry-after")
                .map(|r| format!(" with Retry-After: {r}"))
                .unwrap_or_default();
            return Err(Exec::Fault(
                Fault::new(
                    FaultKind::Unavailable,
                    format!(
                        "the server answered {}{retry}: it is unavailable or overloaded, not judged; retry later or lower --jobs",
                        resp.status
                    ),
                ),
                repro,
            ));
        }
        o.status = Some(resp.status);
        // The chosen headers, and any other a step's expectations name (`etag`, ...).
        let named = step
            .expect
            .iter()
            .chain(step.also_accept.iter().map(|a| &a.expect))
            .flat_map(|e| e.headers.keys().map(|k| k.to_ascii_lowercase()));
        for h in CHOSEN_HEADERS.iter().map(|h| h.to_string()).chain(named) {
            if o.headers.contains_key(&h) {
                continue;
            }
            if let Some(v) = resp.headers.get(&h) {
                let v = redactions.header_at(&h, v, window);
                o.headers.insert(h, v);
            }
        }
        if !resp.body.is_empty() {
            // The body as text without a copy when it is UTF-8, lossily otherwise.
            let text = crate::http::lossy_owned(resp.body);
            let text = redactions.text_owned_at(text, window);
            o.json = serde_json::from_str(&text).ok();
            o.body = Some(text);
        }
        bucket_for_read = step_bucket(step, session.context());
    } else if let Some(w) = &step.wait {
        let d = influx_reference::config::parse_duration(w).unwrap_or(0);
        o.request = format!("wait {w}");
        session.wait(Duration::from_nanos(d.max(0) as u64)).await;
        return Ok((o, None));
    } else if step.settle.is_some() {
        let b = session.context().default_bucket.clone();
        o.request = "settle".into();
        session
            .settle(&b, opts.timeouts.settle)
            .await
            .map_err(|f| Exec::Fault(f, None))?;
        return Ok((o, None));
    } else if let Some(r) = &step.rejected_points {
        let b = r
            .bucket
            .clone()
            .unwrap_or_else(|| session.context().default_bucket.clone());
        o.request = format!("rejected_points {b}");
        if profile == Profile::Cloud {
            session
                .settle(&b, opts.timeouts.settle)
                .await
                .map_err(|f| Exec::Fault(f, None))?;
        }
        let rows = session
            .rejected_points(&b)
            .await
            .map_err(|f| Exec::Fault(f, None))?;
        let now = Some(session.step_window());
        o.rejected_points = rows.map(|r| render(r, &session.context().redactions, now));
        if o.rejected_points.is_none() {
            o.note = Some("this target has no rejected_points to read".into());
        }
        return Ok((o, None));
    } else {
        let b = step
            .landed
            .as_ref()
            .and_then(|l| l.bucket.clone())
            .unwrap_or_else(|| session.context().default_bucket.clone());
        o.request = format!("landed {b}");
        bucket_for_read = Some(b);
    }
    let wants_landed = step.landed.is_some()
        || step.expect.as_ref().is_some_and(|e| e.landed.is_some())
        || step.also_accept.iter().any(|a| a.expect.landed.is_some());
    if let (true, Some(b)) = (wants_landed, bucket_for_read) {
        if profile == Profile::Cloud {
            session
                .settle(&b, opts.timeouts.settle)
                .await
                .map_err(|f| Exec::Fault(f, repro.clone()))?;
        }
        let rows = session
            .landed(&b)
            .await
            .map_err(|f| Exec::Fault(f, repro.clone()))?;
        let now = Some(session.step_window());
        o.landed = rows.map(|r| render(r, &session.context().redactions, now));
        if o.landed.is_none() {
            o.note = Some("this target has no read-back adapter; landed rows not checked".into());
        }
    }
    Ok((o, repro))
}

/// The request line with named redactions, and the org's name as `org=<org>` (org names are
/// short words, replaced only where they are a parameter's whole value).
fn redact_request_line(path_and_query: &str, ctx: &Context) -> String {
    let text = ctx.redactions.text(path_and_query);
    let Some((path, query)) = text.split_once('?') else {
        return text;
    };
    let org = encode(&ctx.org);
    let mut out = String::with_capacity(text.len());
    out.push_str(path);
    out.push('?');
    for (i, kv) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match kv.strip_prefix("org=") {
            Some(value) if value == org => out.push_str("org=<org>"),
            _ => out.push_str(kv),
        }
    }
    out
}

fn render(mut rows: Vec<Row>, r: &Redactions, now: Option<(i64, i64)>) -> Vec<String> {
    crate::observe::sort_rows(&mut rows);
    rows.iter().map(|row| row.render_at(r, now)).collect()
}

fn expects_status(step: &Step, status: u16) -> bool {
    step.expect.as_ref().and_then(|e| e.status) == Some(status)
        || step
            .also_accept
            .iter()
            .any(|a| a.expect.status == Some(status))
}

fn step_bucket(step: &Step, ctx: &Context) -> Option<String> {
    let b = step
        .write
        .as_ref()
        .and_then(|w| w.bucket.clone())
        .or_else(|| step.query.as_ref().and_then(|q| q.bucket.clone()))
        .or_else(|| step.delete.as_ref().and_then(|d| d.bucket.clone()))
        .or_else(|| step.request.as_ref().and_then(|r| r.bucket.clone()));
    Some(b.unwrap_or_else(|| ctx.default_bucket.clone()))
}
