//! Reading credentials: the `/api/v2` middleware (a token, or the session cookie of a user who
//! signed in) and the v1-compat endpoints differ.

use crate::api_error::{ApiError, Code};
use crate::model::time::NANOS_PER_SECOND;
use crate::storage::{Authorization, Session, Status, Store};

/// The session cookie (`session.cookieSessionName`).
pub const SESSION_COOKIE: &str = "influxdb-oss-session";

/// How long a session lasts from sign-in: `influxd --session-length`, 60 minutes by default.
pub const SESSION_LENGTH: i64 = 60 * 60 * NANOS_PER_SECOND;

/// A session used less than this long before it expires is extended to now + this
/// (`influxdb.RenewSessionTime`, 5 minutes; renewal is on unless `--session-renew-disabled`).
pub const SESSION_RENEW: i64 = 5 * 60 * NANOS_PER_SECOND;

/// 401 `unauthorized access`, the answer to every `/api/v2` authentication failure.
pub fn unauthorized_access() -> ApiError {
    ApiError::new(Code::Unauthorized, "unauthorized access")
}

/// The token in an `Authorization` header as `/api/v2` reads it (`http/tokens.go`,
/// `GetToken`): `Token ` or `Bearer `, matched case-insensitively; the rest verbatim. `Token `
/// alone is the empty token; `Bearer ` alone is no token at all (Go wants more bytes after it).
pub fn v2_header_token(header: &[u8]) -> Option<&[u8]> {
    const TOKEN: &[u8] = b"Token ";
    const BEARER: &[u8] = b"Bearer ";
    if header.len() >= TOKEN.len() && header[..TOKEN.len()].eq_ignore_ascii_case(TOKEN) {
        return Some(&header[TOKEN.len()..]);
    }
    if header.len() > BEARER.len() && header[..BEARER.len()].eq_ignore_ascii_case(BEARER) {
        return Some(&header[BEARER.len()..]);
    }
    None
}

/// The authentication middleware of `/api/v2/*`: 401 for a missing header, a bad scheme or an
/// unknown token; 403 `User is inactive` when the token's user is inactive. An inactive token
/// passes here and fails the later permission check.
pub fn authenticate_v2<'s>(
    store: &'s Store,
    header: Option<&[u8]>,
) -> Result<&'s Authorization, ApiError> {
    let token = header
        .and_then(v2_header_token)
        .ok_or_else(unauthorized_access)?;
    let token = std::str::from_utf8(token).map_err(|_| unauthorized_access())?;
    let auth = store
        .authorization_by_token(token)
        .ok_or_else(unauthorized_access)?;
    check_user_active(store, auth)?;
    Ok(auth)
}

/// The `/api/v2` middleware with sessions (`AuthenticationHandler.ServeHTTP`): a `Token` or
/// `Bearer` header wins (`ProbeAuthScheme`), even when it names no token and a session cookie
/// is sent too; otherwise the session cookie `session_key`; otherwise 401. A session that is
/// unknown or expired is 401 `unauthorized access`; a live one is renewed and stands for its
/// user (403 `User is inactive` when the user is inactive).
pub fn authenticate_v2_or_session(
    store: &mut Store,
    header: Option<&[u8]>,
    session_key: Option<&str>,
    now: i64,
) -> Result<Authorization, ApiError> {
    match (header.and_then(v2_header_token), session_key) {
        (None, Some(key)) => authenticate_session(store, key, now),
        _ => authenticate_v2(store, header).cloned(),
    }
}

fn authenticate_session(store: &mut Store, key: &str, now: i64) -> Result<Authorization, ApiError> {
    let session = store
        .find_session(key, now)
        .ok_or_else(unauthorized_access)?;
    // `RenewSession` with now + 5 min: only ever extends.
    session.expires_at = session.expires_at.max(now.saturating_add(SESSION_RENEW));
    let session = session.clone();
    let auth = session_authorization(store, &session);
    check_user_active(store, &auth)?;
    Ok(auth)
}

/// A session as the handlers see it: an authorization of its user holding the session's
/// permissions ([`Store::session_permissions`], computed afresh on every request as
/// `FindSession` does). InfluxDB's `Session` has no org; `org_id` carries the user's ID as a
/// placeholder, read by nothing a session reaches (the v1 endpoints take no session; query runs
/// a session with an ephemeral authorization for the request's org, which is what the query
/// engine here does with any caller).
pub fn session_authorization(store: &Store, session: &Session) -> Authorization {
    Authorization {
        id: session.id,
        token: String::new(),
        org_id: session.user_id,
        user_id: session.user_id,
        status: Status::Active,
        description: String::new(),
        permissions: store.session_permissions(session.user_id),
        created_at: session.created_at,
        updated_at: session.created_at,
    }
}

