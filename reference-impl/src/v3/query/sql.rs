//! The SQL subset (placeholder until the planner lands).
