//! The backends: for each, its column types, the text of its statements and the bodies that run
//! them, in one folder — `sql/` (PostgreSQL and MySQL on sqlx, and the SQL every dialect shares),
//! `sqlite/` (SQLite's bodies, on dbkit's native engine), `clickhouse/`, `oracle/` —
//! and `stub.rs`, what a model that failed its checks gets.
//!
//! A backend is a [`Provider`] to the one renderer of the repository (`crate::repository`): it
//! supplies what differs, the renderer writes every method's signature, doc and call loop. Adding
//! a backend is a folder here, a variant of [`Backend`] and an arm in [`provider`] and
//! [`column_definition`].

pub(crate) mod clickhouse;
pub(crate) mod oracle;
mod provider;
pub(crate) mod sql;
mod sqlite;
mod stub;

pub(crate) use self::provider::Provider;
pub(crate) use self::stub::Stub;
use crate::model::ast::{type_hint, type_name};
use crate::model::{Backend, Container, Ctxt, Field};

/// Why a field's type cannot be stored on a backend.
pub(crate) enum Unsupported {
    /// dbkit has no column type for this Rust type: `#[column(sql_type = "...")]` names one.
    Unknown,
    /// dbkit's column type for it would not work; `#[column(sql_type = "...")]` still can.
    Fixable(String),
    /// The driver cannot carry the type at all.
    Never(String),
}

impl Unsupported {
    pub(crate) fn message(&self) -> &str {
        match self {
            Unsupported::Unknown => "no column type",
            Unsupported::Fixable(message) | Unsupported::Never(message) => message,
        }
    }
}

/// The model of `input` with every rule checked: the front end's (`Container::from_ast`), the
/// types the backend can store, and a ClickHouse model's table design.
pub(crate) fn checked<'a>(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Container<'a>> {
    let cont = Container::from_ast(cx, input)?;
    check_types(cx, &cont);
    if cont.backend() == Some(Backend::ClickHouse) {
        clickhouse::check_design(cx, &cont);
    }
    Some(cont)
}

/// Reports each field type a backend the model lists cannot store, spanned on the type and naming
/// that backend: the one type check of every backend, with the backend's own words for what a
/// custom type needs. A type no listed backend knows is one error that names them all.
fn check_types(cx: &Ctxt, cont: &Container<'_>) {
    let backends: Vec<Backend> = cont.backends().collect();
    let Some(&first) = backends.first() else { return };
    for field in cont.fields.iter().filter(|f| !f.type_already_reported()) {
        if field.is_nested_option() {
            let patch = if first.updates() {
                format!(" (`{}` adds the outer `Option` itself)", cont.names().patch)
            } else {
                String::new()
            };
            cx.error_spanned_by(
                field.ty,
                format!("a column is nullable once: write `Option<T>`, not `Option<Option<T>>`{patch}"),
            );
            continue;
        }
        let ty = type_name(field.value_ty);
        let mut unknown = Vec::new();
        let mut messages: Vec<String> = Vec::new();
        for &backend in &backends {
            let message = match column_definition(backend, field) {
                Ok(_) => continue,
                Err(Unsupported::Unknown) => {
                    unknown.push(backend);
                    continue;
                }
                Err(Unsupported::Fixable(message)) => format!("{message}, {}", sql_type_remedy(backend, &ty)),
                Err(Unsupported::Never(message)) => message,
            };
            if !messages.contains(&message) {
                messages.push(message);
            }
        }
        if !unknown.is_empty() {
            let products: Vec<&str> = unknown.iter().map(|b| b.product()).collect();
            messages.insert(
                0,
                format!(
                    "dbkit does not know which {} column type stores `{ty}`{}: name one with `#[column(sql_type = \"...\")]`; `{ty}` must then {}",
                    join(&products, "or"),
                    type_hint(&ty),
                    custom_type_requirement(&unknown),
                ),
            );
        }
        for message in messages {
            cx.error_spanned_by(field.value_ty, message);
        }
    }
}

/// `a`, `a or b`, `a, b or c` (with `word` = `or`).
fn join(items: &[&str], word: &str) -> String {
    match items.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, init)) => format!("{} {word} {last}", init.join(", ")),
        None => String::new(),
    }
}

/// The column definition of `field` on `backend`, without its name.
pub(crate) fn column_definition(backend: Backend, field: &Field<'_>) -> Result<String, Unsupported> {
    match sql::Dialect::of(backend) {
        Some(dialect) => dialect.column_definition(field),
        None if backend == Backend::ClickHouse => clickhouse::column_definition(field),
        None => oracle::column_definition(field),
    }
}

/// What a type named by `sql_type` must implement to travel through the drivers of `backends`
/// (one backend, or several SQL ones).
fn custom_type_requirement(backends: &[Backend]) -> String {
    match backends {
        [Backend::ClickHouse] => {
            "implement serde's `Serialize` and `Deserialize` in that column's `RowBinary` encoding".to_owned()
        }
        _ => {
            // SQLite runs on dbkit's native engine (rusqlite); the other SQL backends on sqlx.
            let sqlite = backends.contains(&Backend::Sqlite);
            let products: Vec<&str> = backends.iter().filter(|b| **b != Backend::Sqlite).map(|b| b.product()).collect();
            let rusqlite = "implement rusqlite's `ToSql` and `FromSql`";
            match (sqlite, products.is_empty()) {
                (true, true) => rusqlite.to_owned(),
                (true, false) => format!(
                    "{rusqlite} for SQLite, and sqlx's `Type`, `Encode` and `Decode` for {}",
                    join(&products, "and")
                ),
                (false, _) => format!("implement sqlx's `Type`, `Encode` and `Decode` for {}", join(&products, "and")),
            }
        }
    }
}

/// How `#[column(sql_type = "...")]` helps when dbkit's own column type does not work.
fn sql_type_remedy(backend: Backend, ty: &str) -> String {
    match backend {
        Backend::ClickHouse => format!(
            "or name a column type with `#[column(sql_type = \"...\")]` whose `RowBinary` encoding is `{ty}`'s serde form"
        ),
        _ => "or name a column type with `#[column(sql_type = \"...\")]`".to_owned(),
    }
}

/// The providers of a checked, valid model: one per backend it lists, in the order written.
pub(crate) fn providers<'a>(cont: &'a Container<'a>) -> Vec<(Backend, Box<dyn Provider + 'a>)> {
    cont.backends()
        .map(|backend| {
            let provider: Box<dyn Provider + 'a> = match sql::Dialect::of(backend) {
                // SQLite's statements are the SQL dialect's; they run on dbkit's native engine.
                Some(sql::Dialect::Sqlite) => Box::new(sqlite::SqliteProvider::new(cont)),
                Some(dialect) => Box::new(sql::SqlProvider::new(cont, dialect)),
                None if backend == Backend::ClickHouse => Box::new(clickhouse::ClickHouseProvider::new(cont)),
                None => Box::new(oracle::OracleProvider::new(cont)),
            };
            (backend, provider)
        })
        .collect()
}
