//! How the rows of a `#[database(clickhouse)]` repository travel as `RowBinary`: serde `with`
//! modules for the field types whose Rust encoding is not ClickHouse's, used by the private row
//! structs `#[derive(Repository)]` generates. Not public API.
//!
//! Each module has a `serialize` for the insert row, whose fields borrow the `NewX` (`&&T`, so
//! `create_many` copies nothing), and a `deserialize` for the select row, which owns its values.
//!
//! | Rust | column | on the wire |
//! |---|---|---|
//! | `uuid::Uuid` | `UUID` | two little-endian `u64` halves (the crate's `serde::uuid`) |
//! | `chrono::DateTime<Utc>` | `DateTime` | `u32` seconds since 1970 (the crate's `serde::chrono::datetime`) |
//! | `chrono::NaiveDate` | `Date` | `u16` days since 1970 (the crate's `serde::chrono::date`) |
//! | `serde_json::Value` | `String` | the JSON text |
//!
//! *Feature `clickhouse`.*

use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Error as _, Serializer};

macro_rules! borrowed {
    ($(#[$doc:meta])* $name:ident, $ty:ty, [$($module:tt)*]) => {
        $(#[$doc])*
        pub mod $name {
            use super::*;

            /// Serializes a borrowed value of the insert row.
            pub fn serialize<S: Serializer>(value: &&$ty, serializer: S) -> Result<S::Ok, S::Error> {
                $($module)*::serialize(*value, serializer)
            }

            /// Deserializes an owned value of the select row.
            pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                $($module)*::deserialize(deserializer)
            }
        }
    };
}

borrowed!(
    /// `uuid::Uuid` as `UUID`.
    uuid, ::uuid::Uuid, [::clickhouse::serde::uuid]
);
borrowed!(
    /// `Option<uuid::Uuid>` as `Nullable(UUID)`.
    uuid_option, Option<::uuid::Uuid>, [::clickhouse::serde::uuid::option]
);
borrowed!(
    /// `chrono::DateTime<Utc>` as `DateTime`: whole seconds, 1970 to 2106.
    datetime, chrono::DateTime<chrono::Utc>, [::clickhouse::serde::chrono::datetime]
);
borrowed!(
    /// `Option<chrono::DateTime<Utc>>` as `Nullable(DateTime)`.
    datetime_option, Option<chrono::DateTime<chrono::Utc>>, [::clickhouse::serde::chrono::datetime::option]
);
borrowed!(
    /// `chrono::NaiveDate` as `Date`: 1970 to 2149.
    date, chrono::NaiveDate, [::clickhouse::serde::chrono::date]
);
borrowed!(
    /// `Option<chrono::NaiveDate>` as `Nullable(Date)`.
    date_option, Option<chrono::NaiveDate>, [::clickhouse::serde::chrono::date::option]
);
borrowed!(
    /// `serde_json::Value` as `String`, the JSON text.
    json, serde_json::Value, [super::json_text]
);
borrowed!(
    /// `Option<serde_json::Value>` as `Nullable(String)`.
    json_option, Option<serde_json::Value>, [super::json_text::option]
);

/// `serde_json::Value` to and from its text, in the shape of the crate's own `serde` modules.
mod json_text {
    use super::*;

    pub(super) fn serialize<S: Serializer>(value: &serde_json::Value, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(value).map_err(S::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<serde_json::Value, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }

    pub(super) mod option {
        use super::*;

        pub(in crate::engine::clickhouse::row) fn serialize<S: Serializer>(
            value: &Option<serde_json::Value>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => serializer.serialize_some(&Text(value)),
                None => serializer.serialize_none(),
            }
        }

        pub(in crate::engine::clickhouse::row) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<serde_json::Value>, D::Error> {
            let text: Option<String> = Deserialize::deserialize(deserializer)?;
            text.map(|text| serde_json::from_str(&text).map_err(D::Error::custom)).transpose()
        }

        struct Text<'a>(&'a serde_json::Value);

        impl serde::Serialize for Text<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                super::serialize(self.0, serializer)
            }
        }
    }
}

/// `bytes` as the hexadecimal text ClickHouse's `unhex()` reads: how a `Vec<u8>` key is looked up,
/// since ClickHouse 18.16 has no `X'…'` literal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_what_unhex_reads() {
        assert_eq!(super::hex(&[0x00, 0xab, 0x7f, 0xff]), "00AB7FFF");
        assert_eq!(super::hex(&[]), "");
    }
}
