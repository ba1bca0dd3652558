use std::fmt;

/// A 64-bit platform ID, shown as 16 lowercase hex digits (`kit/platform/id.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

/// Why a string is not an ID, with InfluxDB's own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("id must have a length of 16 bytes")]
    Length,
    #[error("invalid ID")]
    Invalid,
}

impl Id {
    pub fn new(value: u64) -> Option<Self> {
        (value != 0).then_some(Self(value))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// [`Id::parse`] of a Go string's bytes: the length is checked first, in bytes.
    pub fn parse_bytes(b: &[u8]) -> Result<Self, IdError> {
        if b.len() != 16 {
            return Err(IdError::Length);
        }
        std::str::from_utf8(b)
            .map_err(|_| IdError::Invalid)
            .and_then(Self::parse)
    }

    /// Decodes 16 hex digits; the zero ID is invalid, as in `platform.ID.Decode`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() != 16 {
            return Err(IdError::Length);
        }
        let value = u64::from_str_radix(s, 16).map_err(|_| IdError::Invalid)?;
        // from_str_radix accepts a leading '+', Go's hex decoder does not.
        if s.starts_with('+') {
            return Err(IdError::Invalid);
        }
        Self::new(value).ok_or(IdError::Invalid)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Deterministic ID source: a seeded splitmix64 sequence, so that a store built the same way
/// twice hands out the same IDs (outcomes stay reproducible).
#[derive(Debug, Clone)]
pub struct IdGenerator {
    state: u64,
}

impl IdGenerator {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_id(&mut self) -> Id {
        loop {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            if let Some(id) = Id::new(z) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let id = Id::parse("0a1b2c3d4e5f6a7b").unwrap();
        assert_eq!(id.to_string(), "0a1b2c3d4e5f6a7b");
        assert_eq!(Id::parse("0A1B2C3D4E5F6A7B").unwrap(), id);
    }

    #[test]
    fn parse_errors_use_influxdb_messages() {
        assert_eq!(
            Id::parse("abc").unwrap_err().to_string(),
            "id must have a length of 16 bytes"
        );
        assert_eq!(
            Id::parse("zzzzzzzzzzzzzzzz").unwrap_err().to_string(),
            "invalid ID"
        );
        assert_eq!(
            Id::parse("0000000000000000").unwrap_err().to_string(),
            "invalid ID"
        );
        assert_eq!(
            Id::parse("+a1b2c3d4e5f6a7b").unwrap_err().to_string(),
            "invalid ID"
        );
    }

    #[test]
    fn generator_is_deterministic() {
        let a: Vec<_> = (0..4)
            .map({
                let mut g = IdGenerator::new(7);
                move |_| g.next_id()
            })
            .collect();
        let mut g = IdGenerator::new(7);
        let b: Vec<_> = (0..4).map(|_| g.next_id()).collect();
        assert_eq!(a, b);
    }
}
