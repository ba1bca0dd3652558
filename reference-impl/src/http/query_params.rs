//! Query strings read the way Go's `url.ParseQuery` reads them, so that odd input is treated
//! as InfluxDB treats it: pairs split on `&`, `+` is a space, `%XX` escapes decoded; a pair
//! with a bad escape or a `;` is skipped; `Get` returns the first value of a key.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&') {
            if part.is_empty() || part.contains(';') {
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            if let (Some(k), Some(v)) = (unescape(k), unescape(v)) {
                pairs.push((k, v));
            }
        }
        Self { pairs }
    }

    /// The first value of `key`, like `url.Values.Get` (absent and empty both read as absent
    /// where callers use `filter(|v| !v.is_empty())`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }
}

fn unescape(s: &str) -> Option<String> {
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
    // Go keeps invalid UTF-8 in strings; our values are names and IDs, so a lossy view is
    // faithful for lookups (a name with invalid UTF-8 cannot match a stored name either way).
    Some(String::from_utf8_lossy(&out).into_owned())
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
}
