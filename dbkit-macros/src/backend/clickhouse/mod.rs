//! ClickHouse, which is not one more SQL [`Dialect`](crate::backend::sql::Dialect): no transactions, no
//! `RETURNING`, no generated keys, no constraints, mutations that run asynchronously, and on the
//! 18.16 release Debian ships no server-side query parameters. So a ClickHouse repository is an
//! append-only analytics table: `create_many`, `list`, `count`, `get`, `get_by_<unique>`; no
//! `create`, `update`, `delete` (see the `dbkit` crate docs for why).
//!
//! Here: the column types, the table design (`#[repository(engine, order_by, partition_by, ttl)]`),
//! the DDL, and the text of the `SELECT`s; `provider.rs` has the bodies that run them.

mod provider;

pub(crate) use self::provider::ClickHouseProvider;
use super::Unsupported;
use crate::model::attr::Keyed;
use crate::model::{Container, Ctxt, Field, Int, SqlType};

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
        // `RowBinary` sends an enum as its number (`Int8`/`Int16`), so the string that names a
        // value cannot be read or written in its place.
        let declared = sql_type.value.trim_start();
        if field.sql_type == SqlType::String && (declared.starts_with("Enum8") || declared.starts_with("Enum16")) {
            let (bits, int) = if declared.starts_with("Enum8") { ("8", "i8") } else { ("16", "i16") };
            return Err(Unsupported::Never(format!(
                "a `String` cannot carry an `Enum{bits}` column: `RowBinary` sends each value as its `Int{bits}` number, not its name; use `{int}`, or a `#[repr({int})]` enum that serializes as its number (for example with `serde_repr`), or keep `String` with `sql_type = \"LowCardinality(String)\"`"
            )));
        }
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
    let mut definition = nullable(field, column_type(field)?);
    if let Some(default) = &field.attrs.column.default {
        definition.push_str(" DEFAULT ");
        definition.push_str(&default_expression(&default.value));
    }
    Ok(definition)
}

/// `ty` for a non-nullable field; `Nullable(ty)` for an `Option`, inside `LowCardinality`, which
/// ClickHouse refuses to nest in `Nullable`: `LowCardinality(Nullable(String))`.
fn nullable(field: &Field<'_>, ty: String) -> String {
    if !field.nullable {
        return ty;
    }
    match ty.strip_prefix("LowCardinality(").and_then(|inner| inner.strip_suffix(')')) {
        Some(inner) => format!("LowCardinality(Nullable({inner}))"),
        None => format!("Nullable({ty})"),
    }
}

/// The engine's name: `ReplacingMergeTree` of `ReplacingMergeTree(version)`.
fn engine_name(engine: &str) -> &str {
    engine.split('(').next().unwrap_or_default().trim()
}

/// Whether `engine` is of the MergeTree family, the engines that take `ORDER BY`,
/// `PARTITION BY` and `TTL` (`MergeTree`, `ReplacingMergeTree`, `ReplicatedMergeTree`, …).
fn is_merge_tree(engine: &str) -> bool {
    engine_name(engine).ends_with("MergeTree")
}

/// The table design keys of a ClickHouse model: none empty, and `order_by`, `partition_by` and
/// `ttl` only with a MergeTree-family engine (a `Distributed` or `Memory` table has none of them).
pub(crate) fn check_design(cx: &Ctxt, cont: &Container<'_>) {
    let design = &cont.attrs.design;
    for keyed in design.written() {
        if keyed.value.value.trim().is_empty() {
            let (key, example) = (keyed.key, design_example(keyed.key));
            cx.error_spanned_by(
                &keyed.value.tokens,
                format!("an empty `{key}`: write it, as in `{key} = \"{example}\"`, or remove it"),
            );
        }
    }
    let Some(engine) = design.engine.as_ref().filter(|e| !e.value.value.trim().is_empty()) else { return };
    if is_merge_tree(&engine.value.value) {
        return;
    }
    let name = engine_name(&engine.value.value);
    for keyed in [&design.order_by, &design.partition_by, &design.ttl].into_iter().flatten() {
        let clause = keyed.key.replace('_', " ").to_uppercase();
        cx.error_spanned_by(
            &keyed.key_tokens,
            format!(
                "`{}` needs a MergeTree-family engine: a `{name}` table has no `{clause}` (the tables it reads or writes have theirs); remove `{}`, or use an engine such as `MergeTree()` or `ReplacingMergeTree(version)`",
                keyed.key, keyed.key
            ),
        );
    }
}

fn design_example(key: &str) -> &'static str {
    match key {
        "engine" => "ReplacingMergeTree(version)",
        "order_by" => "(user_id, event_time)",
        "partition_by" => "toYYYYMM(event_time)",
        _ => "event_time + INTERVAL 90 DAY",
    }
}

