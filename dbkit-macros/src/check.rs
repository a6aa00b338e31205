//! Rules that need more than one attribute, or the backend: one key, column names that do not
//! clash, types the backend can store. Every broken rule is reported; nothing stops at the first.

use std::collections::BTreeMap;

use quote::ToTokens;
use syn::ext::IdentExt;

use crate::ast::{Container, Field, Int, SqlType};
use crate::attr::{Backend, KeyKind};
use crate::ctxt::Ctxt;
use crate::dialect::Dialect;

pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    let dialect = check_database(cx, cont);
    // ClickHouse is not a SQL `Dialect` (see `clickhouse.rs`): its own type rules.
    let clickhouse = cont.attrs.database.as_ref().is_some_and(|d| d.backend.value == Backend::ClickHouse);
    // Nor is Oracle (see `oracle.rs`).
    let oracle = cont.attrs.database.as_ref().is_some_and(|d| d.backend.value == Backend::Oracle);
    check_table(cx, cont);
    check_key(cx, cont);
    for field in &cont.fields {
        check_field(cx, cont.ident, field, dialect, clickhouse);
        if oracle {
            check_oracle_type(cx, cont.ident, field);
        }
    }
    check_column_names(cx, cont);
    check_has_columns(cx, cont);
}

/// The dialect to generate, when `#[database]` names a backend the derive supports.
fn check_database(cx: &Ctxt, cont: &Container<'_>) -> Option<Dialect> {
    let ident = cont.ident;
    if !cont.attrs.database_written {
        cx.error_spanned_by(
            ident,
            format!(
                "missing `#[database(...)]`: say where `{ident}` lives, for example `#[database(sqlite)]` above the struct (one of `mysql`, `postgres`, `sqlite`, `clickhouse`, `oracle`)"
            ),
        );
    }
    let database = cont.attrs.database.as_ref()?;
    let backend = database.backend.value;
    if let Some(name) = &database.name
        && name.value.is_empty()
    {
        cx.error_spanned_by(
            &name.tokens,
            format!(
                "a database name cannot be empty: remove `name` to resolve the database registered as `{}`",
                backend.name()
            ),
        );
    }
    Dialect::of(backend)
}

/// Like [`check_type`], for Oracle (`oracle.rs`), where a value travels through the `oracle`
/// crate: a type it cannot bind is an error even with `sql_type`.
fn check_oracle_type(cx: &Ctxt, model: &syn::Ident, field: &Field<'_>) {
    if field.attrs.key.is_some() && field.nullable || field.is_auto_key() {
        return; // reported by `check_field`, or the key's type is fixed
    }
    if nested_option(field) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "a column is nullable once: write `Option<T>`, not `Option<Option<T>>` (`{}Patch` adds the outer `Option` itself)",
                model.unraw()
            ),
        );
        return;
    }
    if let Err(unsupported) = crate::oracle::column_type(field) {
        let message = if field.sql_type == SqlType::Other {
            let ty = type_name(field.value_ty);
            format!(
                "dbkit cannot bind `{ty}` through the `oracle` crate{}: use a type of the Oracle column of the type table (integers, `f32`, `f64`, `bool`, `String`, `Vec<u8>`, chrono dates and times, `uuid::Uuid`, `serde_json::Value`), and convert in your code; `sql_type` cannot help, it changes only the DDL",
                type_hint(&ty)
            )
        } else {
            unsupported.message
        };
        cx.error_spanned_by(field.value_ty, message);
    }
}

fn check_table(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(table) = &cont.attrs.table
        && table.value.is_empty()
    {
        let default = crate::ast::snake_case(&cont.ident.to_string());
        cx.error_spanned_by(
            &table.tokens,
            format!("a table name cannot be empty: write a name, or remove `#[repository(table = ...)]` to use `{default}` (the struct's name in snake_case)"),
        );
    }
}

fn check_key(cx: &Ctxt, cont: &Container<'_>) {
    let mut keys = cont.fields.iter().filter(|f| f.is_key());
    let Some(first) = keys.next() else {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has no key: mark its primary-key field with `#[key]` (a value the caller supplies) or `#[key(auto)]` (an integer the database generates)",
                cont.ident
            ),
        );
        return;
    };
    for other in keys {
        let key = other.attrs.key.as_ref().expect("filtered on is_key");
        cx.error_spanned_by(
            &key.tokens,
            format!(
                "a second key: `{}` is already the key, and a model has exactly one (composite keys are not supported); make this field `#[unique]` instead",
                first.ident
            ),
        );
    }
}

