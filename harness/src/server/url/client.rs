//! The HTTP client of a URL target: every request with a timeout, every body with a size cap,
//! redirects with a limit, and every failure turned into a [`Fault`] in words (refused, TLS,
//! reset, timeout, invalid HTTP). Bodies are never decompressed behind the harness's back.

use std::time::{Duration, Instant};

use crate::fault::{Fault, FaultKind};
use crate::http::{preview, HttpRequest, HttpResponse};

/// A server's base URL, the operator token and the limits every request is sent with. Cheap
/// to clone (the connection pool is shared).
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: String,
    token: String,
    max_body: usize,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(
        base: &str,
        token: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
        max_body: usize,
    ) -> Result<Self, crate::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            // Answers are compared as sent; never decompress behind the harness's back.
            .no_gzip()
            .build()
            .map_err(|e| crate::Error::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            client,
            base: base.to_string(),
            token: token.to_string(),
            max_body,
            timeout: request_timeout,
        })
    }

    /// The `Authorization` header with the operator token.
    pub fn auth(&self) -> (String, String) {
        ("Authorization".into(), format!("Token {}", self.token))
    }

    /// Sends `req` to the server.
    pub async fn call(&self, req: HttpRequest) -> Result<HttpResponse, Fault> {
        send(&self.client, &self.base, self.max_body, self.timeout, req).await
    }
}

/// Sends one request with the target's limits; every failure becomes a fault in words.
async fn send(
    client: &reqwest::Client,
    base: &str,
    max_body: usize,
    timeout: Duration,
    req: HttpRequest,
) -> Result<HttpResponse, Fault> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| Fault::new(FaultKind::Setup, format!("invalid method {:?}", req.method)))?;
    let url = format!("{base}{}", req.path_and_query);
    let mut builder = client.request(method, &url).body(req.body);
    for (k, v) in &req.headers {
        // As bytes, as the in-process target sends them: a value with non-ASCII characters
        // (obs-text, which HTTP allows) reaches the server instead of failing in the client.
        builder = builder.header(k.as_str(), v.as_bytes());
    }
    let started = Instant::now();
    let mut resp = builder
        .send()
        .await
        .map_err(|e| classify(&e, &url, timeout))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, resp.chunk()).await {
            Err(_) => {
                return Err(Fault::new(
                    FaultKind::Timeout,
                    format!(
                        "{url} sent status {status} but its body did not finish within {}s",
                        timeout.as_secs_f64()
                    ),
                ))
            }
            Ok(Err(e)) => return Err(classify(&e, &url, timeout)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() > max_body {
                    return Err(Fault::new(
                        FaultKind::TooLarge,
                        format!(
                            "{url} answered a body over {max_body} bytes; the harness stopped reading (raise --max-response-bytes if this is expected)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn classify(e: &reqwest::Error, url: &str, timeout: Duration) -> Fault {
    let mut chain = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_timeout() {
        Fault::new(
            FaultKind::Timeout,
            format!(
                "{url} did not answer within {}s ({chain})",
                timeout.as_secs_f64()
            ),
        )
    } else if e.is_redirect() {
        Fault::new(
            FaultKind::Redirect,
            format!("{url} redirected too many times (a redirect loop?): {chain}"),
        )
    } else if chain.contains("invalid HTTP") {
        // hyper refuses a malformed answer (e.g. control bytes in a header value): the
        // server did answer, but not in HTTP/1.1 a client can read.
        Fault::new(
            FaultKind::InvalidResponse,
            format!("{url} answered with a response that is not valid HTTP/1.1: {chain}"),
        )
    } else if e.is_connect() {
        Fault::new(
            FaultKind::Refused,
            format!("cannot connect to {url}: is the server running? ({chain})"),
        )
    } else {
        Fault::new(
            FaultKind::Reset,
            format!("the connection to {url} broke: {chain}"),
        )
    }
}

/// A body that must be JSON, or an `unparsable` fault naming the request.
pub fn json_body(resp: &HttpResponse, what: &str) -> Result<serde_json::Value, Fault> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        Fault::new(
            FaultKind::Unparsable,
            format!(
                "{what} answered {} with a body that is not JSON ({e}): {}",
                resp.status,
                preview(&resp.body)
            ),
        )
    })
}

/// The fault of a server without the v2 tenancy API.
pub fn lacks_tenancy(what: &str, status: u16) -> Fault {
    Fault::new(
        FaultKind::Unsupported,
        format!(
            "the server lacks the tenancy API ({what} answered {status}); give a pre-made bucket with --bucket (or --database for v1 servers) to run without per-case isolation"
        ),
    )
}