/// `ENGINE = … ORDER BY … PARTITION BY … TTL …`, after the column list: `MergeTree()` ordered by
/// the model's key unless the model says otherwise. A MergeTree-family engine written without
/// arguments gets `()`; another engine is written as it is, with no clause after it.
fn table_clauses(cont: &Container<'_>) -> String {
    let design = &cont.attrs.design;
    let value = |keyed: &Option<Keyed>| keyed.as_ref().map(|k| k.value.value.trim().to_owned());
    let engine = value(&design.engine).unwrap_or_else(|| "MergeTree()".to_owned());
    if !is_merge_tree(&engine) {
        return format!("ENGINE = {engine}");
    }
    let engine = if engine.contains('(') { engine } else { format!("{engine}()") };
    let order_by = value(&design.order_by).unwrap_or_else(|| {
        let key = cont.key().expect("a checked model has a key");
        format!("({})", quote(&key.column()))
    });
    // ClickHouse's order: `PARTITION BY` and `ORDER BY` (either first), then `TTL`.
    let mut clauses = format!("ENGINE = {engine}");
    if let Some(partition_by) = value(&design.partition_by) {
        clauses.push_str(&format!(" PARTITION BY {partition_by}"));
    }
    clauses.push_str(&format!(" ORDER BY {order_by}"));
    if let Some(ttl) = value(&design.ttl) {
        clauses.push_str(&format!(" TTL {ttl}"));
    }
    clauses
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
            // By default `MergeTree() ORDER BY (key)`, which works on 18.16 and on current
            // servers: `get` and `list` read a range of the primary index.
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {} ({definitions}) {}",
                quote(&table),
                table_clauses(cont)
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
            "`a` Int16, `b` Int32, `c` Int64, `d` UInt8, `e` UInt16, `f` UInt32, `g` Float32, `h` LowCardinality(Nullable(String))"
        ));
        assert!(st.select_by_key.ends_with("WHERE `at` = toDateTime(?) LIMIT 1"), "{}", st.select_by_key);
        let lookups: Vec<&str> = st.select_by_unique.iter().map(|s| &s[s.find(" WHERE ").unwrap()..]).collect();
        assert_eq!(
            lookups,
            [" WHERE `tag` = unhex(?) LIMIT 1", " WHERE `day` = toDate(?) LIMIT 1", " WHERE `label` = ? LIMIT 1"]
        );
    }

    #[test]
    fn table_design() {
        let st = statements(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(
                table = "user_events",
                engine = "ReplacingMergeTree(version)",
                order_by = "(user_id, event_time)",
                partition_by = "toYYYYMM(event_time)",
                ttl = "event_time + INTERVAL 90 DAY",
            )]
            struct UserEvent {
                #[key] id: uuid::Uuid,
                user_id: u64,
                #[column(sql_type = "LowCardinality(String)")] event_type: String,
                #[column(sql_type = "Enum8('web' = 1, 'app' = 2)")] source: i8,
                event_data: serde_json::Value,
                event_time: chrono::DateTime<chrono::Utc>,
                version: u32,
            }
        });
        assert_eq!(
            st.create_table,
            "CREATE TABLE IF NOT EXISTS `user_events` (`id` UUID, `user_id` UInt64, `event_type` LowCardinality(String), \
             `source` Enum8('web' = 1, 'app' = 2), `event_data` String, `event_time` DateTime, `version` UInt32) \
             ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(event_time) ORDER BY (user_id, event_time) \
             TTL event_time + INTERVAL 90 DAY"
        );

        // An engine written without arguments gets them; the sorting key stays the model's key.
        let st = statements(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(engine = "SummingMergeTree")]
            struct Total { #[key] day: chrono::NaiveDate, n: u64 }
        });
        assert!(st.create_table.ends_with(" ENGINE = SummingMergeTree() ORDER BY (`day`)"), "{}", st.create_table);

        // Another engine takes no clause after it.
        let st = statements(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(table = "user_events", engine = "Distributed(analytics, default, user_events_local, rand())")]
            struct UserEvent { #[key] id: u64, n: u64 }
        });
        assert!(
            st.create_table.ends_with(
                "(`id` UInt64, `n` UInt64) ENGINE = Distributed(analytics, default, user_events_local, rand())"
            ),
            "{}",
            st.create_table
        );
    }

    #[test]
    fn table_design_mistakes() {
        let found = errors(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(engine = "Distributed(c, db, t)", order_by = "id", ttl = "", partition_by = "x")]
            struct Event {
                #[key] id: u64,
                #[column(sql_type = "Enum8('a' = 1)")] kind: String,
            }
        });
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(found[0].contains("a `String` cannot carry an `Enum8` column"), "{}", found[0]);
        assert!(found[1].starts_with("an empty `ttl`"), "{}", found[1]);
        assert!(
            found[2].starts_with("`order_by` needs a MergeTree-family engine: a `Distributed` table has no `ORDER BY`"),
            "{}",
            found[2]
        );
        assert!(found[3].contains("has no `PARTITION BY`"), "{}", found[3]);
        assert!(found[4].contains("has no `TTL`"), "{}", found[4]);

        let found = errors(syn::parse_quote! {
            #[database(postgres)]
            #[repository(engine = "MergeTree()", order_by = "id")]
            struct Event { #[key(auto)] id: i64, n: i64 }
        });
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("`engine` is ClickHouse-only"), "{}", found[0]);
        assert!(found[0].contains("a PostgreSQL table's primary key"), "{}", found[0]);
        assert!(found[1].starts_with("`order_by` is ClickHouse-only"), "{}", found[1]);

        let found = errors(syn::parse_quote! {
            #[database(clickhouse)]
            #[repository(engin = "MergeTree()", order_by = "a", order_by = "b")]
            struct Event { #[key] id: u64, n: u64 }
        });
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("did you mean `engine`?"), "{}", found[0]);
        assert!(found[1].starts_with("duplicate `order_by`"), "{}", found[1]);
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
