//! ClickHouse, which is not one more SQL [`Dialect`](crate::backend::sql::Dialect): no transactions, no
//! `RETURNING`, no generated keys, no constraints, mutations that run asynchronously, and on the
//! 18.16 release Debian ships no server-side query parameters. So a ClickHouse repository is an
//! append-only analytics table: `create_many`, `list`, `count`, `get`, `get_by_<unique>`; no
//! `create`, `update`, `delete` (see the `dbkit` crate docs for why).
//!
//! Here: the column types, the DDL, and the text of the `SELECT`s; `provider.rs` has the bodies
//! that run them.

mod provider;

pub(crate) use self::provider::ClickHouseProvider;
use super::Unsupported;
use crate::model::{Container, Field, Int, SqlType};

/// Rows per `INSERT` of `create_many`. ClickHouse writes one `INSERT` of up to
/// `max_insert_block_size` rows (1 048 576 by default) as one part, atomically; fewer, larger
/// inserts are what MergeTree wants (each makes a part to merge), and 100 000 rows keep the part
/// that a failed batch leaves behind, and each HTTP request, bounded.
pub(crate) const ROWS_PER_INSERT: usize = 100_000;

/// Quotes an identifier with backticks, escaping `\` and `` ` `` with a backslash as ClickHouse
/// (and the `clickhouse` crate's own `insert`) do.
pub(crate) fn quote(ident: &str) -> String {
    let mut quoted = String::with_capacity(ident.len() + 2);
    quoted.push('`');
    for c in ident.chars() {
        if c == '\\' || c == '`' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('`');
    quoted
}

/// An identifier quoted for a statement the `clickhouse` crate parses for `?` placeholders
/// (`Client::query`), where a literal `?` is written `??`.
fn quote_in_template(ident: &str) -> String {
    quote(ident).replace('?', "??")
}

/// The column type of `field` without `Nullable(…)`: `sql_type` when written, else dbkit's choice.
/// Without `sql_type` a type can be unsupported; with it, it always is (the value then travels in
/// its serde form).
pub(crate) fn column_type(field: &Field<'_>) -> Result<String, Unsupported> {
    if let Some(sql_type) = &field.attrs.column.sql_type {
        return Ok(sql_type.value.clone());
    }
    let unsupported = |message: &str| Unsupported::Fixable(message.to_owned());
    Ok(match field.sql_type {
        SqlType::Int(int) => match int {
            Int::I8 => "Int8",
            Int::I16 => "Int16",
            Int::I32 => "Int32",
            Int::I64 => "Int64",
            Int::U8 => "UInt8",
            Int::U16 => "UInt16",
            Int::U32 => "UInt32",
            Int::U64 => "UInt64",
        },
        SqlType::F32 => "Float32",
        SqlType::F64 => "Float64",
        // 18.16 has no `Bool`; the crate writes a `bool` as one byte, 0 or 1, and reads it back.
        SqlType::Bool => "UInt8",
        // ClickHouse strings are bytes; a `Vec<u8>` has the same `RowBinary` encoding.
        SqlType::String | SqlType::Bytes => "String",
        // 18.16 has no `JSON` type: the JSON text.
        SqlType::Json => "String",
        // 18.16 has no `DateTime64`: whole seconds.
        SqlType::DateTimeUtc => "DateTime",
        SqlType::NaiveDate => "Date",
        SqlType::Uuid => "UUID",
        SqlType::NaiveDateTime => {
            return Err(unsupported(
                "ClickHouse's `DateTime` is an instant (seconds since 1970, UTC), with no naive form: use `chrono::DateTime<chrono::Utc>`",
            ));
        }
        SqlType::NaiveTime => {
            return Err(unsupported(
                "ClickHouse has no time-of-day type: store the seconds since midnight in a `u32`",
            ));
        }
        SqlType::Other => return Err(Unsupported::Unknown),
    }
    .to_owned())
}

/// The column definition of `field` without its name: type, `Nullable`, `DEFAULT`. ClickHouse has
/// no `NOT NULL` (columns are not nullable unless `Nullable`), no `PRIMARY KEY` besides the
/// sorting key, and no `UNIQUE`.
pub(crate) fn column_definition(field: &Field<'_>) -> Result<String, Unsupported> {
    let ty = column_type(field)?;
    let mut definition = if field.nullable { format!("Nullable({ty})") } else { ty };
    if let Some(default) = &field.attrs.column.default {
        definition.push_str(" DEFAULT ");
        definition.push_str(&default_expression(&default.value));
    }
    Ok(definition)
}

/// The `DEFAULT` expression as written, except the SQL-standard `CURRENT_TIMESTAMP`, which
/// ClickHouse 18.16 does not know, becomes `now()`.
fn default_expression(expression: &str) -> String {
    let now = ["CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP()"];
    if now.iter().any(|n| n.eq_ignore_ascii_case(expression.trim())) {
        return "now()".to_owned();
    }
    expression.to_owned()
}

/// The serde `with` module of `::dbkit::__private::clickhouse_row` for a value whose Rust encoding
/// is not ClickHouse's column (by the Rust type: `sql_type` changes only the DDL), `None` when
/// serde's own encoding is `RowBinary`'s.
pub(crate) fn codec(sql_type: SqlType, nullable: bool) -> Option<&'static str> {
    Some(match (sql_type, nullable) {
        (SqlType::Uuid, false) => "uuid",
        (SqlType::Uuid, true) => "uuid_option",
        (SqlType::DateTimeUtc, false) => "datetime",
        (SqlType::DateTimeUtc, true) => "datetime_option",
        (SqlType::NaiveDate, false) => "date",
        (SqlType::NaiveDate, true) => "date_option",
        (SqlType::Json, false) => "json",
        (SqlType::Json, true) => "json_option",
        _ => return None,
    })
}

