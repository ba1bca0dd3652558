//! Explicit bucket schemas at write time (cloud.md §3.4): the measurement must have a schema,
//! each tag key and field key must be a column of it, each field value must have the column's
//! type. Rejection is per field value; a tag the schema lacks rejects every value of its line
//! (UNCONFIRMED, inferred: a tag belongs to every field value of the line).

use crate::line_protocol::Point;
use crate::model::{FieldType, Id};
use crate::storage::cloud::{ColumnKind, MeasurementSchema};

use super::monitoring::{reasons, Rejection};

/// Splits a point's fields into accepted indexes and rejections.
pub fn check(
    schemas: &[MeasurementSchema],
    bucket: Id,
    point: &Point<'_>,
) -> (Vec<usize>, Vec<Rejection>) {
    let reject_all = |reason: &str| -> Vec<Rejection> {
        point
            .fields
            .iter()
            .map(|f| Rejection {
                bucket,
                measurement: Some(point.measurement.to_vec()),
                field: Some(f.key.to_vec()),
                reason: reason.to_string(),
                got: None,
                want: None,
                error: None,
            })
            .collect()
    };
    let Some(schema) = schemas
        .iter()
        .find(|s| s.name.as_bytes() == &*point.measurement)
    else {
        return (Vec::new(), reject_all(reasons::MEASUREMENT_NOT_ALLOWED));
    };
    let column = |name: &[u8]| schema.columns.iter().find(|c| c.name.as_bytes() == name);
    if point
        .tags
        .iter()
        .any(|t| !matches!(column(&t.key), Some(c) if c.kind == ColumnKind::Tag))
    {
        return (Vec::new(), reject_all(reasons::TAG_NOT_ALLOWED));
    }
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for (i, f) in point.fields.iter().enumerate() {
        let got = f.value.field_type();
        let base = Rejection {
            bucket,
            measurement: Some(point.measurement.to_vec()),
            field: Some(f.key.to_vec()),
            reason: String::new(),
            got: None,
            want: None,
            error: None,
        };
        match column(&f.key) {
            Some(c) if c.kind == ColumnKind::Field => {
                let want = c.data_type.unwrap_or(FieldType::String);
                if want == got {
                    accepted.push(i);
                } else {
                    rejected.push(Rejection {
                        reason: reasons::FIELD_TYPE_MISMATCH.into(),
                        got: Some(got),
                        want: Some(want),
                        ..base
                    });
                }
            }
            _ => rejected.push(Rejection {
                reason: reasons::FIELD_NOT_ALLOWED.into(),
                ..base
            }),
        }
    }
    (accepted, rejected)
}
