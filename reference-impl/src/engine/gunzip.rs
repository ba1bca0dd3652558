//! Reading a gzip request body the way Go's `compress/gzip` does, so that each failure maps to
//! the same InfluxDB answer:
//! - errors while `gzip.NewReader` reads the first header (empty body, short header, bad magic)
//!   surface raw from `decodeWriteRequest`: 500 with the generic internal message;
//! - later errors are read errors: `gzip: invalid header` and `gzip: invalid checksum` are 400,
//!   anything else (`unexpected EOF`, `flate: corrupt input before offset N`) is 500;
//! - the decompressed size limit (when configured) is 413.
//!
//! Multistream bodies (several members back to back) are read like Go: after a member's
//! trailer another header may follow; clean end of input ends the stream. Each member's
//! deflate data is read by a port of Go's `flate` reader ([`super::inflate`]), so a corrupt
//! one fails with Go's message and offset.

use super::inflate::inflate_member;

/// Why reading a gzip body failed, in Go's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GunzipError {
    /// `io.EOF` from the first header read (empty body).
    #[error("EOF")]
    Eof,
    #[error("unexpected EOF")]
    UnexpectedEof,
    #[error("gzip: invalid header")]
    Header,
    #[error("gzip: invalid checksum")]
    Checksum,
    #[error("flate: corrupt input before offset {0}")]
    Corrupt(u64),
    /// More decompressed bytes than the limit allows.
    #[error("points batch is too large")]
    TooLarge,
}

const FLAG_HCRC: u8 = 1 << 1;
const FLAG_EXTRA: u8 = 1 << 2;
const FLAG_NAME: u8 = 1 << 3;
const FLAG_COMMENT: u8 = 1 << 4;

/// Parses one member header at `input[pos..]`, returning the offset of the deflate data.
fn read_header(input: &[u8], pos: usize) -> Result<usize, GunzipError> {
    let rest = &input[pos..];
    if rest.is_empty() {
        return Err(GunzipError::Eof);
    }
    if rest.len() < 10 {
        return Err(GunzipError::UnexpectedEof);
    }
    if rest[0] != 0x1f || rest[1] != 0x8b || rest[2] != 8 {
        return Err(GunzipError::Header);
    }
    let flags = rest[3];
    let mut i = 10;
    if flags & FLAG_EXTRA != 0 {
        let len = rest.get(i..i + 2).ok_or(GunzipError::UnexpectedEof)?;
        let n = usize::from(u16::from_le_bytes([len[0], len[1]]));
        i += 2;
        if rest.len() < i + n {
            return Err(GunzipError::UnexpectedEof);
        }
        i += n;
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            // Go reads the NUL-terminated string into a 512-byte buffer.
            let window = &rest[i..rest.len().min(i + 512)];
            match window.iter().position(|&b| b == 0) {
                Some(n) => i += n + 1,
                None if window.len() == 512 => return Err(GunzipError::Header),
                None => return Err(GunzipError::UnexpectedEof),
            }
        }
    }
    if flags & FLAG_HCRC != 0 {
        let stored = rest.get(i..i + 2).ok_or(GunzipError::UnexpectedEof)?;
        let stored = u16::from_le_bytes([stored[0], stored[1]]);
        let mut crc = flate2::Crc::new();
        crc.update(&rest[..i]);
        if crc.sum() as u16 != stored {
            return Err(GunzipError::Header);
        }
        i += 2;
    }
    Ok(pos + i)
}

/// What `gzip.NewReader` checks before the handler reads the body: the first header only.
pub fn check_first_header(input: &[u8]) -> Result<(), GunzipError> {
    read_header(input, 0).map(|_| ())
}

/// Decompresses a whole (possibly multistream) gzip body. `limit` caps the decompressed size:
/// exactly `limit` bytes pass, one more is [`GunzipError::TooLarge`].
pub fn gunzip(input: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    match gunzip_capped(input, limit)? {
        (out, false) => Ok(out),
        (_, true) => Err(GunzipError::TooLarge),
    }
}

