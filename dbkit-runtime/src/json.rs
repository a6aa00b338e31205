//! How the runtime's reports ([`HealthReport`](crate::HealthReport),
//! [`DrainReport`](crate::DrainReport), [`DatabaseInfo`](crate::DatabaseInfo)) are written by
//! serde: the field helpers their `Serialize` derives share.

use std::time::Duration;

use serde::Serializer;

use crate::ErrorCategory;

/// A duration as milliseconds, to the microsecond (`1.234`): a health check on SQLite takes less
/// than a millisecond, which whole milliseconds would report as 0. The field's key says the unit
/// (`latency_ms`, `elapsed_ms`).
pub(crate) fn millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_micros() as f64 / 1000.0)
}

/// An error category as its lower-case name (`transient`, `connection`, …).
pub(crate) fn category<S: Serializer>(category: &ErrorCategory, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(category.as_str())
}

/// An optional duration as [`millis`], or `null`.
pub(crate) fn optional_millis<S: Serializer>(duration: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => millis(duration, serializer),
        None => serializer.serialize_none(),
    }
}
