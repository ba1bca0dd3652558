//! Go's `compress/flate` decompressor (`inflate.go`, unchanged from go1.19 to go1.23, the
//! toolchain of InfluxDB 2.7.12), ported rule for rule so that a corrupt gzip body fails where
//! and how InfluxDB's fails:
//! - `flate: corrupt input before offset N`, where `N` is Go's `roffset`: the bytes of the
//!   member's deflate data its bit reader had taken when it gave up. Go reads one byte at a time
//!   and only when the next code needs it, except that a dynamic block's literal table reads at
//!   least as many bits as its end-of-block code before it looks (`h1.min`), so `N` is not
//!   simply where the bad bits are;
//! - `unexpected EOF` for input that ends inside a block (a stored block's header or data
//!   included: `io.ReadFull`'s `EOF` goes through `noEOF`);
//! - the checks zlib-family inflaters do differently: a distance before the start of the
//!   member's output, an incomplete code, no distance code in a dynamic block, literal/length
//!   symbols 286 and 287, distance codes 30 and 31.
//!
//! Output goes straight into the caller's vector (the whole body is kept anyway), so there is
//! no 32 KiB window to allocate or clear per body: a match may reach back at most 32,768
//! bytes and never before the member's first byte, which is Go's `histSize` check.

use super::gunzip::GunzipError;

const CHUNK_BITS: u32 = 9;
const NUM_CHUNKS: usize = 1 << CHUNK_BITS;
const COUNT_MASK: u32 = 15;
const VALUE_SHIFT: u32 = 4;
const MAX_CODE_LEN: usize = 16;
const MAX_NUM_LIT: usize = 286;
const MAX_NUM_DIST: usize = 30;
const NUM_CODES: usize = 19;
const END_BLOCK: usize = 256;
/// The furthest a match reaches back (Go's `maxMatchOffset`, the window size).
const MAX_MATCH_OFFSET: usize = 1 << 15;
/// The order in which a dynamic block sends its code-length code lengths (RFC 1951 3.2.7).
const CODE_ORDER: [usize; NUM_CODES] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A Huffman decoding table as Go's `huffmanDecoder` builds it: codes of at most nine bits are
/// looked up in `chunks` directly (`value << 4 | length`); a longer code's first nine bits
/// find a link table (length 10 in the chunk) indexed by the rest. A chunk of 0 is no code.
struct Huffman {
    min: u32,
    chunks: [u32; NUM_CHUNKS],
    /// The link tables back to back, each `num_links` long.
    links: Vec<u32>,
    num_links: usize,
    link_mask: u32,
}

impl Huffman {
    fn new() -> Self {
        Huffman {
            min: 0,
            chunks: [0; NUM_CHUNKS],
            links: Vec::new(),
            num_links: 0,
            link_mask: 0,
        }
    }

    /// Builds the table for `lengths` (one code length per symbol, 0 for none). False when the
    /// lengths do not make a complete code; one code of length 1 is accepted, as zlib does;
    /// no code at all is accepted too, and then every lookup fails.
    fn init(&mut self, lengths: &[u8]) -> bool {
        if self.min != 0 {
            self.min = 0;
            self.chunks = [0; NUM_CHUNKS];
            self.links.clear();
            self.num_links = 0;
            self.link_mask = 0;
        }
        let mut count = [0usize; MAX_CODE_LEN];
        let (mut min, mut max) = (0usize, 0usize);
        for &n in lengths {
            let n = usize::from(n);
            if n == 0 {
                continue;
            }
            if min == 0 || n < min {
                min = n;
            }
            max = max.max(n);
            count[n] += 1;
        }
        if max == 0 {
            return true;
        }
        let mut code = 0usize;
        let mut next_code = [0usize; MAX_CODE_LEN];
        for i in min..=max {
            code <<= 1;
            next_code[i] = code;
            code += count[i];
        }
        if code != 1 << max && !(code == 1 && max == 1) {
            return false;
        }
        self.min = min as u32;
        if max > CHUNK_BITS as usize {
            let num_links = 1usize << (max - CHUNK_BITS as usize);
            self.num_links = num_links;
            self.link_mask = (num_links - 1) as u32;
            let link = (next_code[CHUNK_BITS as usize + 1] >> 1).min(NUM_CHUNKS);
            self.links.resize((NUM_CHUNKS - link) * num_links, 0);
            for j in link..NUM_CHUNKS {
                let reverse = usize::from((j as u16).reverse_bits()) >> (16 - CHUNK_BITS);
                let off = j - link;
                self.chunks[reverse] = ((off as u32) << VALUE_SHIFT) | (CHUNK_BITS + 1);
            }
        }
        for (symbol, &n) in lengths.iter().enumerate() {
            let n = usize::from(n);
            if n == 0 {
                continue;
            }
            let code = next_code[n];
            next_code[n] += 1;
            let chunk = ((symbol as u32) << VALUE_SHIFT) | n as u32;
            let reverse = usize::from((code as u16).reverse_bits()) >> (16 - n);
            if n <= CHUNK_BITS as usize {
                let mut off = reverse;
                while off < NUM_CHUNKS {
                    self.chunks[off] = chunk;
                    off += 1 << n;
                }
            } else {
                // A complete code always finds its link table here; the lookups stay checked
                // so that nothing can index out of bounds.
                let value = (self.chunks[reverse & (NUM_CHUNKS - 1)] >> VALUE_SHIFT) as usize;
                let start = value * self.num_links;
                if let Some(table) = self.links.get_mut(start..start + self.num_links) {
                    let mut off = reverse >> CHUNK_BITS;
                    while off < table.len() {
                        table[off] = chunk;
                        off += 1 << (n - CHUNK_BITS as usize);
                    }
                }
            }
        }
        true
    }
}

