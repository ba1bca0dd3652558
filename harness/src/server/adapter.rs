//! How the harness talks to a server: where writes go (`WriteAdapter`), how landed points are
//! read back (`ReadAdapter`) and how each case gets state of its own (`Isolation`). Plain
//! configuration vocabulary, read from target files and flags; a leaf.

/// How writes reach the server.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum WriteAdapter {
    /// `/api/v2/write?org=&bucket=`
    V2,
    /// `/write?db=`: v2 write steps are sent there with `db` = the bucket.
    V1,
    /// `/api/v3/write_lp?db=`: the server's native write is InfluxDB 3's (seeds go there with
    /// `precision=ns`); v2 and v1 write steps keep their own endpoints.
    V3,
}

/// How landed points are read back.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum ReadAdapter {
    Flux,
    /// `/query` with `SELECT * FROM /.*/ GROUP BY *`, typed through `SHOW FIELD KEYS`
    /// (InfluxDB 1.x).
    Influxql,
    /// VictoriaMetrics' `/api/v1/export` (JSON lines): series `measurement_field` with tags as
    /// labels, float values, millisecond times. Field types are lost (every value reads as a
    /// float) and the measurement is split from the field by the measurements the case wrote.
    VmExport,
    /// InfluxDB 3's `/api/v3/query_sql` (JSON lines): the tables from
    /// `information_schema.tables`, their column types from `SHOW COLUMNS`, then `SELECT *`.
    Sql,
    None,
}

/// How a case gets state of its own on a URL target.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// A bucket (and tokens) per case through the v2 tenancy API (`/api/v2/buckets`,
    /// `/api/v2/authorizations`).
    #[default]
    Buckets,
    /// A database per case through InfluxQL (`CREATE DATABASE ... WITH DURATION`, then
    /// `DROP DATABASE`): InfluxDB 1.x. No tokens, no Flux query or delete API.
    Databases,
    /// No server-side state: every write to a case's bucket is tagged with
    /// `extra_label=conformance_bucket=<name>` and read back by that label
    /// (VictoriaMetrics). No tokens, retention, Flux query or delete API.
    ExtraLabel,
    /// A database per case on an InfluxDB 3 server: created by the first write (databases
    /// appear on first write), soft-deleted with `DELETE /api/v3/configure/database` when the
    /// case ends (Core counts at most 5 live databases). No tokens, Flux query or delete API.
    V3Databases,
}

/// The label that tells one case's writes from another's under `Isolation::ExtraLabel`.
pub const ISOLATION_LABEL: &str = "conformance_bucket";