/// Like [`gunzip`], but past `limit` it stops and returns the first `limit` bytes with `true`
/// (InfluxDB Cloud writes what came before its 250 MB decompression cut-off).
pub fn gunzip_capped(input: &[u8], limit: usize) -> Result<(Vec<u8>, bool), GunzipError> {
    // The last member's trailer ends with its size mod 2^32 (ISIZE): for the usual body of one
    // member it is the whole size, so the output is allocated once instead of doubling (which
    // peaks at twice the body while the old buffer is copied). Deflate expands at most ~1032:1,
    // which bounds what a lying trailer can make us reserve.
    let isize_hint = input
        .len()
        .checked_sub(4)
        .map(|at| {
            u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize
        })
        .unwrap_or(0)
        .min(input.len().saturating_mul(1032));
    let mut out: Vec<u8> = Vec::new();
    // An allocation the process cannot make is a body too large for it now, never an abort.
    out.try_reserve_exact(
        input
            .len()
            .saturating_mul(4)
            .min(64 << 20)
            .max(isize_hint)
            .min(limit.saturating_add(1)),
    )
    .map_err(|_| GunzipError::TooLarge)?;
    let mut pos = read_header(input, 0)?;
    loop {
        let member_start = out.len();
        // Go's `flate` reader, as `gzip.Reader` resets it for each member.
        let Some(end) = inflate_member(input, pos, &mut out, limit)? else {
            out.truncate(limit);
            return Ok((out, true));
        };
        pos = end;
        let trailer = input.get(pos..pos + 8).ok_or(GunzipError::UnexpectedEof)?;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        let mut digest = flate2::Crc::new();
        digest.update(&out[member_start..]);
        if digest.sum() != crc || (out.len() - member_start) as u32 != size {
            return Err(GunzipError::Checksum);
        }
        pos += 8;
        match read_header(input, pos) {
            Ok(next) => pos = next,
            Err(GunzipError::Eof) => return Ok((out, false)),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trip_and_multistream() {
        assert_eq!(gunzip(&gz(b"m v=1"), usize::MAX).unwrap(), b"m v=1");
        let mut two = gz(b"a v=1\n");
        two.extend(gz(b"b v=2"));
        assert_eq!(gunzip(&two, usize::MAX).unwrap(), b"a v=1\nb v=2");
    }

    #[test]
    fn header_errors() {
        assert_eq!(check_first_header(b""), Err(GunzipError::Eof));
        assert_eq!(
            check_first_header(b"\x1f\x8b"),
            Err(GunzipError::UnexpectedEof)
        );
        assert_eq!(
            check_first_header(b"m v=1 plain text"),
            Err(GunzipError::Header)
        );
    }

    #[test]
    fn truncated_and_corrupted_bodies() {
        let body = gz(b"m v=1 1234567890");
        assert_eq!(
            gunzip(&body[..body.len() - 4], usize::MAX),
            Err(GunzipError::UnexpectedEof)
        );
        assert_eq!(
            gunzip(&body[..12], usize::MAX),
            Err(GunzipError::UnexpectedEof)
        );
        let mut bad_crc = body.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 0xff;
        assert_eq!(gunzip(&bad_crc, usize::MAX), Err(GunzipError::Checksum));
        let mut trailing = body.clone();
        trailing.extend_from_slice(b"garbage!!!!");
        assert_eq!(gunzip(&trailing, usize::MAX), Err(GunzipError::Header));
        let mut short_trailing = body;
        short_trailing.extend_from_slice(b"\x1f");
        assert_eq!(
            gunzip(&short_trailing, usize::MAX),
            Err(GunzipError::UnexpectedEof)
        );
    }

    #[test]
    fn limit_counts_decompressed_bytes() {
        let body = gz(&[b'x'; 100]);
        assert_eq!(gunzip(&body, 100).unwrap().len(), 100);
        assert_eq!(gunzip(&body, 99), Err(GunzipError::TooLarge));
    }

    #[test]
    fn the_output_grows_past_a_size_hint_that_lies() {
        // The last member's ISIZE says 1 byte; the first member inflates to 300 KiB.
        let big: Vec<u8> = (0..300 * 1024).map(|i| b'a' + (i % 7) as u8).collect();
        let mut body = gz(&big);
        body.extend(gz(b"z"));
        let mut want = big.clone();
        want.push(b'z');
        assert_eq!(gunzip(&body, usize::MAX).unwrap(), want);
        // The limit holds however the room grew: exactly `limit` passes, one byte less cuts.
        assert_eq!(gunzip(&body, want.len()).unwrap(), want);
        let (cut, over) = gunzip_capped(&body, 200 * 1024).unwrap();
        assert!(over);
        assert_eq!(cut[..], big[..200 * 1024]);
    }

    #[test]
    fn a_kept_inflater_starts_clean_after_a_broken_body() {
        let good = gz(b"m v=1 1\nm v=2 2");
        let long = gz(&[b'q'; 70_000]);
        let mut corrupt = long.clone();
        corrupt[12] ^= 0x55;
        // Left mid-stream (cut), failed (corrupt) or finished: the next body on this thread
        // inflates as on a new inflater.
        for broken in [&long[..long.len() / 2], &corrupt[..], &long[..]] {
            let _ = gunzip(broken, usize::MAX);
            assert_eq!(gunzip(&good, usize::MAX).unwrap(), b"m v=1 1\nm v=2 2");
        }
        // And a body that fails the same way again fails the same way.
        let first = gunzip(&corrupt, usize::MAX);
        assert_eq!(gunzip(&corrupt, usize::MAX), first);
    }
}