/// The fixed literal/length table of RFC 1951 3.2.6 (symbols 286 and 287 included, as Go
/// builds it: they decode, then fail as corrupt).
fn fixed_literals() -> &'static Huffman {
    static FIXED: std::sync::OnceLock<Huffman> = std::sync::OnceLock::new();
    FIXED.get_or_init(|| {
        let mut lengths = [0u8; 288];
        lengths[..144].fill(8);
        lengths[144..256].fill(9);
        lengths[256..280].fill(7);
        lengths[280..].fill(8);
        let mut h = Huffman::new();
        h.init(&lengths);
        h
    })
}

/// Why one member's deflate data could not be read, or that its output passed the limit.
enum Stop {
    Failed(GunzipError),
    OverLimit,
}

impl From<GunzipError> for Stop {
    fn from(e: GunzipError) -> Self {
        Stop::Failed(e)
    }
}

/// One member's inflate: Go's bit reader over the input (`b` holds `nb` unread bits, low bit
/// first) and its two dynamic tables.
struct Inflater<'a> {
    input: &'a [u8],
    pos: usize,
    /// Where the member's deflate data starts: Go's `roffset` is `pos - start`.
    start: usize,
    b: u32,
    nb: u32,
    h1: Huffman,
    h2: Huffman,
    bits: [u8; MAX_NUM_LIT + MAX_NUM_DIST],
    code_bits: [u8; NUM_CODES],
}

