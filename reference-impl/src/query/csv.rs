//! Annotated CSV as `flux/csv` writes it (spec/v2.md §8.3): Go `encoding/csv` with CRLF rows,
//! schema blocks on change, `#datatype`/`#group`/`#default` annotations as requested.

use super::table::{Table, Val};
use super::QueryResult;
use crate::model::time::format_rfc3339_nano_into;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotation {
    Datatype,
    Group,
    Default,
}

impl Annotation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "datatype" => Some(Self::Datatype),
            "group" => Some(Self::Group),
            "default" => Some(Self::Default),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    pub header: bool,
    pub delimiter: char,
    pub annotations: Vec<Annotation>,
}

impl Default for Dialect {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: ',',
            annotations: Vec::new(),
        }
    }
}

/// A cell's text.
pub fn format_value(v: &Val) -> String {
    let mut out = String::new();
    format_value_into(&mut out, v);
    out
}

/// [`format_value`] appended to `out`.
pub fn format_value_into(out: &mut String, v: &Val) {
    use std::fmt::Write as _;
    match v {
        Val::Null => {}
        Val::Str(s) => out.push_str(s),
        Val::Long(i) => {
            let _ = write!(out, "{i}");
        }
        Val::ULong(u) => {
            let _ = write!(out, "{u}");
        }
        // Rust's Display is the shortest round-trip form and never uses an exponent, like Go's
        // strconv.FormatFloat(v, 'f', -1, 64).
        Val::Double(f) => out.push_str(&super::value::format_float(*f)),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Time(t) => format_rfc3339_nano_into(out, *t),
    }
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    delimiter: char,
    /// The delimiter's UTF-8 bytes (`delimiter_len` of them).
    delimiter_bytes: [u8; 4],
    delimiter_len: usize,
    /// With an ASCII delimiter: the bytes that make a field quoted (`\n`, `\r`, `"` and the
    /// delimiter), one lookup per byte of every field.
    quoted_by: Option<[bool; 256]>,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut Vec<u8>, delimiter: char) -> Self {
        let mut delimiter_bytes = [0u8; 4];
        let delimiter_len = delimiter.encode_utf8(&mut delimiter_bytes).len();
        let quoted_by = u8::try_from(delimiter).ok().filter(u8::is_ascii).map(|d| {
            let mut table = [false; 256];
            for b in [b'\n', b'\r', b'"', d] {
                table[usize::from(b)] = true;
            }
            table
        });
        Self {
            out,
            delimiter,
            delimiter_bytes,
            delimiter_len,
            quoted_by,
        }
    }

    fn needs_quotes(&self, field: &str) -> bool {
        if field.is_empty() {
            return false;
        }
        if field == "\\." {
            return true;
        }
        let special = match &self.quoted_by {
            Some(table) => field.bytes().any(|b| table[usize::from(b)]),
            None => field.contains(['\n', '\r', '"']) || field.contains(self.delimiter),
        };
        if special {
            return true;
        }
        field.chars().next().is_some_and(char::is_whitespace)
    }

    fn row<S: AsRef<str>>(&mut self, fields: &[S]) {
        for (i, f) in fields.iter().enumerate() {
            self.field(i == 0, f.as_ref());
        }
        self.end_row();
    }

    /// The end of a row written field by field.
    fn end_row(&mut self) {
        self.out.extend_from_slice(b"\r\n");
    }

    /// One field of a row, after a delimiter unless it is the row's first.
    fn field(&mut self, first: bool, f: &str) {
        if !first {
            self.out
                .extend_from_slice(&self.delimiter_bytes[..self.delimiter_len]);
        }
        if !self.needs_quotes(f) {
            self.out.extend_from_slice(f.as_bytes());
            return;
        }
        // Go's csv.Writer with UseCRLF: quotes doubled, "\n" written as "\r\n", a lone
        // "\r" dropped.
        self.out.push(b'"');
        for c in f.chars() {
            match c {
                '"' => self.out.extend_from_slice(b"\"\""),
                '\r' => {}
                '\n' => self.out.extend_from_slice(b"\r\n"),
                c => {
                    let mut buf = [0u8; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self.out.push(b'"');
    }
}

/// `schemaChanged`: the key columns (label and type, in the key's order) or the columns
/// differ from the previous table's.
fn schema_changed(table: &Table, last: &Table) -> bool {
    table.key.cols != last.key.cols || table.columns != last.columns
}

/// Encodes results as `DelimitedMultiResultEncoder` does: each result followed by `\r\n`;
/// an error after something was written becomes the error table. `Err` carries the error
/// when nothing was written (the handler answers it as JSON).
pub fn encode_outcome(
    results: &[QueryResult],
    error: Option<&str>,
    dialect: &Dialect,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut written = false;
    for r in results {
        written |= encode_result(r, dialect, &mut out);
        out.extend_from_slice(b"\r\n");
    }
    match error {
        None => Ok(out),
        Some(e) if out.is_empty() => Err(e.to_string()),
        Some(e) => {
            encode_error(e, dialect, written, &mut out);
            Ok(out)
        }
    }
}

/// Encodes one result's tables (`ResultEncoder.Encode`, without the delimiter that follows).
/// Returns whether any table was encoded (the encoder's `written`).
pub fn encode_result(result: &QueryResult, dialect: &Dialect, out: &mut Vec<u8>) -> bool {
    let mut w = Writer::new(out, dialect.delimiter);
    let has_default = dialect.annotations.contains(&Annotation::Default);
    let mut last: Option<&Table> = None;
    for (id, table) in result.tables.iter().enumerate() {
        let empty = table.rows.is_empty();
        let changed = match last {
            None => true,
            Some(l) => l.rows.is_empty() || empty || schema_changed(table, l),
        };
        if changed {
            if last.is_some() {
                w.out.extend_from_slice(b"\r\n");
            }
            // Annotation and header rows are written field by field too: with a table per
            // series and field, they are most of a read-back answer's fields.
            let mut cell = String::new();
            for a in &dialect.annotations {
                match a {
                    Annotation::Datatype => {
                        w.field(true, "#datatype");
                        w.field(false, "string");
                        w.field(false, "long");
                        for c in &table.columns {
                            w.field(false, c.ty.annotation());
                        }
                    }
                    Annotation::Group => {
                        w.field(true, "#group");
                        w.field(false, "false");
                        w.field(false, "false");
                        for c in &table.columns {
                            w.field(
                                false,
                                if table.is_key(&c.label) {
                                    "true"
                                } else {
                                    "false"
                                },
                            );
                        }
                    }
                    Annotation::Default => {
                        // writeSchema: the table id and the key values are defaults only for
                        // an empty table.
                        w.field(true, "#default");
                        w.field(false, &result.name);
                        cell.clear();
                        if empty {
                            cell.push_str(&id.to_string());
                        }
                        w.field(false, &cell);
                        for c in &table.columns {
                            cell.clear();
                            if let (true, Some(v)) = (empty, table.key_value(&c.label)) {
                                format_value_into(&mut cell, v);
                            }
                            w.field(false, &cell);
                        }
                    }
                }
                w.end_row();
            }
            if dialect.header {
                w.field(true, "");
                w.field(false, "result");
                w.field(false, "table");
                for c in &table.columns {
                    w.field(false, &c.label);
                }
                w.end_row();
            }
        }
        let result_cell = if has_default {
            String::new()
        } else {
            result.name.clone()
        };
        // Data rows are written cell by cell through one reused buffer.
        let id_cell = id.to_string();
        let mut cell = String::new();
        for data in &table.rows {
            w.field(true, "");
            w.field(false, &result_cell);
            w.field(false, &id_cell);
            for v in data {
                cell.clear();
                format_value_into(&mut cell, v);
                w.field(false, &cell);
            }
            w.end_row();
        }
        last = Some(table);
    }
    last.is_some()
}

/// The error table written when an error happens after output started (`EncodeError`).
pub fn encode_error(message: &str, dialect: &Dialect, written: bool, out: &mut Vec<u8>) {
    if written {
        out.extend_from_slice(b"\r\n");
    }
    let mut w = Writer::new(out, dialect.delimiter);
    for a in &dialect.annotations {
        match a {
            Annotation::Datatype => w.row(&["#datatype", "string", "string"]),
            Annotation::Group => w.row(&["#group", "true", "true"]),
            Annotation::Default => w.row(&["#default", "", ""]),
        }
    }
    w.row(&["", "error", "reference"]);
    w.row(&["", message, ""]);
}

#[cfg(test)]
mod tests {
    use super::super::table::{ColType, Column, GroupKey};
    use super::*;

    fn sample() -> QueryResult {
        let columns = vec![
            Column {
                label: "_start".into(),
                ty: ColType::Time,
            },
            Column {
                label: "_stop".into(),
                ty: ColType::Time,
            },
            Column {
                label: "_time".into(),
                ty: ColType::Time,
            },
            Column {
                label: "_value".into(),
                ty: ColType::Double,
            },
            Column {
                label: "_field".into(),
                ty: ColType::String,
            },
            Column {
                label: "_measurement".into(),
                ty: ColType::String,
            },
            Column {
                label: "host".into(),
                ty: ColType::String,
            },
        ];
        let t0 = 1_704_067_200_000_000_000;
        let key = GroupKey::new(
            vec![
                Column::new("_start", ColType::Time),
                Column::new("_stop", ColType::Time),
                Column::new("_field", ColType::String),
                Column::new("_measurement", ColType::String),
                Column::new("host", ColType::String),
            ],
            vec![
                Val::Time(t0),
                Val::Time(t0 + 3_600_000_000_000),
                Val::Str("usage".into()),
                Val::Str("cpu".into()),
                Val::Str("a".into()),
            ],
        );
        let row = vec![
            Val::Time(t0),
            Val::Time(t0 + 3_600_000_000_000),
            Val::Time(t0 + 600_000_000_000),
            Val::Double(1.5),
            Val::Str("usage".into()),
            Val::Str("cpu".into()),
            Val::Str("a".into()),
        ];
        QueryResult {
            name: "_result".into(),
            tables: vec![Table {
                columns,
                key,
                rows: vec![row],
            }],
        }
    }

    #[test]
    fn matches_the_spec_example_with_annotations() {
        let dialect = Dialect {
            header: true,
            delimiter: ',',
            annotations: vec![Annotation::Datatype, Annotation::Group, Annotation::Default],
        };
        let mut out = Vec::new();
        encode_result(&sample(), &dialect, &mut out);
        out.extend_from_slice(b"\r\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string\r\n\
             #group,false,false,true,true,false,false,true,true,true\r\n\
             #default,_result,,,,,,,,\r\n\
             ,result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
             ,,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
             \r\n"
        );
    }

    #[test]
    fn without_annotations_rows_name_the_result() {
        let mut out = Vec::new();
        encode_result(&sample(), &Dialect::default(), &mut out);
        out.extend_from_slice(b"\r\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n\
             ,_result,0,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,2024-01-01T00:10:00Z,1.5,usage,cpu,a\r\n\
             \r\n"
        );
    }

    /// Go's csv.Writer quotes a field holding its delimiter, whatever the delimiter is, and
    /// nothing else changes with it.
    #[test]
    fn other_delimiters_quote_themselves_not_commas() {
        for delimiter in [';', '¦', '\t'] {
            let d = delimiter.to_string();
            let mut out = Vec::new();
            let mut w = Writer::new(&mut out, delimiter);
            w.row(&["a", "b,c", &format!("b{d}c")]);
            assert_eq!(
                String::from_utf8_lossy(&out),
                format!("a{d}b,c{d}\"b{d}c\"\r\n"),
                "delimiter {delimiter:?}"
            );
        }
    }

    #[test]
    fn go_csv_quoting() {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out, ',');
        w.row(&[
            "",
            "a,b",
            "say \"hi\"",
            " lead",
            "x\ny",
            "x\ry",
            "plain",
            "\\.",
        ]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            ",\"a,b\",\"say \"\"hi\"\"\",\" lead\",\"x\r\ny\",\"xy\",plain,\"\\.\"\r\n"
        );
    }

    #[test]
    fn floats_never_use_exponents() {
        assert_eq!(format_value(&Val::Double(1e21)), "1000000000000000000000");
        assert_eq!(format_value(&Val::Double(1e-7)), "0.0000001");
        assert_eq!(format_value(&Val::Double(0.1)), "0.1");
        assert_eq!(format_value(&Val::Double(-2.0)), "-2");
    }

    #[test]
    fn error_table() {
        let dialect = Dialect {
            header: true,
            delimiter: ',',
            annotations: vec![Annotation::Datatype, Annotation::Group, Annotation::Default],
        };
        let mut out = Vec::new();
        encode_error("boom, it broke", &dialect, true, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\r\n#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n,error,reference\r\n,\"boom, it broke\",\r\n"
        );
    }
}