fn check_field(cx: &Ctxt, model: &syn::Ident, field: &Field<'_>, dialect: Option<Dialect>, clickhouse: bool) {
    let attrs = &field.attrs;
    let column = &attrs.column;
    let mut type_reported = false;

    if let Some(name) = &column.name
        && name.value.is_empty()
    {
        cx.error_spanned_by(
            &name.tokens,
            format!(
                "a column name cannot be empty: remove `name = \"\"` to use the field's name, `{}`",
                crate::expand::unraw(field.ident)
            ),
        );
    }
    if let Some(default) = &column.default
        && default.value.trim().is_empty()
    {
        cx.error_spanned_by(
            &default.tokens,
            "an empty `default`: write the SQL expression the database fills in, such as `default = \"CURRENT_TIMESTAMP\"`, or remove it",
        );
    }
    if let Some(sql_type) = &column.sql_type
        && sql_type.value.trim().is_empty()
    {
        cx.error_spanned_by(
            &sql_type.tokens,
            "an empty `sql_type`: write the column type, such as `sql_type = \"NUMERIC(12, 2)\"`, or remove it",
        );
    }

    if let Some(key) = &attrs.key {
        if field.nullable {
            type_reported = true;
            cx.error_spanned_by(
                field.ty,
                format!("a key cannot be NULL: write `{}` instead of `Option<…>`", type_name(field.value_ty)),
            );
        }
        if key.value == KeyKind::Auto && clickhouse {
            // Instead of the rules about a key the database generates, which do not apply.
            type_reported = true;
            cx.error_spanned_by(
                &key.tokens,
                format!(
                    "ClickHouse cannot generate a key: it has no auto-increment and no `RETURNING`; write `#[key]` and supply the `{}` in `New{}` (for example a `uuid::Uuid::new_v4()`, or an id from your own sequence)",
                    crate::expand::unraw(field.ident),
                    model.unraw(),
                ),
            );
        }
        if key.value == KeyKind::Auto && !clickhouse && !matches!(field.sql_type, SqlType::Int(Int::I32 | Int::I64)) {
            type_reported = true;
            cx.error_spanned_by(
                field.value_ty,
                format!(
                    "`#[key(auto)]` needs an `i64` or `i32` field: the database generates an integer; for a `{}` key the caller supplies, write `#[key]`",
                    type_name(field.value_ty)
                ),
            );
        }
        if key.value == KeyKind::Auto
            && !clickhouse
            && let Some(sql_type) = &column.sql_type
        {
            cx.error_spanned_by(
                &sql_type.tokens,
                "`sql_type` cannot be combined with `#[key(auto)]`: a generated key's column type is fixed per backend; remove `sql_type`, or write `#[key]` for a key the caller supplies",
            );
        }
        if let Some(default) = &column.default {
            let message = if !clickhouse && matches!(field.sql_type, SqlType::Int(Int::I32 | Int::I64)) {
                "`default` on the key: for an integer key the database generates, write `#[key(auto)]` and remove `default`".to_owned()
            } else {
                format!(
                    "`default` on the key: a key is supplied by the caller (`#[key]`) or generated as an integer (`#[key(auto)]`); remove `default` and set the `{}` in `New{}` (for a `Uuid`, `uuid::Uuid::new_v4()`)",
                    crate::expand::unraw(field.ident),
                    model.unraw(),
                )
            };
            cx.error_spanned_by(&default.tokens, message);
        }
        if let Some(unique) = &attrs.unique {
            cx.error_spanned_by(unique, "the key is already unique: remove `#[unique]`");
        }
        if !type_reported && matches!(field.sql_type, SqlType::Bool | SqlType::F32 | SqlType::F64 | SqlType::Json) {
            type_reported = true;
            cx.error_spanned_by(
                field.value_ty,
                format!("a `{}` cannot be a key: use an integer, `String` or `uuid::Uuid`", type_name(field.value_ty)),
            );
        }
    } else if let Some(unique) = &attrs.unique {
        if field.nullable {
            cx.error_spanned_by(
                unique,
                format!(
                    "`#[unique]` on a nullable field: `get_by_{}` could not look up NULL; make the field `{}` rather than `Option<…>`, or remove `#[unique]`",
                    crate::expand::unraw(field.ident),
                    type_name(field.value_ty)
                ),
            );
        }
        if field.sql_type == SqlType::Json {
            type_reported = true;
            cx.error_spanned_by(
                unique,
                "a JSON column cannot be `#[unique]` (MySQL cannot index one): remove `#[unique]`",
            );
        }
    }

    if type_reported {
        return;
    }
    if let Some(dialect) = dialect {
        check_type(cx, model, field, dialect);
    } else if clickhouse {
        check_clickhouse_type(cx, field);
    }
}

