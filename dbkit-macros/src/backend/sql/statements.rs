//! The text of every statement a repository runs, built once at compile time from a checked model.
//!
//! Statements whose shape depends on the values (a partial update, a multi-row insert) are split
//! into fixed fragments here and assembled at run time by the generated code; their values are
//! always bound, never formatted in.

use super::Dialect;
use crate::model::{Container, Field};

pub(crate) struct Statements {
    pub(crate) create_table: String,
    pub(crate) drop_table: String,
    /// `SELECT <columns> FROM t WHERE key = ?`.
    pub(crate) select_by_key: String,
    /// One `SELECT … WHERE unique = ?` per `#[unique]` field, in field order.
    pub(crate) select_by_unique: Vec<String>,
    /// `SELECT … ORDER BY key LIMIT ? OFFSET ?`.
    pub(crate) list: String,
    pub(crate) count: String,
    /// `INSERT INTO t (…) VALUES (?, …)` without `RETURNING` (MySQL).
    pub(crate) insert: String,
    /// `INSERT … RETURNING <columns>` (SQLite, PostgreSQL, MariaDB).
    pub(crate) insert_returning: String,
    /// `INSERT INTO t (…) VALUES ` to which `create_many` appends its rows.
    pub(crate) insert_many_head: String,
    /// `UPDATE t SET `, then one `"column" = ` fragment per patch field, then `update_where` and
    /// the key's placeholder, then `update_returning` where the backend has it. `update_where`
    /// starts with the `#[column(on_update = ...)]` assignments (`, "updated_at" = CURRENT_TIMESTAMP`):
    /// an update runs only when the patch sets a field, so one always comes before them.
    pub(crate) update_head: String,
    pub(crate) update_sets: Vec<String>,
    pub(crate) update_where: String,
    pub(crate) update_returning: String,
    pub(crate) delete: String,
}

impl Statements {
    /// Builds the statements of a model that passed `check`: it has a key.
    pub(crate) fn new(cont: &Container<'_>, dialect: Dialect) -> Statements {
        let q = |name: &str| dialect.quote(name);
        let table = q(&cont.table());
        let key = cont.key().expect("a checked model has a key");
        let key_column = q(&key.column());
        let columns = column_list(dialect, cont.fields.iter());
        let returning = format!(" RETURNING {columns}");
        let select = format!("SELECT {columns} FROM {table}");
        let p1 = dialect.placeholder(1);

        let insert_fields: Vec<&Field<'_>> = cont.insert_fields().collect();
        let insert_columns = column_list(dialect, insert_fields.iter().copied());
        let values = (1..=insert_fields.len()).map(|n| dialect.placeholder(n)).collect::<Vec<_>>().join(", ");
        let insert = format!("INSERT INTO {table} ({insert_columns}) VALUES ({values})");

        let definitions = cont
            .fields
            .iter()
            .map(|f| {
                let definition =
                    dialect.column_definition(f).unwrap_or_else(|u| panic!("checked type: {}", u.message()));
                format!("{} {definition}", q(&f.column()))
            })
            .collect::<Vec<_>>()
            .join(", ");

        Statements {
            create_table: format!("CREATE TABLE IF NOT EXISTS {table} ({definitions}){}", dialect.table_options()),
            drop_table: format!("DROP TABLE IF EXISTS {table}"),
            select_by_key: format!("{select} WHERE {key_column} = {p1}"),
            select_by_unique: cont
                .unique_fields()
                .map(|f| format!("{select} WHERE {} = {p1}", q(&f.column())))
                .collect(),
            list: format!(
                "{select} ORDER BY {key_column} LIMIT {} OFFSET {}",
                dialect.placeholder(1),
                dialect.placeholder(2)
            ),
            count: format!("SELECT COUNT(*) FROM {table}"),
            insert_returning: format!("{insert}{returning}"),
            insert,
            insert_many_head: format!("INSERT INTO {table} ({insert_columns}) VALUES "),
            update_head: format!("UPDATE {table} SET "),
            update_sets: cont.patch_fields().map(|f| format!("{} = ", q(&f.column()))).collect(),
            update_where: format!(
                "{} WHERE {key_column} = ",
                cont.on_update_sets(q, |f, e| dialect.on_update_expression(f, e))
            ),
            update_returning: returning,
            delete: format!("DELETE FROM {table} WHERE {key_column} = {p1}"),
        }
    }
}

fn column_list<'f, 'a: 'f>(dialect: Dialect, fields: impl Iterator<Item = &'f Field<'a>>) -> String {
    fields.map(|f| dialect.quote(&f.column())).collect::<Vec<_>>().join(", ")
}
