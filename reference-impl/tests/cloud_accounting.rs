//! The cloud accounting invariant over random batches: every field value sent ends written,
//! rejected in the response, or logged in `rejected_points` — exactly once (a malformed line
//! counts as one value). Runs the engine in-process with a pinned clock.

use std::sync::Arc;

use influx_reference::clock::{Clock, ManualClock};
use influx_reference::engine::cloud::{self, CloudConfig};
use influx_reference::engine::v2::WriteRequest;
use influx_reference::model::FieldType;
use influx_reference::storage::cloud::{ColumnKind, MeasurementSchema, SchemaColumn};
use influx_reference::storage::SchemaType;
use influx_reference::{Flavor, Reference, ServerConfig};
use proptest::prelude::*;

const NOW: i64 = 1_747_738_800_000_000_000;
const DAY: i64 = 86_400_000_000_000;

#[derive(Debug, Clone)]
enum Line {
    Good {
        measurement: &'static str,
        tag: &'static str,
        fields: Vec<(&'static str, &'static str)>,
        age: i64,
    },
    Bad(&'static str),
}

impl Line {
    fn values(&self) -> u64 {
        match self {
            Line::Good { fields, .. } => fields.len() as u64,
            Line::Bad(_) => 1,
        }
    }

    fn text(&self) -> String {
        match self {
            Line::Good {
                measurement,
                tag,
                fields,
                age,
            } => {
                let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{measurement},t={tag} {} {}", f.join(","), NOW - age)
            }
            Line::Bad(b) => b.to_string(),
        }
    }
}

fn line() -> impl Strategy<Value = Line> {
    let value = prop::sample::select(vec!["1", "2.5", "3i", "4u", "\"s\"", "true"]);
    let field = (prop::sample::select(vec!["v", "w", "x"]), value);
    let good = (
        prop::sample::select(vec!["m", "n"]),
        prop::sample::select(vec!["a", "b", "c"]),
        prop::collection::btree_map(
            field.prop_map(|(k, v)| (k, v)).prop_map(|p| p),
            Just(()),
            1..3,
        ),
        prop_oneof![Just(0i64), 0..DAY, Just(2 * DAY)],
    )
        .prop_map(|(measurement, tag, fields, age)| Line::Good {
            measurement,
            tag,
            fields: fields
                .into_keys()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect(),
            age,
        });
    prop_oneof![8 => good, 1 => prop::sample::select(vec!["bad", "m v=", "m,t v=1", "m v=1 12a"]).prop_map(Line::Bad)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn every_value_is_accounted_for_exactly_once(
        batches in prop::collection::vec(prop::collection::vec(line(), 1..12), 1..4),
        explicit in any::<bool>(),
        cardinality in prop_oneof![Just(None), (1usize..6).prop_map(Some)],
    ) {
        let mut config = CloudConfig::default();
        config.limits.cardinality = cardinality.map(|c| c + 1_000_000); // gateway never refuses
        config.limits.write_bytes_per_window = None;
        let clock = ManualClock::new(NOW);
        let reference = Reference::with_clock(
            ServerConfig { flavor: Flavor::Cloud, retention: DAY, cloud: config, ..ServerConfig::default() },
            Arc::new(clock.clone()),
        ).unwrap();
        // Async cardinality overflow: a small limit applied only at apply time.
        let apply_config = CloudConfig { limits: influx_reference::engine::cloud::Limits { cardinality, ..config.limits }, ..config };
        let boot = reference.bootstrap().clone();
        let mut sent = 0u64;
        let mut rejected_now = 0u64;
        reference.with_store(|store| {
            if explicit {
                store.buckets.get_mut(&boot.bucket_id).unwrap().schema_type = SchemaType::Explicit;
                let id = store.next_id();
                store.cloud.schemas.entry(boot.bucket_id).or_default().push(MeasurementSchema {
                    id, org_id: boot.org_id, bucket_id: boot.bucket_id, name: "m".into(),
                    columns: vec![
                        SchemaColumn { name: "time".into(), kind: ColumnKind::Timestamp, data_type: None },
                        SchemaColumn { name: "t".into(), kind: ColumnKind::Tag, data_type: None },
                        SchemaColumn { name: "v".into(), kind: ColumnKind::Field, data_type: Some(FieldType::Float) },
                        SchemaColumn { name: "w".into(), kind: ColumnKind::Field, data_type: Some(FieldType::Integer) },
                    ],
                    created_at: 0, updated_at: 0,
                });
            }
            let auth = store.authorization_by_token("my-token").unwrap().clone();
            for batch in &batches {
                sent += batch.iter().map(Line::values).sum::<u64>();
                let body = batch.iter().map(Line::text).collect::<Vec<_>>().join("\n");
                let req = WriteRequest { bucket: Some(b"my-bucket"), body: body.as_bytes(), ..WriteRequest::default() };
                match cloud::write(store, &auth, &req, &config, &clock) {
                    Ok(report) => prop_assert_eq!(report.rejected, 0),
                    Err(e) => {
                        prop_assert_eq!(e.status(), 400, "{}", e.message);
                        let n: u64 = if let Some((_, rest)) = e.message.split_once(" out of ") {
                            let before = e.message[..e.message.len() - rest.len() - 8].rsplit(' ').next().unwrap();
                            before.parse().unwrap()
                        } else {
                            let before = e.message.split('/').next().unwrap();
                            before.rsplit(' ').next().unwrap().parse().unwrap()
                        };
                        rejected_now += n;
                    }
                }
                clock.advance(1_000);
            }
            cloud::settle(store, &apply_config, clock.now_nanos());
            let monitoring = store.buckets.values().find(|b| b.org_id == boot.org_id && b.name == "_monitoring").unwrap().id;
            let rows = store.data.get(&monitoring).map_or(0, |d| d.value_count()) as u64;
            prop_assert!(rows >= rejected_now);
            prop_assert_eq!(store.cloud.values_written + rows, sent,
                "written {} + rows {} (of which {} in responses) != sent {}", store.cloud.values_written, rows, rejected_now, sent);
            Ok(())
        })?;
    }
}
