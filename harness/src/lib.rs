//! influx-conformance
