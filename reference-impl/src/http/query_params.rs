//! Query strings read the way Go's `url.ParseQuery` reads them, so that odd input is treated
//! as InfluxDB treats it: pairs split on `&`, `+` is a space, `%XX` escapes decoded; a pair
//! with a bad escape or a `;` is skipped; `Get` returns the first value of a key.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<Pair>,
}

/// One `key=value` pair, decoded. Go keeps whatever bytes `%XX` escapes decode to; most
/// callers read names and IDs as text (a lossy view: a name with an invalid byte matches no
/// stored name either way), and the exact bytes are kept beside it for the answers that show
/// them (`bucket "\xff" not found`, `organization name "\ufffd" not found` in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pair {
    key: String,
    value: String,
    /// The exact key and value when either is not valid UTF-8.
    raw: Option<Box<(Vec<u8>, Vec<u8>)>>,
}

impl Pair {
    fn key_bytes(&self) -> &[u8] {
        self.raw.as_ref().map_or(self.key.as_bytes(), |r| &r.0)
    }

    fn value_bytes(&self) -> &[u8] {
        self.raw.as_ref().map_or(self.value.as_bytes(), |r| &r.1)
    }
}

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&') {
            if part.is_empty() || part.contains(';') {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let (Some(k), Some(v)) = (unescape(k), unescape(v)) else {
                continue;
            };
            pairs.push(match (String::from_utf8(k), String::from_utf8(v)) {
                (Ok(key), Ok(value)) => Pair {
                    key,
                    value,
                    raw: None,
                },
                (k, v) => {
                    let k = k.map_or_else(|e| e.into_bytes(), String::into_bytes);
                    let v = v.map_or_else(|e| e.into_bytes(), String::into_bytes);
                    Pair {
                        key: String::from_utf8_lossy(&k).into_owned(),
                        value: String::from_utf8_lossy(&v).into_owned(),
                        raw: Some(Box::new((k, v))),
                    }
                }
            });
        }
        Self { pairs }
    }

    /// The first value of `key`, like `url.Values.Get` (absent and empty both read as absent
    /// where callers use `filter(|v| !v.is_empty())`), invalid UTF-8 shown as U+FFFD.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|p| p.key_bytes() == key.as_bytes())
            .map(|p| p.value.as_str())
    }

    /// [`Self::get`] as Go's string holds it: the bytes the escapes decoded to.
    pub fn get_bytes(&self, key: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|p| p.key_bytes() == key.as_bytes())
            .map(Pair::value_bytes)
    }

    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|p| p.key_bytes() == key.as_bytes())
    }

    /// Every pair in input order, as Go's strings hold them.
    pub fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.pairs.iter().map(|p| (p.key_bytes(), p.value_bytes()))
    }
}

fn unescape(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        let q = QueryParams::parse(Some(
            "org=my+org&bucket=a%2Fb&bucket=second&bad=%zz&x;y=1&flag",
        ));
        assert_eq!(q.get("org"), Some("my org"));
        assert_eq!(q.get("bucket"), Some("a/b"));
        assert_eq!(q.get("bad"), None);
        assert_eq!(q.get("x"), None);
        assert_eq!(q.get("flag"), Some(""));
        assert!(QueryParams::parse(None).get("org").is_none());
    }

    #[test]
    fn escapes_may_decode_to_any_bytes() {
        let q = QueryParams::parse(Some("bucket=%ff%22x&org=%C3%A9&k%ff=v"));
        assert_eq!(q.get("bucket"), Some("\u{fffd}\"x"));
        assert_eq!(q.get_bytes("bucket"), Some(&b"\xff\"x"[..]));
        assert_eq!(q.get_bytes("org"), Some("é".as_bytes()));
        // A key with an invalid byte is no key a caller asks for, even read lossily.
        assert_eq!(q.get("k\u{fffd}"), None);
        let pairs: Vec<_> = q.pairs().collect();
        assert_eq!(pairs[2], (&b"k\xff"[..], &b"v"[..]));
    }
}
