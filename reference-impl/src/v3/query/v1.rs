//! v1 `/query` (placeholder until the planner lands).