/// How a key or unique value is written into a `SELECT … WHERE column = <lookup>`: the
/// placeholder the `clickhouse` crate fills in client-side, with the conversion ClickHouse needs
/// from the literal it gets (see `provider.rs` for the value bound to it).
pub(crate) fn lookup_placeholder(field: &Field<'_>) -> &'static str {
    if field.attrs.column.sql_type.is_some() {
        return "?";
    }
    match field.sql_type {
        // Bound as its hyphenated text, a string literal.
        SqlType::Uuid => "toUUID(?)",
        // Bound as `YYYY-MM-DD`.
        SqlType::NaiveDate => "toDate(?)",
        // Bound as the seconds since 1970, whatever the server's time zone.
        SqlType::DateTimeUtc => "toDateTime(?)",
        // Bound as hexadecimal text: 18.16 has no `X'…'` literal, and the bytes need not be UTF-8.
        SqlType::Bytes => "unhex(?)",
        _ => "?",
    }
}

pub(crate) struct Statements {
    pub(crate) create_table: String,
    pub(crate) drop_table: String,
    /// `SELECT <columns> FROM t WHERE key = ? LIMIT 1`: ClickHouse does not enforce a unique key.
    pub(crate) select_by_key: String,
    /// One per `#[unique]` field, in field order, like `select_by_key`.
    pub(crate) select_by_unique: Vec<String>,
    /// `SELECT … ORDER BY key LIMIT ? OFFSET ?`.
    pub(crate) list: String,
    pub(crate) count: String,
}

impl Statements {
    /// Builds the statements of a model that passed `check`: it has a key and storable types.
    ///
    /// The `SELECT`s are templates for `clickhouse::Client::query`, with `?` for the values and
    /// `??` for a `?` in a name; the DDL is sent verbatim.
    pub(crate) fn new(cont: &Container<'_>) -> Statements {
        let key = cont.key().expect("a checked model has a key");
        let definitions = cont
            .fields
            .iter()
            .map(|f| {
                let definition = column_definition(f).unwrap_or_else(|u| panic!("checked type: {}", u.message()));
                format!("{} {definition}", quote(&f.column()))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let table = cont.table();

        let q = quote_in_template;
        let columns = cont.fields.iter().map(|f| q(&f.column())).collect::<Vec<_>>().join(", ");
        let select = format!("SELECT {columns} FROM {}", q(&table));
        let by = |f: &Field<'_>| format!("{select} WHERE {} = {} LIMIT 1", q(&f.column()), lookup_placeholder(f));

        Statements {
            // `MergeTree() ORDER BY` works on 18.16 and on current servers; the sorting key is the
            // model's key, so `get` and `list` read a range of the primary index.
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {} ({definitions}) ENGINE = MergeTree() ORDER BY ({})",
                quote(&table),
                quote(&key.column())
            ),
            drop_table: format!("DROP TABLE IF EXISTS {}", quote(&table)),
            select_by_key: by(key),
            select_by_unique: cont.unique_fields().map(by).collect(),
            list: format!("{select} ORDER BY {} LIMIT ? OFFSET ?", q(&key.column())),
            count: format!("SELECT count() FROM {}", q(&table)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tests::{errors, with_valid};

    fn statements(input: syn::DeriveInput) -> Statements {
        with_valid(input, Statements::new)
    }

    #[test]
    fn event_statements() {
        let st = statements(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(table = "events")]
            pub struct Event {
                #[key]
                pub id: uuid::Uuid,
                #[unique]
                pub seq: u64,
                pub name: String,
                pub payload: Vec<u8>,
                pub score: Option<f64>,
                pub ok: bool,
                pub day: chrono::NaiveDate,
                pub extra: serde_json::Value,
                #[column(name = "kind?")]
                pub r#type: i8,
                #[column(default = "CURRENT_TIMESTAMP")]
                pub created_at: chrono::DateTime<chrono::Utc>,
            }
        });
        assert_eq!(
            st.create_table,
            "CREATE TABLE IF NOT EXISTS `events` (`id` UUID, `seq` UInt64, `name` String, `payload` String, \
             `score` Nullable(Float64), `ok` UInt8, `day` Date, `extra` String, `kind?` Int8, \
             `created_at` DateTime DEFAULT now()) ENGINE = MergeTree() ORDER BY (`id`)"
        );
        assert_eq!(st.drop_table, "DROP TABLE IF EXISTS `events`");
        let columns = "`id`, `seq`, `name`, `payload`, `score`, `ok`, `day`, `extra`, `kind??`, `created_at`";
        assert_eq!(st.select_by_key, format!("SELECT {columns} FROM `events` WHERE `id` = toUUID(?) LIMIT 1"));
        assert_eq!(st.select_by_unique, [format!("SELECT {columns} FROM `events` WHERE `seq` = ? LIMIT 1")]);
        assert_eq!(st.list, format!("SELECT {columns} FROM `events` ORDER BY `id` LIMIT ? OFFSET ?"));
        assert_eq!(st.count, "SELECT count() FROM `events`");
    }

    #[test]
    fn every_integer_and_lookup() {
        let st = statements(syn::parse_quote! {
            #[database(clickhouse)]
            struct Reading {
                #[key] at: chrono::DateTime<chrono::Utc>,
                #[unique] tag: Vec<u8>,
                #[unique] day: chrono::NaiveDate,
                #[unique] label: String,
                a: i16, b: i32, c: i64, d: u8, e: u16, f: u32, g: f32,
                #[column(sql_type = "LowCardinality(String)")] h: Option<String>,
            }
        });
        assert!(st.create_table.starts_with("CREATE TABLE IF NOT EXISTS `reading` (`at` DateTime, `tag` String, "));
        assert!(st.create_table.contains(
            "`a` Int16, `b` Int32, `c` Int64, `d` UInt8, `e` UInt16, `f` UInt32, `g` Float32, `h` Nullable(LowCardinality(String))"
        ));
        assert!(st.select_by_key.ends_with("WHERE `at` = toDateTime(?) LIMIT 1"), "{}", st.select_by_key);
        let lookups: Vec<&str> = st.select_by_unique.iter().map(|s| &s[s.find(" WHERE ").unwrap()..]).collect();
        assert_eq!(
            lookups,
            [" WHERE `tag` = unhex(?) LIMIT 1", " WHERE `day` = toDate(?) LIMIT 1", " WHERE `label` = ? LIMIT 1"]
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("order"), "`order`");
        assert_eq!(quote(r"a`b\c"), r"`a\`b\\c`");
        assert_eq!(quote_in_template("a?b"), "`a??b`");
        assert_eq!(default_expression("current_timestamp"), "now()");
        assert_eq!(default_expression("today()"), "today()");
    }

    #[test]
    fn what_clickhouse_rejects() {
        let errors = errors(syn::parse_quote! {
            #[database(clickhouse)]
            struct Event {
                #[key(auto)] id: i64,
                at: chrono::NaiveDateTime,
                clock: chrono::NaiveTime,
                money: rust_decimal::Decimal,
            }
        });
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains("ClickHouse cannot generate a key"), "{}", errors[0]);
        assert!(errors[1].contains("use `chrono::DateTime<chrono::Utc>`"), "{}", errors[1]);
        assert!(errors[2].contains("no time-of-day type"), "{}", errors[2]);
        assert!(errors[3].contains("which ClickHouse column type stores `rust_decimal::Decimal`"), "{}", errors[3]);
        assert!(errors[3].contains("serde's `Serialize` and `Deserialize`"), "{}", errors[3]);
    }
}