/// Inflates the member whose deflate data starts at `input[start..]`, appending to `out`.
/// Returns where the deflate data ended (the first byte Go's reader did not take), or
/// `Ok(None)` as soon as `out` holds more than `limit` bytes (Go's reader, behind the batch
/// size limit, stops there and never sees what follows).
pub(crate) fn inflate_member(
    input: &[u8],
    start: usize,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<Option<usize>, GunzipError> {
    let mut f = Inflater {
        input,
        pos: start,
        start,
        b: 0,
        nb: 0,
        h1: Huffman::new(),
        h2: Huffman::new(),
        bits: [0; MAX_NUM_LIT + MAX_NUM_DIST],
        code_bits: [0; NUM_CODES],
    };
    let member_start = out.len();
    match f.run(out, member_start, limit) {
        Ok(()) => Ok(Some(f.pos)),
        Err(Stop::OverLimit) => Ok(None),
        // Everything inflated before the error reaches the reader with it, so a member that
        // already passed the limit is too large whatever follows.
        Err(Stop::Failed(_)) if out.len() > limit => Ok(None),
        Err(Stop::Failed(e)) => Err(e),
    }
}

impl Inflater<'_> {
    fn roffset(&self) -> u64 {
        (self.pos - self.start) as u64
    }

    fn corrupt(&self) -> Stop {
        Stop::Failed(GunzipError::Corrupt(self.roffset()))
    }

    /// Go's `moreBits`: one more input byte into the bit buffer.
    fn more_bits(&mut self) -> Result<(), Stop> {
        let c = *self
            .input
            .get(self.pos)
            .ok_or(Stop::Failed(GunzipError::UnexpectedEof))?;
        self.pos += 1;
        self.b |= u32::from(c) << (self.nb & 31);
        self.nb += 8;
        Ok(())
    }

    /// `n` (at most 16) bits, low bit first.
    fn take(&mut self, n: u32) -> Result<u32, Stop> {
        while self.nb < n {
            self.more_bits()?;
        }
        let v = self.b & ((1u32 << n) - 1);
        self.b >>= n;
        self.nb -= n;
        Ok(v)
    }

    /// Go's `huffSym`: reads bytes until the table can tell the code's length, then takes it.
    fn huff_sym(&mut self, h: &Huffman) -> Result<usize, Stop> {
        let mut n = h.min;
        loop {
            while self.nb < n {
                self.more_bits()?;
            }
            let mut chunk = h.chunks[(self.b as usize) & (NUM_CHUNKS - 1)];
            n = chunk & COUNT_MASK;
            if n > CHUNK_BITS {
                let at = (chunk >> VALUE_SHIFT) as usize * h.num_links
                    + ((self.b >> CHUNK_BITS) & h.link_mask) as usize;
                chunk = h.links.get(at).copied().unwrap_or(0);
                n = chunk & COUNT_MASK;
            }
            if n <= self.nb {
                if n == 0 {
                    return Err(self.corrupt());
                }
                self.b >>= n;
                self.nb -= n;
                return Ok((chunk >> VALUE_SHIFT) as usize);
            }
        }
    }

    /// Go's `nextBlock` loop until the final block's end.
    fn run(&mut self, out: &mut Vec<u8>, member_start: usize, limit: usize) -> Result<(), Stop> {
        loop {
            let header = self.take(3)?;
            let final_block = header & 1 == 1;
            match header >> 1 {
                0 => self.stored_block(out, limit)?,
                1 => self.huffman_block(out, member_start, limit, None)?,
                2 => {
                    self.read_huffman()?;
                    let h1 = std::mem::replace(&mut self.h1, Huffman::new());
                    let h2 = std::mem::replace(&mut self.h2, Huffman::new());
                    let done = self.huffman_block(out, member_start, limit, Some((&h1, &h2)));
                    self.h1 = h1;
                    self.h2 = h2;
                    done?;
                }
                _ => return Err(self.corrupt()),
            }
            if final_block {
                return Ok(());
            }
        }
    }

    /// Go's `dataBlock` and `copyData`: the rest of the current byte is dropped, then LEN,
    /// NLEN and LEN bytes as they are.
    fn stored_block(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), Stop> {
        self.nb = 0;
        self.b = 0;
        let header = self.input.get(self.pos..self.pos + 4);
        let Some(header) = header else {
            self.pos = self.input.len();
            return Err(Stop::Failed(GunzipError::UnexpectedEof));
        };
        self.pos += 4;
        let n = usize::from(u16::from_le_bytes([header[0], header[1]]));
        let nn = u16::from_le_bytes([header[2], header[3]]);
        if nn != !(n as u16) {
            return Err(self.corrupt());
        }
        let available = (self.input.len() - self.pos).min(n);
        reserve(out, available, limit)?;
        out.extend_from_slice(&self.input[self.pos..self.pos + available]);
        self.pos += available;
        if available < n {
            return Err(Stop::Failed(GunzipError::UnexpectedEof));
        }
        if out.len() > limit {
            return Err(Stop::OverLimit);
        }
        Ok(())
    }

    /// Go's `readHuffman`: a dynamic block's header and its two tables, into `h1` and `h2`.
    fn read_huffman(&mut self) -> Result<(), Stop> {
        while self.nb < 5 + 5 + 4 {
            self.more_bits()?;
        }
        let nlit = (self.b & 0x1f) as usize + 257;
        if nlit > MAX_NUM_LIT {
            return Err(self.corrupt());
        }
        self.b >>= 5;
        let ndist = (self.b & 0x1f) as usize + 1;
        if ndist > MAX_NUM_DIST {
            return Err(self.corrupt());
        }
        self.b >>= 5;
        let nclen = (self.b & 0xf) as usize + 4;
        self.b >>= 4;
        self.nb -= 5 + 5 + 4;
        for &symbol in &CODE_ORDER[..nclen] {
            self.code_bits[symbol] = self.take(3)? as u8;
        }
        for &symbol in &CODE_ORDER[nclen..] {
            self.code_bits[symbol] = 0;
        }
        let code_bits = self.code_bits;
        let mut h1 = std::mem::replace(&mut self.h1, Huffman::new());
        let built = h1.init(&code_bits);
        let lengths = if built {
            self.read_lengths(&h1, nlit + ndist)
        } else {
            Err(self.corrupt())
        };
        self.h1 = h1;
        lengths?;
        let bits = self.bits;
        if !self.h1.init(&bits[..nlit]) || !self.h2.init(&bits[nlit..nlit + ndist]) {
            return Err(self.corrupt());
        }
        // The end-of-block code is in every block, so the literal table reads at least its
        // length before a lookup.
        self.h1.min = self.h1.min.max(u32::from(self.bits[END_BLOCK]));
        Ok(())
    }

    /// The `n` literal/length and distance code lengths, in the code-length code `h`.
    fn read_lengths(&mut self, h: &Huffman, n: usize) -> Result<(), Stop> {
        let mut i = 0;
        while i < n {
            let x = self.huff_sym(h)?;
            if x < 16 {
                self.bits[i] = x as u8;
                i += 1;
                continue;
            }
            let (rep, nb, b) = match x {
                16 => {
                    if i == 0 {
                        return Err(self.corrupt());
                    }
                    (3, 2, self.bits[i - 1])
                }
                17 => (3, 3, 0),
                // The code-length code has 19 symbols: 18 is the last.
                _ => (11, 7, 0),
            };
            let rep = rep + self.take(nb)? as usize;
            if i + rep > n {
                return Err(self.corrupt());
            }
            self.bits[i..i + rep].fill(b);
            i += rep;
        }
        Ok(())
    }

    /// Go's `huffmanBlock`: symbols until the end-of-block code. `tables` is a dynamic block's
    /// (literal/length, distance) pair; `None` is the fixed code, whose distances are five
    /// plain bits, reversed.
    fn huffman_block(
        &mut self,
        out: &mut Vec<u8>,
        member_start: usize,
        limit: usize,
        tables: Option<(&Huffman, &Huffman)>,
    ) -> Result<(), Stop> {
        let literals: &Huffman = match tables {
            Some((literals, _)) => literals,
            None => fixed_literals(),
        };
        loop {
            let v = self.huff_sym(literals)?;
            let (base, extra_bits) = match v {
                0..=255 => {
                    if out.len() == out.capacity() {
                        reserve(out, 1, limit)?;
                    }
                    out.push(v as u8);
                    if out.len() > limit {
                        return Err(Stop::OverLimit);
                    }
                    continue;
                }
                END_BLOCK => return Ok(()),
                257..=264 => (v - (257 - 3), 0),
                265..=268 => (v * 2 - (265 * 2 - 11), 1),
                269..=272 => (v * 4 - (269 * 4 - 19), 2),
                273..=276 => (v * 8 - (273 * 8 - 35), 3),
                277..=280 => (v * 16 - (277 * 16 - 67), 4),
                281..=284 => (v * 32 - (281 * 32 - 131), 5),
                285 => (258, 0),
                _ => return Err(self.corrupt()),
            };
            let length = base
                + if extra_bits > 0 {
                    self.take(extra_bits)? as usize
                } else {
                    0
                };
            let code = match tables {
                None => usize::from(((self.take(5)? as u8) << 3).reverse_bits()),
                Some((_, distances)) => self.huff_sym(distances)?,
            };
            let dist = match code {
                0..=3 => code + 1,
                4..=29 => {
                    let nb = ((code - 2) >> 1) as u32;
                    let extra = ((code & 1) << nb) | self.take(nb)? as usize;
                    (1 << (nb + 1)) + 1 + extra
                }
                _ => return Err(self.corrupt()),
            };
            if dist > (out.len() - member_start).min(MAX_MATCH_OFFSET) {
                return Err(self.corrupt());
            }
            reserve(out, length, limit)?;
            copy_match(out, dist, length);
            if out.len() > limit {
                return Err(Stop::OverLimit);
            }
        }
    }
}

