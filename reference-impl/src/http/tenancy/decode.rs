//! Request bodies as `json.NewDecoder(r).Decode(&v)` reads them into a Go struct: the first
//! JSON value, then each field converted with `UnmarshalTypeError`'s text on a mismatch. Each
//! endpoint wraps the text its own way (`wrap`).

use crate::api_error::{ApiError, Code};
use crate::model::go_json::{self, Value};
use crate::model::Id;

/// `kithttp.API.DecodeJSON`'s wrapping (`api.go`): 400 `failed to unmarshal json: <err>`.
pub fn unmarshal_json(m: String) -> ApiError {
    ApiError::new(Code::Invalid, format!("failed to unmarshal json: {m}"))
}

/// Decodes the first JSON value and checks that it can go into a struct; `wrap` turns the Go
/// error text into the endpoint's error.
pub fn decode_struct(
    body: &[u8],
    go_type: &str,
    wrap: impl Fn(String) -> ApiError,
) -> Result<Value, ApiError> {
    let v = go_json::decode_first(body).map_err(|e| wrap(e.decoder_message()))?;
    match v {
        Value::Object(_) | Value::Null => Ok(v),
        other => Err(wrap(go_json::value_type_error(other.kind_word(), go_type))),
    }
}

/// A `string` field (or a named string type, `go_type`).
pub fn str_field_of(
    v: &Value,
    key: &str,
    go_struct: &str,
    go_type: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<String>, ApiError> {
    match v.field(key) {
        None => Ok(None),
        Some(x) => go_json::as_go_string(x)
            .map(|s| s.map(str::to_string))
            .map_err(|what| {
                wrap(go_json::struct_field_type_error(
                    &what, go_struct, key, go_type,
                ))
            }),
    }
}

/// A `string` field.
pub fn str_field(
    v: &Value,
    key: &str,
    go_struct: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<String>, ApiError> {
    str_field_of(v, key, go_struct, "string", wrap)
}

/// An `int64` field; `path` is the field's dotted path in Go's message.
pub fn int_field(
    v: &Value,
    key: &str,
    go_struct: &str,
    path: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<i64>, ApiError> {
    match v.field(key) {
        None => Ok(None),
        Some(x) => go_json::as_go_int64(x).map_err(|what| {
            wrap(go_json::struct_field_type_error(
                &what, go_struct, path, "int64",
            ))
        }),
    }
}

/// A `platform.ID` field: a JSON string of 16 hex digits (`UnmarshalText`'s error as is).
pub fn id_field(
    v: &Value,
    key: &str,
    wrap: &impl Fn(String) -> ApiError,
) -> Result<Option<Id>, ApiError> {
    match v.field(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Id::parse(s).map(Some).map_err(|e| wrap(e.to_string())),
        Some(_) => Err(wrap("invalid ID".into())),
    }
}
