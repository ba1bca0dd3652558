//! `POST /api/v2/signin` and `POST /api/v2/signout` (`session/http_server.go`): a user's name
//! and password for a session cookie, and back. Both routes need no token (the auth middleware
//! lets them through) and answer errors through `kithttp.API` (tab-indented JSON). Every failure
//! is the same 401 `unauthorized access` (`session.ErrUnauthorized`), so an answer never tells a
//! wrong name from a wrong password.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Response};

use crate::engine::auth::{
    basic_auth, session_cookie, unauthorized_access, SESSION_COOKIE, SESSION_LENGTH,
};
use crate::model::time::format_http_date;
use crate::storage::Session;

use super::respond::{self, Encoder};
use super::AppState;

fn unauthorized() -> Response<Body> {
    respond::error(&unauthorized_access(), Encoder::Indented)
}

/// `handleSignin`: Basic credentials (`Request.BasicAuth`), the user by name, its password,
/// then a new session: 204 with `Set-Cookie`. A user without a password cannot sign in; an
/// inactive user can, and is refused (403) when the session is used.
pub async fn signin(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let Some((name, password)) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| basic_auth(h.as_bytes()))
    else {
        return unauthorized();
    };
    let now = state.clock.now_nanos();
    let created = state
        .with_store(move |store| {
            let user_id = store.user_by_name(&name).map(|u| u.id)?;
            store
                .password_matches(user_id, &password)
                .then(|| store.create_session(user_id, now, SESSION_LENGTH))
        })
        .await;
    let Ok(Some(session)) = created else {
        return unauthorized();
    };
    let mut resp = respond::no_content();
    // The key is URL-safe base64 and the date ASCII: the value is always a valid header.
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&session)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `encodeCookieSession` through Go's `http.SetCookie`: name, value, `Path=/api/`, `Expires`
/// (the session's expiry in `http.TimeFormat`), `HttpOnly`, `SameSite=Strict`, in
/// `Cookie.String` order (`session/http_server.go` sets `HttpOnly: true`). No `Secure` (no
/// TLS here), no `Max-Age`.
pub fn set_cookie(session: &Session) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/api/; Expires={}; HttpOnly; SameSite=Strict",
        session.key,
        format_http_date(session.expires_at)
    )
}

/// `handleSignout`: the session named by the cookie is removed (204, no `Set-Cookie`); no
/// cookie, or a session that is unknown or already expired, is 401.
pub async fn signout(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let cookies = req.headers().get_all(header::COOKIE);
    let Some(key) = session_cookie(cookies.iter().map(HeaderValue::as_bytes)) else {
        return unauthorized();
    };
    let now = state.clock.now_nanos();
    let removed = state
        .with_store(move |store| {
            let found = store.find_session(&key, now).is_some();
            if found {
                store.sessions.remove(&key);
            }
            found
        })
        .await;
    match removed {
        Ok(true) => respond::no_content(),
        _ => unauthorized(),
    }
}
