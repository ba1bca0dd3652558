//! Where tokens and session keys come from. A served reference must not hand out guessable
//! credentials: by default they are 64 bytes from the operating system's CSPRNG, URL-safe
//! base64 with padding (88 characters ending `==`), as InfluxDB's `rand.NewTokenGenerator(64)`
//! makes them (`rand/token.go`). Reproducible runs (the harness in-process, tests that compare
//! bytes) ask for [`Secrets::Deterministic`] explicitly; IDs stay deterministic either way.

/// How secrets are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Secrets {
    /// The operating system's CSPRNG (`getrandom`): what a server reachable by others needs.
    #[default]
    OsRandom,
    /// A fixed-seed stream, the same run after run. For tests only: anyone who knows the seed
    /// knows every token.
    Deterministic(u64),
}

/// A secret generator in a store.
#[derive(Debug, Clone)]
pub(crate) struct SecretGenerator {
    kind: Secrets,
    state: u64,
}

/// Bytes of randomness in one token or session key.
const SECRET_BYTES: usize = 64;

impl SecretGenerator {
    pub(crate) fn new(kind: Secrets) -> Self {
        let state = match kind {
            Secrets::OsRandom => 0,
            // Kept apart from the ID stream of the same seed, so no token is computable from
            // an authorization's public ID even in deterministic runs.
            Secrets::Deterministic(seed) => seed ^ 0x5EC2_E7A5_7D11_03C9,
        };
        Self { kind, state }
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self.kind {
            Secrets::OsRandom => {
                // The OS generator does not fail on supported platforms; if it ever does,
                // refusing to continue beats handing out a predictable token.
                if let Err(e) = getrandom::fill(buf) {
                    panic!("the operating system's random generator failed: {e}");
                }
            }
            Secrets::Deterministic(_) => {
                for chunk in buf.chunks_mut(8) {
                    // splitmix64
                    self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = self.state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
                }
            }
        }
    }

    /// A new token or session key: 64 random bytes, `base64.URLEncoding` (padded).
    pub(crate) fn token(&mut self) -> String {
        let mut raw = [0u8; SECRET_BYTES];
        self.fill(&mut raw);
        base64_url_padded(&raw)
    }
}

/// Go's `base64.URLEncoding.EncodeToString`: alphabet `A–Z a–z 0–9 - _`, `=` padding.
fn base64_url_padded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go_url_encoding() {
        assert_eq!(base64_url_padded(b""), "");
        assert_eq!(base64_url_padded(b"f"), "Zg==");
        assert_eq!(base64_url_padded(b"fo"), "Zm8=");
        assert_eq!(base64_url_padded(b"foo"), "Zm9v");
        assert_eq!(base64_url_padded(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn tokens_are_88_url_safe_characters() {
        for kind in [Secrets::OsRandom, Secrets::Deterministic(7)] {
            let mut g = SecretGenerator::new(kind);
            let t = g.token();
            assert_eq!(t.len(), 88);
            assert!(t.ends_with("=="));
            assert!(t[..86]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }

    #[test]
    fn os_tokens_differ_between_generators_and_deterministic_ones_repeat() {
        let a = SecretGenerator::new(Secrets::OsRandom).token();
        let b = SecretGenerator::new(Secrets::OsRandom).token();
        assert_ne!(a, b);
        let c = SecretGenerator::new(Secrets::Deterministic(7)).token();
        let d = SecretGenerator::new(Secrets::Deterministic(7)).token();
        assert_eq!(c, d);
        let mut g = SecretGenerator::new(Secrets::Deterministic(7));
        assert_ne!(g.token(), g.token());
    }
}
