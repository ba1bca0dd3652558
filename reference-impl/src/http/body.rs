//! Reading request bodies with a cap, without ever buffering more than the cap.
//!
//! A declared `Content-Length` over the cap is refused before a byte is read; a body without
//! one (chunked) is read until it passes the cap, then refused. The buffer is allocated once
//! at the declared length, so a body costs its own size in memory, not the doubling growth
//! of collecting frames and copying them together.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;

use crate::api_error::{ApiError, Code};

/// Largest body read for an endpoint that takes a small JSON document (setup, orgs, buckets,
/// authorizations, passwords, delete, schemas). InfluxDB 2.7 reads these without a limit; a
/// test server reachable by others must not buffer a gigabyte for an unauthenticated
/// `POST /api/v2/setup`, and no real document of these endpoints comes near 4 MiB.
pub const MAX_JSON_BODY_BYTES: usize = 4 << 20;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More bytes than the cap, declared or sent.
    TooLarge,
    /// The connection failed while the body was read.
    Read(String),
}

/// Reads `body` whole, refusing more than `limit` bytes.
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let hint = axum::body::HttpBody::size_hint(&body);
    if usize::try_from(hint.lower()).map_or(true, |n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let declared = hint.exact().and_then(|n| usize::try_from(n).ok());
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len().saturating_add(data.len()) > limit {
            return Err(BodyError::TooLarge);
        }
        if buf.is_empty() {
            // The whole body in one frame (in-process calls, small requests): no copy.
            if declared == Some(data.len()) {
                return Ok(data);
            }
            // An allocation the process cannot make is a body too large for it now, never an
            // abort.
            buf.try_reserve_exact(declared.unwrap_or(data.len()).min(limit))
                .map_err(|_| BodyError::TooLarge)?;
        }
        buf.try_reserve(data.len())
            .map_err(|_| BodyError::TooLarge)?;
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// A small JSON document of the tenancy and delete endpoints: 413 past
/// [`MAX_JSON_BODY_BYTES`]; a broken connection is reported with `context` (the endpoint's
/// own wording of a read failure).
pub async fn read_json_body(body: Body) -> Result<Bytes, ApiError> {
    read_limited(body, MAX_JSON_BODY_BYTES)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => json_too_large(),
            BodyError::Read(m) => {
                ApiError::new(Code::Internal, format!("unable to read body: {m}"))
            }
        })
}

/// 413 for a JSON document over [`MAX_JSON_BODY_BYTES`] (the reference's own limit and text:
/// InfluxDB 2.7 has none).
pub fn json_too_large() -> ApiError {
    ApiError::new(
        Code::TooLarge,
        format!(
            "request body too large: this server reads at most {MAX_JSON_BODY_BYTES} bytes of JSON"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn chunked(parts: Vec<&'static [u8]>) -> Body {
        Body::from_stream(stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p))),
        ))
    }

    #[tokio::test]
    async fn declared_or_sent_bodies_past_the_cap_are_refused() {
        assert_eq!(
            read_limited(Body::from(vec![0u8; 11]), 10).await,
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            read_limited(chunked(vec![b"12345", b"67890", b"1"]), 10).await,
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            read_limited(chunked(vec![b"12345", b"67890"]), 10).await,
            Ok(Bytes::from_static(b"1234567890"))
        );
        assert_eq!(
            read_limited(Body::from("abc"), 3).await,
            Ok(Bytes::from_static(b"abc"))
        );
        assert_eq!(read_limited(Body::empty(), 0).await, Ok(Bytes::new()));
    }
}