/// The session key among a request's `Cookie` headers, as Go's `Request.Cookie` reads it: each
/// header split at `;`, parts and names trimmed, the first part named `influxdb-oss-session`
/// whose value is a valid cookie value (surrounding double quotes removed).
pub fn session_cookie<'h>(cookie_headers: impl IntoIterator<Item = &'h [u8]>) -> Option<String> {
    for line in cookie_headers {
        for part in line.split(|&b| b == b';') {
            let part = trim_ascii_space(part);
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            if trim_ascii_space(name) != SESSION_COOKIE.as_bytes() {
                continue;
            }
            let value = match value {
                [b'"', inner @ .., b'"'] => inner,
                v => v,
            };
            let valid = value
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b';' && b != b'\\');
            if valid {
                // Only ASCII passed the check.
                return Some(String::from_utf8_lossy(value).into_owned());
            }
        }
    }
    None
}

/// `textproto.TrimString`: ASCII space, tab, CR and LF off both ends.
fn trim_ascii_space(b: &[u8]) -> &[u8] {
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_space(c))
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// HTTP Basic credentials as Go's `Request.BasicAuth` reads them: the `Basic ` prefix in any
/// case, standard base64 with its padding (CR and LF ignored), split at the first `:`. `None`
/// where Go answers `ok == false` (and for names or passwords that are not UTF-8, which no
/// stored user can match).
pub fn basic_auth(header: &[u8]) -> Option<(String, String)> {
    let (user, password) = basic_auth_bytes(header)?;
    Some((
        String::from_utf8(user).ok()?,
        String::from_utf8(password).ok()?,
    ))
}

/// [`basic_auth`] as bytes: Go's `ok` whatever the bytes are.
fn basic_auth_bytes(header: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    const PREFIX: &[u8] = b"Basic ";
    if header.len() < PREFIX.len() || !header[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let mut decoded = decode_base64_padded(&header[PREFIX.len()..])?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let password = decoded.split_off(colon + 1);
    decoded.truncate(colon);
    Some((decoded, password))
}

/// `base64.StdEncoding.DecodeString`: padded quanta of four, `=` only at the end of the last
/// one, CR and LF skipped anywhere.
fn decode_base64_padded(input: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = input
        .iter()
        .copied()
        .filter(|&c| c != b'\r' && c != b'\n')
        .collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let pad = clean.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 || clean[..clean.len() - pad].contains(&b'=') {
        return None;
    }
    decode_base64(&clean)
}

fn check_user_active(store: &Store, auth: &Authorization) -> Result<(), ApiError> {
    match store.users.get(&auth.user_id) {
        // A deleted user's tokens stay (`DeleteUser` keeps authorizations), but
        // `isUserActive` cannot find their user.
        None => Err(ApiError::new(Code::Forbidden, "User is inactive")),
        Some(user) if user.status == Status::Inactive => {
            Err(ApiError::new(Code::Forbidden, "User is inactive"))
        }
        _ => Ok(()),
    }
}

/// Credentials of a v1-compat request, in the order `parseCredentials` tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V1Credentials {
    /// `?u=&p=` (both non-empty), `Token user:tok`, `Token tok` or HTTP Basic: the token.
    Token(String),
    None,
}

/// Parses v1 credentials as `parseCredentials` does (`http/legacy/
/// influx1x_authentication_handler.go`): `?u=&p=` when both are non-empty; then a header that
/// `strings.Split(s, " ")` cuts into exactly two parts, the first `Token` (case-sensitive), the
/// token after its first `:`; then `Request.BasicAuth` ([`basic_auth`]: any case of `Basic`,
/// padded base64), the password as the token. Anything else (`Token a b`, `Bearer tok`,
/// unpadded base64) is no credentials at all.
pub fn v1_credentials(u: Option<&str>, p: Option<&str>, header: Option<&[u8]>) -> V1Credentials {
    if let (Some(u), Some(p)) = (u, p) {
        if !u.is_empty() && !p.is_empty() {
            return V1Credentials::Token(p.to_string());
        }
    }
    let Some(header) = header.filter(|h| !h.is_empty()) else {
        return V1Credentials::None;
    };
    let mut parts = header.split(|&b| b == b' ');
    if let (Some(scheme), Some(rest), None) = (parts.next(), parts.next(), parts.next()) {
        if scheme == b"Token" {
            let token = match rest.iter().position(|&b| b == b':') {
                Some(colon) => &rest[colon + 1..],
                None => rest,
            };
            return V1Credentials::Token(String::from_utf8_lossy(token).into_owned());
        }
    }
    match basic_auth_bytes(header) {
        Some((_, password)) => {
            V1Credentials::Token(String::from_utf8_lossy(&password).into_owned())
        }
        None => V1Credentials::None,
    }
}

/// v1 authentication: no credentials → 401 `unauthorized access`; a bad or inactive token, or
/// a token of an inactive user → 401 `Unauthorized` (capital U, `ErrCredentialsUnauthorized`,
/// `v1/authorization/authorizer.go`).
pub fn authenticate_v1<'s>(
    store: &'s Store,
    creds: &V1Credentials,
) -> Result<&'s Authorization, ApiError> {
    let V1Credentials::Token(token) = creds else {
        return Err(unauthorized_access());
    };
    let bad = || ApiError::new(Code::Unauthorized, "Unauthorized");
    let auth = store.authorization_by_token(token).ok_or_else(bad)?;
    if auth.status == Status::Inactive {
        return Err(bad());
    }
    match store.users.get(&auth.user_id) {
        Some(user) if user.status == Status::Active => Ok(auth),
        _ => Err(bad()),
    }
}

