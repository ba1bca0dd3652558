use std::fmt;

/// The five field types of line protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
}

impl FieldType {
    /// The name InfluxDB OSS uses in messages (`influxql.DataType.String()`).
    pub fn influxql_name(self) -> &'static str {
        match self {
            Self::Float => "float",
            Self::Integer => "integer",
            Self::Unsigned => "unsigned",
            Self::String => "string",
            Self::Boolean => "boolean",
        }
    }

    /// The name InfluxDB Cloud uses in `rejected_points` `gotType`/`wantType` tags.
    pub fn cloud_name(self) -> &'static str {
        match self {
            Self::Float => "Float",
            Self::Integer => "Integer",
            Self::Unsigned => "UnsignedInteger",
            Self::String => "String",
            Self::Boolean => "Boolean",
        }
    }

    /// The annotated-CSV `#datatype` of a `_value` column of this type.
    pub fn csv_datatype(self) -> &'static str {
        match self {
            Self::Float => "double",
            Self::Integer => "long",
            Self::Unsigned => "unsignedLong",
            Self::String => "string",
            Self::Boolean => "boolean",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.influxql_name())
    }
}

/// A stored field value (owned; the parser's borrowed value converts into it).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedFieldValue {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(Vec<u8>),
    Boolean(bool),
}

impl OwnedFieldValue {
    pub fn field_type(&self) -> FieldType {
        match self {
            Self::Float(_) => FieldType::Float,
            Self::Integer(_) => FieldType::Integer,
            Self::Unsigned(_) => FieldType::Unsigned,
            Self::String(_) => FieldType::String,
            Self::Boolean(_) => FieldType::Boolean,
        }
    }
}
