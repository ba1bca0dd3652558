//! The InfluxQL subset (placeholder until the planner lands).
