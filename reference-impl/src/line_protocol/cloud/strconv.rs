//! The parts of Go's `strconv` that the `lineprotocol` decoder calls: `ParseInt(s, 10, 64)`,
//! `ParseUint(s, 10, 64)` and `ParseFloat(s, 64)`, with their syntax/range distinction (the
//! decoder maps range errors to `line-protocol value out of range` and everything else to a
//! fixed "invalid ... syntax" text).
//!
//! `ParseFloat` accepts more than line protocol documents: Go float-literal syntax, so digit
//! separators (`1_000.5`), hexadecimal mantissas with a binary exponent (`0x1.8p3`) and
//! `inf`/`infinity` (any case, optionally signed). The decoder only hands it values starting with
//! `-`, a digit or `.`, so the infinities reachable here are `-inf` / `-infinity`.

/// Why a Go `strconv` parse failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// `strconv.ErrSyntax`
    Syntax,
    /// `strconv.ErrRange`
    Range,
}

/// `strconv.ParseUint(s, 10, 64)`, byte for byte: a syntax error at the first non-digit, a
/// range error as soon as the accumulated value overflows (even if a non-digit follows).
pub(crate) fn parse_uint(s: &[u8]) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    const CUTOFF: u64 = u64::MAX / 10 + 1;
    let mut n: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(NumError::Syntax);
        }
        if n >= CUTOFF {
            return Err(NumError::Range);
        }
        n *= 10;
        let n1 = n.wrapping_add(u64::from(c - b'0'));
        if n1 < n {
            return Err(NumError::Range);
        }
        n = n1;
    }
    Ok(n)
}

/// `strconv.ParseInt(s, 10, 64)`: one optional sign, then `ParseUint` rules.
pub(crate) fn parse_int(s: &[u8]) -> Result<i64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let (neg, digits) = match s[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let un = parse_uint(digits)?;
    const CUTOFF: u64 = 1 << 63;
    if !neg && un >= CUTOFF {
        return Err(NumError::Range);
    }
    if neg && un > CUTOFF {
        return Err(NumError::Range);
    }
    Ok(if neg {
        (un as i64).wrapping_neg()
    } else {
        un as i64
    })
}

/// `strconv.ParseFloat(s, 64)`. On a range error Go returns ±Inf; the decoder only looks at the
/// error, so this returns just the error.
pub(crate) fn parse_float(s: &[u8]) -> Result<f64, NumError> {
    if let Some(f) = special(s) {
        return Ok(f);
    }
    let lit = read_float(s).ok_or(NumError::Syntax)?;
    if lit.hex {
        return atof_hex(lit.mantissa, lit.exp, lit.neg, lit.trunc);
    }
    // Decimal: Go's result is the correctly rounded value, as Rust's parser gives it. Go caps
    // the decimal exponent it accumulates at 10000, which only matters for mantissas with
    // thousands of digits.
    let cleaned: String = s
        .iter()
        .filter(|&&b| b != b'_')
        .map(|&b| char::from(b))
        .collect();
    let f: f64 = cleaned.parse().map_err(|_| NumError::Syntax)?;
    if f.is_infinite() {
        return Err(NumError::Range);
    }
    Ok(f)
}

/// `strconv.special`: `[+-]inf`, `[+-]infinity` (any case) and unsigned `nan`, as the whole
/// string (a longer string is a syntax error in `ParseFloat`, which `read_float` then gives).
fn special(s: &[u8]) -> Option<f64> {
    let (sign, rest) = match s.first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => {
            if s.eq_ignore_ascii_case(b"nan") {
                return Some(f64::NAN);
            }
            (1.0, s)
        }
    };
    if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        return Some(sign * f64::INFINITY);
    }
    None
}

struct FloatLiteral {
    neg: bool,
    hex: bool,
    mantissa: u64,
    exp: i64,
    trunc: bool,
}

