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

/// The form a `#[dbkit::queries]` argument is sent in when its Rust value is not what ClickHouse
/// reads for its column type: the generated statement wraps the placeholder in the conversion
/// (`toDateTime(?)`, `toUUID(?)`, `unhex(?)`, `toDate(?)`) that turns this form into the column's
/// type, the same on both ways of binding (the crate's escaped literal on 18.16, a server-side
/// parameter on current servers).
pub trait Param {
    /// What is bound: an integer or a string.
    type Value: serde::Serialize;

    /// The value to bind.
    fn param(&self) -> Self::Value;
}

impl Param for chrono::DateTime<chrono::Utc> {
    /// The seconds since 1970: an instant, whatever the server's time zone.
    type Value = i64;
    fn param(&self) -> i64 {
        self.timestamp()
    }
}

impl Param for chrono::NaiveDate {
    /// `YYYY-MM-DD`.
    type Value = String;
    fn param(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

impl Param for ::uuid::Uuid {
    /// The hyphenated text.
    type Value = String;
    fn param(&self) -> String {
        self.hyphenated().to_string()
    }
}

impl Param for bool {
    /// 0 or 1, as the `UInt8` column stores it.
    type Value = u8;
    fn param(&self) -> u8 {
        u8::from(*self)
    }
}

impl Param for [u8] {
    /// Hexadecimal text, for `unhex`: the bytes need not be UTF-8.
    type Value = String;
    fn param(&self) -> String {
        hex(self)
    }
}

impl Param for Vec<u8> {
    type Value = String;
    fn param(&self) -> String {
        hex(self)
    }
}

impl Param for serde_json::Value {
    /// The JSON text, as the `String` column stores it.
    type Value = String;
    fn param(&self) -> String {
        self.to_string()
    }
}

impl<T: Param + ?Sized> Param for &T {
    type Value = T::Value;
    fn param(&self) -> T::Value {
        (**self).param()
    }
}

impl<T: Param> Param for Option<T> {
    /// `NULL` for `None`.
    type Value = Option<T::Value>;
    fn param(&self) -> Option<T::Value> {
        self.as_ref().map(Param::param)
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
