//! How the `NewX` and `XPatch` of a `#[repository(serde)]` model read a request body: the
//! `deserialize_with` functions their generated fields call, each given the field's name so that a
//! value that does not fit is an error naming the field. serde's own messages name a missing or
//! unknown field but not the field whose value has the wrong type (`invalid type: string "x",
//! expected i64`), which a client cannot act on.

use std::fmt::Display;

use serde::de::{Deserialize, Deserializer, Error};

/// A value of `field`: `T` as serde reads it, its error naming the field.
pub fn value<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D, field: &str) -> Result<T, D::Error> {
    T::deserialize(deserializer).map_err(|error| named(field, error))
}

/// A patch of a nullable column (`Option<Option<T>>`, here `T` is the column's `Option`): present
/// means set, so `null` is `Some(None)`, "write NULL". A missing field never reaches this function:
/// the patch's `#[serde(default)]` leaves it `None`, "not set".
pub fn set_nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
    field: &str,
) -> Result<Option<T>, D::Error> {
    value(deserializer, field).map(Some)
}

/// A patch of a NOT NULL column: a value sets it; `null` is an error naming the field, not "leave
/// it", which would drop what the client sent without a word.
pub fn set<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
    field: &str,
) -> Result<Option<T>, D::Error> {
    match value::<Option<T>, D>(deserializer, field)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom(format_args!(
            "field `{field}` cannot be null: its column is NOT NULL; leave the field out to keep the stored value"
        ))),
    }
}

fn named<E: Error>(field: &str, error: impl Display) -> E {
    E::custom(format_args!("field `{field}`: {error}"))
}
