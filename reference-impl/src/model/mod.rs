//! Points, field values and types, precision, IDs: the vocabulary shared by the parser, the
//! storage and the engines.

mod field;
mod id;
mod precision;
pub mod text;

pub use field::{FieldType, OwnedFieldValue};
pub use id::{Id, IdGenerator};
pub use precision::Precision;
