//! Points, field values and types, precision, IDs: the vocabulary shared by the parser, the
//! storage and the engines.

mod field;
pub mod go_json;
pub mod go_mime;
pub mod go_text;
mod id;
pub mod precision;
pub mod text;
pub mod time;
mod values;

pub use field::{FieldType, OwnedFieldValue};
pub use id::{Id, IdGenerator};
pub use precision::Precision;
pub use values::ValueColumn;
