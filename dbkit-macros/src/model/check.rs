//! Rules that need more than one attribute: one key, column names that do not clash, what a key or
//! a unique column can be. Every broken rule is reported; nothing stops at the first. The types a
//! backend can store are checked by `crate::backend::check_types`.

use std::collections::BTreeMap;

use quote::ToTokens;
use syn::ext::IdentExt;

use super::ast::{Container, Field, Int, SqlType, type_name};
use super::attr::{Backend, KeyKind};
use super::ctxt::Ctxt;

pub(super) fn check(cx: &Ctxt, cont: &Container<'_>) {
    check_database(cx, cont);
    check_table(cx, cont);
    check_table_design(cx, cont);
    check_key(cx, cont);
    let generates_keys = cont.backend().is_none_or(Backend::generates_keys);
    for field in &cont.fields {
        check_field(cx, cont.ident, field, generates_keys);
        check_on_update(cx, cont, field);
    }
    check_column_names(cx, cont);
    check_has_columns(cx, cont);
    check_cache(cx, cont);
}

/// `cache(...)`: on a model whose rows change (a ClickHouse table is append-only and read in
/// bulk, where a row cache buys nothing).
fn check_cache(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(cache) = &cont.attrs.cache
        && cont.backend() == Some(Backend::ClickHouse)
    {
        cx.error_spanned_by(
            &cache.tokens,
            "ClickHouse models are not cached: their tables are append-only and read in bulk; remove `cache(...)`",
        );
    }
}

fn check_database(cx: &Ctxt, cont: &Container<'_>) {
    let ident = cont.ident;
    if !cont.attrs.database_written {
        cx.error_spanned_by(
            ident,
            format!(
                "missing `#[database(...)]`: say where `{ident}` lives, for example `#[database(sqlite)]` above the struct (one of `mysql`, `postgres`, `sqlite`, `clickhouse`, `oracle`)"
            ),
        );
    }
    let Some(database) = cont.attrs.database.as_ref() else { return };
    if let Some(name) = &database.name
        && name.value.is_empty()
    {
        cx.error_spanned_by(
            &name.tokens,
            format!(
                "a database name cannot be empty: remove `name` to resolve the database registered as `{}`",
                database.backends[0].value.name()
            ),
        );
    }
}

fn check_table(cx: &Ctxt, cont: &Container<'_>) {
    if let Some(table) = &cont.attrs.table
        && table.value.is_empty()
    {
        let default = super::ast::snake_case(&cont.ident.to_string());
        cx.error_spanned_by(
            &table.tokens,
            format!("a table name cannot be empty: write a name, or remove `#[repository(table = ...)]` to use `{default}` (the struct's name in snake_case)"),
        );
    }
}

