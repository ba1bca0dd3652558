//! Success bodies of the tenant handlers: `json.MarshalIndent(v, "", "\t")` of Go structs, so
//! keys come in struct order (maps sorted), `omitempty` fields are left out by the caller,
//! strings are escaped like `encoding/json` (HTML escaping on), no trailing newline.

use crate::api_error::push_go_json_string;

#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    /// A struct: keys in the order given.
    Obj(Vec<(&'static str, J)>),
    /// A Go map: keys are sorted when encoded.
    Map(Vec<(String, J)>),
}

impl J {
    pub fn s(v: impl Into<String>) -> Self {
        Self::Str(v.into())
    }

    /// Go's `json.MarshalIndent(v, "", "\t")`.
    pub fn indented(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = |out: &mut String, d: usize| {
            out.push('\n');
            for _ in 0..d {
                out.push('\t');
            }
        };
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Int(i) => out.push_str(&i.to_string()),
            Self::Str(s) => push_go_json_string(out, s),
            Self::Arr(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    item.write(out, depth + 1);
                }
                pad(out, depth);
                out.push(']');
            }
            Self::Obj(_) | Self::Map(_) => {
                let mut pairs: Vec<(&str, &J)> = match self {
                    Self::Obj(p) => p.iter().map(|(k, v)| (*k, v)).collect(),
                    Self::Map(p) => p.iter().map(|(k, v)| (k.as_str(), v)).collect(),
                    _ => Vec::new(),
                };
                if matches!(self, Self::Map(_)) {
                    pairs.sort_by(|a, b| a.0.cmp(b.0));
                }
                if pairs.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    pad(out, depth + 1);
                    push_go_json_string(out, k);
                    out.push_str(": ");
                    v.write(out, depth + 1);
                }
                pad(out, depth);
                out.push('}');
            }
        }
    }
}

/// A `map[string]string` of links.
pub fn links(pairs: &[(&str, String)]) -> J {
    J::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), J::Str(v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marshal_indent_like_go() {
        let v = J::Obj(vec![
            ("b", J::Int(1)),
            ("a", J::Arr(vec![])),
            ("m", links(&[("z", "1&2".into()), ("a", "x".into())])),
            ("l", J::Arr(vec![J::Bool(true)])),
        ]);
        assert_eq!(
            v.indented(),
            "{\n\t\"b\": 1,\n\t\"a\": [],\n\t\"m\": {\n\t\t\"a\": \"x\",\n\t\t\"z\": \"1\\u00262\"\n\t},\n\t\"l\": [\n\t\ttrue\n\t]\n}"
        );
    }
}