/// Like [`check_type`], for ClickHouse (`clickhouse.rs`), where a value travels through serde as
/// `RowBinary` rather than through sqlx.
fn check_clickhouse_type(cx: &Ctxt, field: &Field<'_>) {
    if nested_option(field) {
        cx.error_spanned_by(field.ty, "a column is nullable once: write `Option<T>`, not `Option<Option<T>>`");
        return;
    }
    if let Err(unsupported) = crate::clickhouse::column_type(field) {
        let ty = type_name(field.value_ty);
        let message = if unsupported.message.is_empty() {
            format!(
                "dbkit does not know which ClickHouse column type stores `{ty}`{}: name one with `#[column(sql_type = \"...\")]`; `{ty}` must then implement serde's `Serialize` and `Deserialize` in that column's `RowBinary` encoding",
                type_hint(&ty)
            )
        } else {
            format!(
                "{}, or name a column type with `#[column(sql_type = \"...\")]` whose `RowBinary` encoding is `{ty}`'s serde form",
                unsupported.message
            )
        };
        cx.error_spanned_by(field.value_ty, message);
    }
}

/// Reports a field type the backend cannot store, spanned on the type.
fn check_type(cx: &Ctxt, model: &syn::Ident, field: &Field<'_>, dialect: Dialect) {
    if nested_option(field) {
        cx.error_spanned_by(
            field.ty,
            format!(
                "a column is nullable once: write `Option<T>`, not `Option<Option<T>>` (`{}Patch` adds the outer `Option` itself)",
                model.unraw()
            ),
        );
        return;
    }
    if field.is_auto_key() {
        return;
    }
    if field.sql_type == SqlType::Other && field.attrs.column.sql_type.is_none() {
        let ty = type_name(field.value_ty);
        let hint = type_hint(&ty);
        cx.error_spanned_by(
            field.value_ty,
            format!(
                "dbkit does not know which {product} column type stores `{ty}`{hint}: name one with `#[column(sql_type = \"...\")]`; `{ty}` must then implement sqlx's `Type`, `Encode` and `Decode` for {product}",
                product = dialect.product(),
            ),
        );
        return;
    }
    if let Err(unsupported) = dialect.column_definition(field) {
        let mut message = unsupported.message;
        if unsupported.fixable_with_sql_type {
            message.push_str(", or name a column type with `#[column(sql_type = \"...\")]`");
        }
        cx.error_spanned_by(field.value_ty, message);
    }
}

/// What to write instead of a type dbkit does not know, when it looks like a common mistake.
fn type_hint(ty: &str) -> &'static str {
    if ty.starts_with('&') && ty.ends_with("str") || ty.contains("<str>") {
        " (for text write `String`)"
    } else if ty.contains("DateTime<") {
        " (for a point in time write `chrono::DateTime<chrono::Utc>`)"
    } else {
        ""
    }
}

/// A type as the user wrote it, without the spaces `to_string` puts between tokens.
fn type_name(ty: &syn::Type) -> String {
    let mut name = ty.to_token_stream().to_string();
    for (spaced, tight) in
        [(" <", "<"), ("< ", "<"), (" >", ">"), (" ::", "::"), (":: ", "::"), ("& ", "&"), (" ,", ",")]
    {
        name = name.replace(spaced, tight);
    }
    name
}

fn nested_option(field: &Field<'_>) -> bool {
    field.nullable && crate::ast::option_inner(field.value_ty).is_some()
}

/// Two fields must not map to one column.
fn check_column_names(cx: &Ctxt, cont: &Container<'_>) {
    let mut seen: BTreeMap<String, &Field<'_>> = BTreeMap::new();
    for field in &cont.fields {
        let column = field.column();
        if column.is_empty() {
            continue;
        }
        match seen.get(&column) {
            Some(first) => {
                let at = match &field.attrs.column.name {
                    Some(name) => name.tokens.clone(),
                    None => field.ident.to_token_stream(),
                };
                cx.error_spanned_by(
                    at,
                    format!(
                        "column `{column}` is already the column of field `{}`: give one of them another name with `#[column(name = \"...\")]`",
                        first.ident
                    ),
                );
            }
            None => {
                seen.insert(column, field);
            }
        }
    }
}

/// A model needs a column besides its key, and something to insert.
fn check_has_columns(cx: &Ctxt, cont: &Container<'_>) {
    let ident = cont.ident;
    let Some(key) = cont.key() else { return };
    if cont.fields.len() == 1 {
        cx.error_spanned_by(
            ident,
            format!(
                "`{ident}` has only its key `{}`: a repository needs at least one more column to store; add a field",
                key.ident
            ),
        );
    } else if cont.insert_fields().next().is_none() {
        cx.error_spanned_by(
            ident,
            format!(
                "every column of `{ident}` is filled by the database (`#[key(auto)]` or `#[column(default = ...)]`), so `New{ident}` would be empty: remove a `default`, or add a field the caller supplies"
            ),
        );
    }
}