/// `strconv.readFloat`, required to consume the whole string.
fn read_float(s: &[u8]) -> Option<FloatLiteral> {
    let lower = |c: u8| c | 0x20;
    let mut i = 0;
    let mut neg = false;
    match s.first()? {
        b'+' => i += 1,
        b'-' => {
            neg = true;
            i += 1;
        }
        _ => {}
    }
    let mut base: u64 = 10;
    let mut max_mant_digits = 19;
    let mut exp_char = b'e';
    let mut hex = false;
    if i + 2 < s.len() && s[i] == b'0' && lower(s[i + 1]) == b'x' {
        base = 16;
        max_mant_digits = 16;
        i += 2;
        exp_char = b'p';
        hex = true;
    }
    let mut underscores = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    let mut nd: i64 = 0;
    let mut nd_mant: i64 = 0;
    let mut dp: i64 = 0;
    let mut mantissa: u64 = 0;
    let mut trunc = false;
    while i < s.len() {
        let c = s[i];
        if c == b'_' {
            underscores = true;
        } else if c == b'.' {
            if saw_dot {
                break;
            }
            saw_dot = true;
            dp = nd;
        } else if c.is_ascii_digit() {
            saw_digits = true;
            if c == b'0' && nd == 0 {
                dp -= 1;
            } else {
                nd += 1;
                if nd_mant < max_mant_digits {
                    mantissa = mantissa * base + u64::from(c - b'0');
                    nd_mant += 1;
                } else if c != b'0' {
                    trunc = true;
                }
            }
        } else if base == 16 && (b'a'..=b'f').contains(&lower(c)) {
            saw_digits = true;
            nd += 1;
            if nd_mant < max_mant_digits {
                mantissa = mantissa * 16 + u64::from(lower(c) - b'a' + 10);
                nd_mant += 1;
            } else {
                trunc = true;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        dp = nd;
    }
    if base == 16 {
        dp *= 4;
        nd_mant *= 4;
    }
    if i < s.len() && lower(s[i]) == exp_char {
        i += 1;
        if i >= s.len() {
            return None;
        }
        let mut esign = 1;
        if s[i] == b'+' {
            i += 1;
        } else if s[i] == b'-' {
            i += 1;
            esign = -1;
        }
        if i >= s.len() || !s[i].is_ascii_digit() {
            return None;
        }
        let mut e: i64 = 0;
        while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'_') {
            if s[i] == b'_' {
                underscores = true;
            } else if e < 10000 {
                e = e * 10 + i64::from(s[i] - b'0');
            }
            i += 1;
        }
        dp += e * esign;
    } else if base == 16 {
        // A hexadecimal mantissa needs a 'p' exponent.
        return None;
    }
    if i != s.len() {
        return None;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    let exp = if mantissa != 0 { dp - nd_mant } else { 0 };
    Some(FloatLiteral {
        neg,
        hex,
        mantissa,
        exp,
        trunc,
    })
}

/// `strconv.underscoreOK`: underscores only between digits or between a base prefix and a digit.
fn underscore_ok(s: &[u8]) -> bool {
    let lower = |c: u8| c | 0x20;
    let mut s = s;
    if let Some(b'+' | b'-') = s.first() {
        s = &s[1..];
    }
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(lower(s[1]), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = lower(s[1]) == b'x';
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&lower(c))) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.atofHex` for float64: rounds the (possibly truncated) mantissa to nearest-even.
fn atof_hex(mut mantissa: u64, exp: i64, neg: bool, trunc: bool) -> Result<f64, NumError> {
    const MANTBITS: u32 = 52;
    const EXPBITS: u32 = 11;
    const BIAS: i64 = -1023;
    let max_exp: i64 = (1 << EXPBITS) + BIAS - 2;
    let min_exp: i64 = BIAS + 1;
    let mut exp = exp + i64::from(MANTBITS);
    while mantissa != 0 && mantissa >> (MANTBITS + 2) == 0 {
        mantissa <<= 1;
        exp -= 1;
    }
    if trunc {
        mantissa |= 1;
    }
    while mantissa >> (1 + MANTBITS + 2) != 0 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    while mantissa > 1 && exp < min_exp - 2 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    let mut round = mantissa & 3;
    mantissa >>= 2;
    round |= mantissa & 1;
    exp += 2;
    if round == 3 {
        mantissa += 1;
        if mantissa == 1 << (1 + MANTBITS) {
            mantissa >>= 1;
            exp += 1;
        }
    }
    if mantissa >> MANTBITS == 0 {
        exp = BIAS;
    }
    if exp > max_exp {
        return Err(NumError::Range);
    }
    let mut bits = mantissa & ((1 << MANTBITS) - 1);
    bits |= (((exp - BIAS) as u64) & ((1 << EXPBITS) - 1)) << MANTBITS;
    if neg {
        bits |= 1 << (MANTBITS + EXPBITS);
    }
    Ok(f64::from_bits(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int(b"9223372036854775808"), Err(NumError::Range));
        assert_eq!(parse_int(b"-9223372036854775809"), Err(NumError::Range));
        assert_eq!(parse_int(b"007"), Ok(7));
        assert_eq!(parse_int(b"-"), Err(NumError::Syntax));
        assert_eq!(parse_int(b""), Err(NumError::Syntax));
        assert_eq!(parse_int(b"1-2"), Err(NumError::Syntax));
        assert_eq!(parse_int(b"-+1"), Err(NumError::Syntax));
        assert_eq!(parse_int(b"1_000"), Err(NumError::Syntax));
        // Overflow is seen before the bad byte that follows it.
        assert_eq!(parse_int(b"99999999999999999999x"), Err(NumError::Range));
        assert_eq!(parse_int(b"9x9999999999999999999"), Err(NumError::Syntax));
        assert_eq!(parse_uint(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_uint(b"18446744073709551616"), Err(NumError::Range));
        assert_eq!(parse_uint(b"-1"), Err(NumError::Syntax));
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float(b"1"), Ok(1.0));
        assert_eq!(parse_float(b"-1.5e3"), Ok(-1500.0));
        assert_eq!(parse_float(b".5"), Ok(0.5));
        assert_eq!(parse_float(b"5."), Ok(5.0));
        assert_eq!(parse_float(b"1E+2"), Ok(100.0));
        assert_eq!(parse_float(b"1_000.000_1"), Ok(1000.0001));
        assert_eq!(parse_float(b"1e1_0"), Ok(1e10));
        assert_eq!(parse_float(b"0x1p-2"), Ok(0.25));
        assert_eq!(parse_float(b"0X1.8P1"), Ok(3.0));
        assert_eq!(parse_float(b"-0x_1p0"), Ok(-1.0));
        assert_eq!(parse_float(b"0x1p-1074"), Ok(f64::from_bits(1)));
        assert_eq!(parse_float(b"0x1p-1080"), Ok(0.0));
        assert_eq!(
            parse_float(b"0x1.fffffffffffff8p1023"),
            Err(NumError::Range)
        );
        assert_eq!(
            parse_float(b"0x1.fffffffffffffp1023"),
            Ok(f64::MAX),
            "largest finite"
        );
        assert_eq!(parse_float(b"0x10"), Err(NumError::Syntax));
        assert_eq!(parse_float(b"1e400"), Err(NumError::Range));
        assert_eq!(parse_float(b"1e-400"), Ok(0.0));
        assert!(parse_float(b"-inf").unwrap().is_infinite());
        assert!(parse_float(b"-Infinity").unwrap().is_infinite());
        for bad in [
            &b"-infin"[..],
            b"-nan",
            b".",
            b"-",
            b"1e",
            b"1e+",
            b"_1",
            b"1_",
            b"1__0",
            b"1._5",
            b"1.2.3",
            b"0x",
            b"1f",
            b"--1",
            b"1e5.0",
        ] {
            assert_eq!(
                parse_float(bad),
                Err(NumError::Syntax),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
