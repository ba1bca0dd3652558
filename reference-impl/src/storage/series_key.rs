//! A series key (measurement and tag set) held as one order-preserving byte string.
//!
//! Every series of every write is looked up by its key in the shard groups' ordered indexes,
//! and every batch makes one key per series. As a measurement plus a vector of (key, value)
//! vectors a key took 2 + 2 × tags allocations (21 for a TSBS series) and a comparison chased a
//! pointer per component. Here a key is one allocation, and comparing two keys is one `memcmp`
//! with the same order as before: measurement first, then the tags pair by pair, each
//! component bytewise with a prefix before its extensions.
//!
//! Encoding: each component (measurement, tag key, tag value, ...) is written with its 0x00
//! bytes as 0x00 0xFF and ends with 0x00 0x01. A component that ends sorts before any longer
//! one (its 0x00 0x01 is below both 0x00 0xFF and any other byte), so bytewise order of the
//! encodings is the order of the component sequences; a key with fewer tags is a prefix of a
//! longer one with the same leading tags, and sorts first, as a shorter vector did.

use std::borrow::Cow;
use std::fmt;

/// Byte that starts an escape or a terminator.
const MARK: u8 = 0x00;
/// After `MARK`: the component ends.
const END: u8 = 0x01;
/// After `MARK`: a literal 0x00 byte.
const ZERO: u8 = 0xFF;

/// A series: measurement and tag set (tags sorted bytewise by key, as in InfluxDB's series
/// key). Ordering is measurement first, then tags, which is the order query output uses.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey(Box<[u8]>);

/// 0x00 bytes in `component` (a plain count: components are short, and it vectorizes).
fn marks(component: &[u8]) -> usize {
    component.iter().filter(|&&b| b == MARK).count()
}

fn encoded_len(component: &[u8]) -> usize {
    component.len() + marks(component) + 2
}

fn encode(out: &mut Vec<u8>, component: &[u8]) {
    if marks(component) == 0 {
        out.extend_from_slice(component);
        out.extend_from_slice(&[MARK, END]);
        return;
    }
    let mut rest = component;
    while let Some(i) = memchr::memchr(MARK, rest) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(&[MARK, ZERO]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[MARK, END]);
}

impl SeriesKey {
    /// The key of `measurement` with `tags` in the order given (callers pass them sorted).
    pub fn new<'t, T>(measurement: &[u8], tags: T) -> Self
    where
        T: IntoIterator<Item = (&'t [u8], &'t [u8])>,
        T::IntoIter: Clone,
    {
        let tags = tags.into_iter();
        let len = encoded_len(measurement)
            + tags
                .clone()
                .map(|(k, v)| encoded_len(k) + encoded_len(v))
                .sum::<usize>();
        let mut out = Vec::with_capacity(len);
        encode(&mut out, measurement);
        for (k, v) in tags {
            encode(&mut out, k);
            encode(&mut out, v);
        }
        Self(out.into_boxed_slice())
    }

    /// The key of a measurement with no tags.
    pub fn measurement_only(measurement: &[u8]) -> Self {
        Self::new(measurement, std::iter::empty())
    }

    /// The measurement (borrowed unless it holds a 0x00 byte).
    pub fn measurement(&self) -> Cow<'_, [u8]> {
        Components(&self.0).next().unwrap_or(Cow::Borrowed(&[]))
    }

    /// The tags, (key, value), in key order.
    pub fn tags(&self) -> Tags<'_> {
        let mut components = Components(&self.0);
        components.next();
        Tags(components)
    }

    /// The value of tag `key`, if the series has it.
    pub fn tag(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.tags().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v)
    }
}

impl fmt::Debug for SeriesKey {
    /// As the struct of a measurement and tag vectors this used to be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeriesKey")
            .field("measurement", &self.measurement().as_ref())
            .field(
                "tags",
                &self
                    .tags()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The decoded components of an encoding, in order.
#[derive(Clone)]
struct Components<'a>(&'a [u8]);

impl<'a> Iterator for Components<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let bytes = self.0;
        // Usual case: no escaped 0x00, the component is a slice of the encoding.
        let i = memchr::memchr(MARK, bytes)?;
        if bytes.get(i + 1) == Some(&END) {
            self.0 = &bytes[i + 2..];
            return Some(Cow::Borrowed(&bytes[..i]));
        }
        let mut owned = Vec::with_capacity(bytes.len());
        let mut rest = bytes;
        loop {
            let Some(i) = memchr::memchr(MARK, rest) else {
                // Only a key built by `new` is ever decoded; an unterminated tail is its end.
                owned.extend_from_slice(rest);
                self.0 = &[];
                return Some(Cow::Owned(owned));
            };
            owned.extend_from_slice(&rest[..i]);
            match rest.get(i + 1) {
                Some(&ZERO) => {
                    owned.push(MARK);
                    rest = &rest[i + 2..];
                }
                _ => {
                    self.0 = rest.get(i + 2..).unwrap_or(&[]);
                    return Some(Cow::Owned(owned));
                }
            }
        }
    }
}

/// The tags of a [`SeriesKey`], (key, value) in key order.
#[derive(Clone)]
pub struct Tags<'a>(Components<'a>);

impl<'a> Iterator for Tags<'a> {
    type Item = (Cow<'a, [u8]>, Cow<'a, [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        let k = self.0.next()?;
        let v = self.0.next().unwrap_or(Cow::Borrowed(&[]));
        Some((k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The representation this replaced; its derived order is the order keys must keep.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Plain {
        measurement: Vec<u8>,
        tags: Vec<(Vec<u8>, Vec<u8>)>,
    }

    fn key(p: &Plain) -> SeriesKey {
        SeriesKey::new(
            &p.measurement,
            p.tags.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        )
    }

    fn back(k: &SeriesKey) -> Plain {
        Plain {
            measurement: k.measurement().into_owned(),
            tags: k
                .tags()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Bytes drawn mostly from the ones the encoding treats specially.
    fn component() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![Just(0u8), Just(1), Just(0xFF), Just(b'a'), any::<u8>()],
            0..5,
        )
    }

    fn plain() -> impl Strategy<Value = Plain> {
        (
            component(),
            prop::collection::vec((component(), component()), 0..4),
        )
            .prop_map(|(measurement, tags)| Plain { measurement, tags })
    }

    proptest! {
        #[test]
        fn round_trips(p in plain()) {
            prop_assert_eq!(back(&key(&p)), p);
        }

        #[test]
        fn orders_and_compares_as_the_plain_key(a in plain(), b in plain()) {
            prop_assert_eq!(key(&a).cmp(&key(&b)), a.cmp(&b));
            prop_assert_eq!(key(&a) == key(&b), a == b);
        }
    }

    #[test]
    fn accessors_borrow_and_debug_reads_as_before() {
        let k = SeriesKey::new(b"cpu", [(&b"host"[..], &b"a"[..]), (b"region", b"")]);
        assert!(matches!(k.measurement(), Cow::Borrowed(b"cpu")));
        assert_eq!(k.tag(b"region").as_deref(), Some(&b""[..]));
        assert_eq!(k.tag(b"rack"), None);
        assert_eq!(
            format!("{:?}", SeriesKey::new(b"m", [(&b"t"[..], &b"v"[..])])),
            "SeriesKey { measurement: [109], tags: [([116], [118])] }"
        );
        let zero = SeriesKey::measurement_only(b"a\0b");
        assert_eq!(zero.measurement().as_ref(), b"a\0b");
        assert_eq!(zero.tags().count(), 0);
    }
}