/// The standard base64 alphabet up to the first `=` ([`decode_base64_padded`] checks the
/// padding); trailing bits are dropped, as the non-strict `StdEncoding` does.
fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input.iter().take_while(|&&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_schemes_are_case_insensitive() {
        assert_eq!(v2_header_token(b"Token abc"), Some(&b"abc"[..]));
        assert_eq!(v2_header_token(b"bEaReR abc"), Some(&b"abc"[..]));
        assert_eq!(v2_header_token(b"TOKEN "), Some(&b""[..]));
        assert_eq!(v2_header_token(b"Basic abc"), None);
        assert_eq!(v2_header_token(b"Token"), None);
        assert_eq!(v2_header_token(b"Bearer "), None);
        assert_eq!(v2_header_token(b"Bearer x"), Some(&b"x"[..]));
    }

    #[test]
    fn session_cookie_reads_like_go() {
        let key = |lines: &[&str]| session_cookie(lines.iter().map(|l| l.as_bytes()));
        assert_eq!(key(&["influxdb-oss-session=abc=="]), Some("abc==".into()));
        // What the Python client sends back: the whole Set-Cookie value.
        assert_eq!(
            key(&["influxdb-oss-session=k; Path=/api/; Expires=Tue, 20 May 2025 12:00:00 GMT; SameSite=Strict"]),
            Some("k".into())
        );
        assert_eq!(
            key(&["a=1", " b=2 ;  influxdb-oss-session=\"q\" "]),
            Some("q".into())
        );
        // Go trims the name, not the value: a space before the quote makes it invalid.
        assert_eq!(key(&["influxdb-oss-session = \"q\""]), None);
        assert_eq!(key(&["influxdb-oss-session = q"]), Some(" q".into()));
        assert_eq!(key(&["influxdb-oss-session"]), Some(String::new()));
        assert_eq!(
            key(&["influxdb-oss-session=a\\b; influxdb-oss-session=ok"]),
            Some("ok".into())
        );
        assert_eq!(key(&["other=1", "Influxdb-Oss-Session=x"]), None);
        assert_eq!(key(&[]), None);
    }

    #[test]
    fn basic_auth_reads_like_go() {
        // my-user:my-password
        assert_eq!(
            basic_auth(b"Basic bXktdXNlcjpteS1wYXNzd29yZA=="),
            Some(("my-user".into(), "my-password".into()))
        );
        assert_eq!(
            basic_auth(b"bAsIc bXktdXNlcjpteS1wYXNzd29yZA=="),
            Some(("my-user".into(), "my-password".into()))
        );
        // Padding is required; a missing colon is not Basic auth.
        assert_eq!(basic_auth(b"Basic bXktdXNlcjpteS1wYXNzd29yZA"), None);
        assert_eq!(basic_auth(b"Basic bXktdXNlcg=="), None);
        // "a:b:c" splits at the first colon.
        assert_eq!(
            basic_auth(b"Basic YTpiOmM="),
            Some(("a".into(), "b:c".into()))
        );
        assert_eq!(basic_auth(b"Basic "), None);
        assert_eq!(basic_auth(b"Token abc"), None);
        assert_eq!(basic_auth(b"Basic YT=6Yg=="), None);
    }

    #[test]
    fn v1_credentials_in_order() {
        assert_eq!(
            v1_credentials(Some("u"), Some("tok"), Some(b"Token other")),
            V1Credentials::Token("tok".into())
        );
        assert_eq!(
            v1_credentials(Some(""), Some("tok"), Some(b"Token other")),
            V1Credentials::Token("other".into())
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"Token me:tok")),
            V1Credentials::Token("tok".into())
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"token tok")),
            V1Credentials::None
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"Bearer tok")),
            V1Credentials::None
        );
        // "me:tok" in base64
        assert_eq!(
            v1_credentials(None, None, Some(b"Basic bWU6dG9r")),
            V1Credentials::Token("tok".into())
        );
        // Go's `BasicAuth` takes the scheme in any case...
        assert_eq!(
            v1_credentials(None, None, Some(b"basic bWU6dG9r")),
            V1Credentials::Token("tok".into())
        );
        // ...and padded base64 only ("ux:tok1" is `dXg6dG9rMQ==`).
        assert_eq!(
            v1_credentials(None, None, Some(b"Basic dXg6dG9rMQ")),
            V1Credentials::None
        );
        // `Token` needs exactly two space-separated parts.
        assert_eq!(
            v1_credentials(None, None, Some(b"Token  tok")),
            V1Credentials::None
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"Token a tok")),
            V1Credentials::None
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"Token ")),
            V1Credentials::Token(String::new())
        );
        assert_eq!(
            v1_credentials(None, None, Some(b"Token a:b:c")),
            V1Credentials::Token("b:c".into())
        );
        assert_eq!(v1_credentials(None, None, None), V1Credentials::None);
    }
}