/// `engine`, `order_by`, `partition_by` and `ttl` lay out a ClickHouse table: on another backend
/// each is an error on its key. What they may say on ClickHouse is checked by
/// `crate::backend::clickhouse::check_design`.
fn check_table_design(cx: &Ctxt, cont: &Container<'_>) {
    let Some(backend) = cont.backend().filter(|b| *b != Backend::ClickHouse) else { return };
    for keyed in cont.attrs.design.written() {
        cx.error_spanned_by(
            &keyed.key_tokens,
            format!(
                "`{}` is ClickHouse-only: `engine`, `order_by`, `partition_by` and `ttl` lay out a `#[database(clickhouse)]` table; a {} table's primary key is the model's `#[key]`, so remove `{}`",
                keyed.key,
                backend.product(),
                keyed.key,
            ),
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

/// `#[column(on_update = "...")]`: an expression, on a column a generated `update` can write.
fn check_on_update(cx: &Ctxt, cont: &Container<'_>, field: &Field<'_>) {
    let Some(on_update) = &field.attrs.column.on_update else { return };
    if on_update.value.trim().is_empty() {
        cx.error_spanned_by(
            &on_update.tokens,
            "an empty `on_update`: write the SQL expression the database sets on every update, such as `on_update = \"CURRENT_TIMESTAMP\"`, or remove it",
        );
    } else if field.is_key() {
        cx.error_spanned_by(
            &on_update.tokens,
            "`on_update` on the key: `update` never changes the key; remove `on_update`",
        );
    } else if cont.backend().is_some_and(|b| !b.updates()) {
        cx.error_spanned_by(
            &on_update.tokens,
            "ClickHouse rows are never updated (the table is append-only), so `on_update` would never apply: remove it; `default = \"now()\"` sets the column when the row is written",
        );
    }
}

fn check_field(cx: &Ctxt, model: &syn::Ident, field: &Field<'_>, generates_keys: bool) {
    let attrs = &field.attrs;
    let column = &attrs.column;

    if let Some(name) = &column.name
        && name.value.is_empty()
    {
        cx.error_spanned_by(
            &name.tokens,
            format!("a column name cannot be empty: remove `name = \"\"` to use the field's name, `{}`", field.name()),
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
            cx.error_spanned_by(
                field.ty,
                format!("a key cannot be NULL: write `{}` instead of `Option<…>`", type_name(field.value_ty)),
            );
        }
        if key.value == KeyKind::Auto && !generates_keys {
            // Instead of the rules about a key the database generates, which do not apply.
            cx.error_spanned_by(
                &key.tokens,
                format!(
                    "ClickHouse cannot generate a key: it has no auto-increment and no `RETURNING`; write `#[key]` and supply the `{}` in `New{}` (for example a `uuid::Uuid::new_v4()`, or an id from your own sequence)",
                    field.name(),
                    model.unraw(),
                ),
            );
        }
        if key.value == KeyKind::Auto && generates_keys && !matches!(field.sql_type, SqlType::Int(Int::I32 | Int::I64))
        {
            cx.error_spanned_by(
                field.value_ty,
                format!(
                    "`#[key(auto)]` needs an `i64` or `i32` field: the database generates an integer; for a `{}` key the caller supplies, write `#[key]`",
                    type_name(field.value_ty)
                ),
            );
        }
        if key.value == KeyKind::Auto
            && generates_keys
            && let Some(sql_type) = &column.sql_type
        {
            cx.error_spanned_by(
                &sql_type.tokens,
                "`sql_type` cannot be combined with `#[key(auto)]`: a generated key's column type is fixed per backend; remove `sql_type`, or write `#[key]` for a key the caller supplies",
            );
        }
        if let Some(default) = &column.default {
            let message = if generates_keys && matches!(field.sql_type, SqlType::Int(Int::I32 | Int::I64)) {
                "`default` on the key: for an integer key the database generates, write `#[key(auto)]` and remove `default`".to_owned()
            } else {
                format!(
                    "`default` on the key: a key is supplied by the caller (`#[key]`) or generated as an integer (`#[key(auto)]`); remove `default` and set the `{}` in `New{}` (for a `Uuid`, `uuid::Uuid::new_v4()`)",
                    field.name(),
                    model.unraw(),
                )
            };
            cx.error_spanned_by(&default.tokens, message);
        }
        if let Some(unique) = &attrs.unique {
            cx.error_spanned_by(unique, "the key is already unique: remove `#[unique]`");
        }
        let reported_above = field.nullable || key.value == KeyKind::Auto;
        if !reported_above && matches!(field.sql_type, SqlType::Bool | SqlType::F32 | SqlType::F64 | SqlType::Json) {
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
                    field.name(),
                    type_name(field.value_ty)
                ),
            );
        }
        if field.sql_type == SqlType::Json {
            cx.error_spanned_by(
                unique,
                "a JSON column cannot be `#[unique]` (MySQL cannot index one): remove `#[unique]`",
            );
        }
    }
}

impl Field<'_> {
    /// Whether a key or `#[unique]` rule above already reported this field's type, so that the
    /// backend's type check (`crate::backend::check_types`) does not report it a second time.
    pub(crate) fn type_already_reported(&self) -> bool {
        let Some(key) = &self.attrs.key else {
            return self.attrs.unique.is_some() && self.sql_type == SqlType::Json;
        };
        self.nullable
            || key.value == KeyKind::Auto
            || matches!(self.sql_type, SqlType::Bool | SqlType::F32 | SqlType::F64 | SqlType::Json)
    }
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