/// Appends `length` bytes copied from `dist` bytes back, byte by byte in effect (a match may
/// overlap what it writes: `dist` 1 repeats the last byte).
fn copy_match(out: &mut Vec<u8>, dist: usize, length: usize) {
    let from = out.len() - dist;
    let mut left = length;
    while left > 0 {
        // Everything from `from` on is already written: copy as much of it as is needed.
        let n = left.min(out.len() - from);
        out.extend_from_within(from..from + n);
        left -= n;
    }
}

/// Room for `need` more bytes, growing by doubling (at least 32 KiB) but never much past one
/// byte over `limit`. An allocation the process cannot make is a body too large for it.
fn reserve(out: &mut Vec<u8>, need: usize, limit: usize) -> Result<(), Stop> {
    if out.capacity() - out.len() >= need {
        return Ok(());
    }
    let room = out
        .len()
        .max(32 * 1024)
        .min(limit.saturating_add(1).saturating_sub(out.len()))
        .max(need);
    out.try_reserve_exact(room)
        .map_err(|_| Stop::Failed(GunzipError::TooLarge))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(deflate: &[u8]) -> Result<Vec<u8>, GunzipError> {
        let mut out = Vec::new();
        inflate_member(deflate, 0, &mut out, usize::MAX).map(|_| out)
    }

    #[test]
    fn the_fixed_table_decodes_every_symbol() {
        let h = fixed_literals();
        assert_eq!(h.min, 7);
        // Literal 'a' (0x61) is the 8-bit code 0x30 + 0x61, sent high bit first.
        let code = (0x30u16 + 0x61).reverse_bits() >> 8;
        let chunk = h.chunks[code as usize & (NUM_CHUNKS - 1)];
        assert_eq!((chunk >> VALUE_SHIFT, chunk & COUNT_MASK), (0x61, 8));
    }

    #[test]
    fn incomplete_and_degenerate_codes() {
        let mut h = Huffman::new();
        assert!(!h.init(&[1, 2]), "incomplete");
        assert!(h.init(&[1]), "one code of length 1");
        assert!(h.init(&[0, 0]), "no code");
        assert_eq!(h.min, 0);
        assert!(h.init(&[2, 2, 2, 2]));
        assert_eq!(h.min, 2);
        // A code longer than nine bits goes through a link table.
        let mut lengths = vec![1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15];
        assert!(h.init(&lengths));
        assert_eq!(h.num_links, 64);
        lengths[15] = 14;
        assert!(!h.init(&lengths), "over-subscribed");
    }

    #[test]
    fn a_match_before_the_first_byte_is_corrupt() {
        // Fixed block: literal 'a', length 3 (symbol 257, 7-bit code 0) at distance 1 (5-bit
        // code 0), end of block (7-bit code 0): "aaaa".
        assert_eq!(inflate(&[0x4b, 0x04, 0x02, 0x00]).unwrap(), b"aaaa");
        // Same but distance 2 (code 1) after one byte: Go's histSize check.
        assert_eq!(
            inflate(&[0x4b, 0x04, 0x42, 0x00]),
            Err(GunzipError::Corrupt(3))
        );
    }

    #[test]
    fn stored_blocks_and_their_errors() {
        assert_eq!(
            inflate(&[1, 5, 0, 0xfa, 0xff, b'h', b'e', b'l', b'l', b'o']).unwrap(),
            b"hello"
        );
        assert_eq!(
            inflate(&[1, 5, 0, 0xfa, 0xfe, b'h']),
            Err(GunzipError::Corrupt(5))
        );
        assert_eq!(
            inflate(&[1, 5, 0, 0xfa, 0xff, b'h']),
            Err(GunzipError::UnexpectedEof)
        );
        assert_eq!(inflate(&[1, 5]), Err(GunzipError::UnexpectedEof));
        assert_eq!(inflate(&[]), Err(GunzipError::UnexpectedEof));
    }

    #[test]
    fn the_limit_stops_a_bomb_early() {
        // 10 MB of zeros compresses to ~10 KB; a limit of 1,000 stops after the first match.
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&vec![0u8; 10 << 20]).unwrap();
        let deflate = e.finish().unwrap();
        let mut out = Vec::new();
        assert_eq!(inflate_member(&deflate, 0, &mut out, 1_000), Ok(None));
        assert!(
            out.len() > 1_000 && out.len() <= 1_000 + 258,
            "{}",
            out.len()
        );
        assert!(out.capacity() < 64 * 1024, "{}", out.capacity());
    }

    proptest::proptest! {
        /// Whatever flate2 writes (stored, fixed and dynamic blocks, any level), this reads
        /// back byte for byte, and ends where the deflate data ends.
        #[test]
        fn reads_what_flate2_writes(
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"cpu,host=a usage=1.5i 17000\n".to_vec()),
                    proptest::num::u8::ANY,
                ],
                0..6_000,
            ),
            repeat in 1usize..40,
            level in 0u32..10,
            trailing in proptest::collection::vec(proptest::num::u8::ANY, 0..4),
        ) {
            use std::io::Write;
            let data = data.repeat(repeat);
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(&data).unwrap();
            let mut deflate = e.finish().unwrap();
            let end = deflate.len();
            deflate.extend_from_slice(&trailing);
            let mut out = b"prefix".to_vec();
            let got = inflate_member(&deflate, 0, &mut out, usize::MAX).unwrap();
            proptest::prop_assert_eq!(got, Some(end));
            proptest::prop_assert_eq!(&out[6..], &data[..]);
        }

        /// No input makes it panic, loop or grow past the limit by more than one match.
        #[test]
        fn any_input_ends(
            input in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            limit in 0usize..5_000,
        ) {
            let mut out = Vec::new();
            let _ = inflate_member(&input, 0, &mut out, limit);
            proptest::prop_assert!(out.len() <= limit + 65_535);
        }
    }
}
