//! Reading credentials: the `/api/v2` middleware and the v1-compat endpoints differ.

use crate::api_error::{ApiError, Code};
use crate::storage::{Authorization, Status, Store};

/// 401 `unauthorized access`, the answer to every `/api/v2` authentication failure.
pub fn unauthorized_access() -> ApiError {
    ApiError::new(Code::Unauthorized, "unauthorized access")
}

/// The token in an `Authorization` header as `/api/v2` reads it (`http/tokens.go`,
/// `GetToken`): `Token ` or `Bearer `, matched case-insensitively; the rest verbatim.
pub fn v2_header_token(header: &[u8]) -> Option<&[u8]> {
    for scheme in [&b"Token "[..], &b"Bearer "[..]] {
        if header.len() >= scheme.len() && header[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&header[scheme.len()..]);
        }
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

fn check_user_active(store: &Store, auth: &Authorization) -> Result<(), ApiError> {
    match store.users.get(&auth.user_id) {
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

/// Parses v1 credentials from the query's `u`/`p` and the `Authorization` header:
/// `Token <tok>` or `Token <user>:<tok>` (case-sensitive `Token`, exactly one space; `Bearer`
/// is not recognised), then HTTP Basic with the password as the token.
pub fn v1_credentials(u: Option<&str>, p: Option<&str>, header: Option<&[u8]>) -> V1Credentials {
    if let (Some(u), Some(p)) = (u, p) {
        if !u.is_empty() && !p.is_empty() {
            return V1Credentials::Token(p.to_string());
        }
    }
    let Some(header) = header else {
        return V1Credentials::None;
    };
    if let Some(rest) = header.strip_prefix(b"Token ") {
        let rest = String::from_utf8_lossy(rest);
        let token = match rest.split_once(':') {
            Some((_, tok)) => tok.to_string(),
            None => rest.into_owned(),
        };
        return V1Credentials::Token(token);
    }
    if let Some(encoded) = header.strip_prefix(b"Basic ") {
        if let Some(decoded) = decode_base64(encoded) {
            let decoded = String::from_utf8_lossy(&decoded);
            if let Some((_, password)) = decoded.split_once(':') {
                return V1Credentials::Token(password.to_string());
            }
        }
    }
    V1Credentials::None
}

/// v1 authentication: no credentials → 401 `unauthorized access`; a bad or inactive token →
/// 401 `Unauthorized` (capital U, `ErrCredentialsUnauthorized`).
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
    check_user_active(store, auth)?;
    Ok(auth)
}

/// Standard base64 (with or without padding), enough for HTTP Basic.
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
        assert_eq!(v1_credentials(None, None, None), V1Credentials::None);
    }
}
