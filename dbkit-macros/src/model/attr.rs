//! Parsing `#[database]`, `#[repository]`, `#[key]`, `#[unique]` and `#[column]` into a typed model
//! that keeps the tokens each value was written as, so later errors can point at them.
//!
//! Every mistake is reported to the [`Ctxt`] and parsing carries on with the next key, so a build
//! shows all of them. Rules that need more than one attribute live in `check.rs`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Token, parenthesized};

use super::ctxt::Ctxt;

/// A value and the tokens it was written as.
pub(crate) struct Located<T> {
    pub(crate) value: T,
    pub(crate) tokens: TokenStream,
}

impl<T> Located<T> {
    fn new(value: T, tokens: impl ToTokens) -> Self {
        Located { value, tokens: tokens.into_token_stream() }
    }
}

/// The backends `#[database(...)]` names, in the order error messages list them: the one enum a
/// backend is chosen by. What a backend can do is asked of it here (`generates_keys`, `updates`);
/// its column types and generated code live in its folder under `crate::backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    MySql,
    Postgres,
    Sqlite,
    ClickHouse,
    Oracle,
}

impl Backend {
    const ALL: [Backend; 5] =
        [Backend::MySql, Backend::Postgres, Backend::Sqlite, Backend::ClickHouse, Backend::Oracle];

    /// The name written in `#[database(...)]`, also the cargo feature and the default registered
    /// database name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::MySql => "mysql",
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
            Backend::ClickHouse => "clickhouse",
            Backend::Oracle => "oracle",
        }
    }

    fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The product's name in messages.
    pub(crate) fn product(self) -> &'static str {
        match self {
            Backend::MySql => "MySQL",
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
            Backend::ClickHouse => "ClickHouse",
            Backend::Oracle => "Oracle",
        }
    }

    /// The variant of the runtime's `Backend` enum, as generated code names it.
    pub(crate) fn runtime_variant(self) -> &'static str {
        match self {
            Backend::MySql => "MySql",
            Backend::Postgres => "Postgres",
            Backend::Sqlite => "Sqlite",
            Backend::ClickHouse => "ClickHouse",
            Backend::Oracle => "Oracle",
        }
    }

    /// Whether the database can generate a key (`#[key(auto)]`): ClickHouse has no
    /// auto-increment and no `RETURNING`.
    pub(crate) fn generates_keys(self) -> bool {
        self != Backend::ClickHouse
    }

    /// Whether the database enforces a key and `#[unique]` (ClickHouse does not: a lookup returns
    /// one of the rows that match).
    pub(crate) fn enforces_unique(self) -> bool {
        self != Backend::ClickHouse
    }

    /// Whether a model may list this backend next to others: the SQL backends on sqlx share every
    /// capability, so one repository serves all of them; ClickHouse and Oracle models stay alone.
    pub(crate) fn shares_models(self) -> bool {
        matches!(self, Backend::MySql | Backend::Postgres | Backend::Sqlite)
    }

    /// Whether `Database::transaction` runs its transactions, so the repository gets a view on
    /// the caller's transaction (`in_transaction`): every backend but ClickHouse, which has none.
    pub(crate) fn runs_transactions(self) -> bool {
        self != Backend::ClickHouse
    }

    /// Whether single rows are written and changed: `create`, `update`, `delete` and `XPatch`.
    /// ClickHouse is append-only (see `crate::backend::clickhouse`).
    pub(crate) fn updates(self) -> bool {
        self != Backend::ClickHouse
    }
}

/// The struct's attributes.
pub(crate) struct Container {
    pub(crate) database: Option<Database>,
    /// Whether a `#[database]` attribute was written at all: a malformed one has been reported
    /// already and must not also be reported as missing.
    pub(crate) database_written: bool,
    pub(crate) table: Option<Located<String>>,
    /// `#[repository(crate = "...")]`: the path generated code names the facade by.
    pub(crate) krate: Option<Located<syn::Path>>,
    /// `#[repository(serde)]`: `NewX` and `XPatch` implement serde's traits; the tokens are `serde`.
    pub(crate) serde: Option<TokenStream>,
    /// `#[repository(cache(ttl = "5m"))]`: `get` and `get_by_<unique>` read through Redis; the
    /// TTL in milliseconds, located at `cache`.
    pub(crate) cache: Option<Located<u64>>,
    /// `#[repository(engine, order_by, partition_by, ttl)]`: how a ClickHouse table is laid out.
    pub(crate) design: TableDesign,
}

/// The ClickHouse table design keys of `#[repository]`, each as written; ClickHouse-only (checked
/// in `check.rs`, where the backend is known).
#[derive(Default)]
pub(crate) struct TableDesign {
    /// `engine = "ReplacingMergeTree(version)"`: the `ENGINE` clause; default `MergeTree()`.
    pub(crate) engine: Option<Keyed>,
    /// `order_by = "(user_id, event_time)"`: the sorting key; default the model's key.
    pub(crate) order_by: Option<Keyed>,
    /// `partition_by = "toYYYYMM(event_time)"`.
    pub(crate) partition_by: Option<Keyed>,
    /// `ttl = "event_time + INTERVAL 90 DAY"` (ClickHouse 19.6 and later).
    pub(crate) ttl: Option<Keyed>,
}

impl TableDesign {
    /// The keys written, in the order of the `CREATE TABLE` clauses.
    pub(crate) fn written(&self) -> impl Iterator<Item = &Keyed> {
        [&self.engine, &self.order_by, &self.partition_by, &self.ttl].into_iter().flatten()
    }
}

/// A `key = "value"` whose errors may point at the key (`key`) or at the value (`value.tokens`).
pub(crate) struct Keyed {
    pub(crate) key: &'static str,
    pub(crate) key_tokens: TokenStream,
    pub(crate) value: Located<String>,
}

/// `#[database(backend, …, name = "...")]`: one backend, or several SQL ones.
pub(crate) struct Database {
    /// In the order written; never empty, each once, and ClickHouse or Oracle only alone.
    pub(crate) backends: Vec<Located<Backend>>,
    pub(crate) name: Option<Located<String>>,
}

/// A field's attributes.
#[derive(Default)]
pub(crate) struct Field {
    /// `#[key]` or `#[key(auto)]`; the tokens are the whole attribute.
    pub(crate) key: Option<Located<KeyKind>>,
    /// `#[unique]`; the tokens are the whole attribute.
    pub(crate) unique: Option<TokenStream>,
    pub(crate) column: ColumnAttr,
}

/// `#[column(...)]`; each value's tokens are its string literal.
#[derive(Default)]
pub(crate) struct ColumnAttr {
    pub(crate) name: Option<Located<String>>,
    pub(crate) default: Option<Located<String>>,
    pub(crate) sql_type: Option<Located<String>>,
    /// `on_update = "..."`: the SQL expression every generated `update` sets the column to.
    pub(crate) on_update: Option<Located<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// `#[key]`: the caller supplies the value.
    Supplied,
    /// `#[key(auto)]`: the database generates it.
    Auto,
}

const CONTAINER_ATTRS: [&str; 2] = ["database", "repository"];
const FIELD_ATTRS: [&str; 3] = ["key", "unique", "column"];

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Container {
        let mut container = Container {
            database: None,
            database_written: false,
            table: None,
            krate: None,
            serde: None,
            cache: None,
            design: TableDesign::default(),
        };
        for attr in &input.attrs {
            let path = attr.path();
            if path.is_ident("database") {
                if container.database_written {
                    cx.error_spanned_by(
                        attr,
                        "a second `#[database]`: a model lives in one database; remove this attribute",
                    );
                    continue;
                }
                container.database_written = true;
                container.database = parse_database(cx, attr);
            } else if path.is_ident("repository") {
                parse_repository(cx, attr, &mut container);
            } else if let Some(name) = FIELD_ATTRS.iter().find(|name| path.is_ident(name)) {
                cx.error_spanned_by(attr, format!("`#[{name}]` goes on a field, not on the struct"));
            }
        }
        container
    }
}

fn parse_database(cx: &Ctxt, attr: &syn::Attribute) -> Option<Database> {
    const EXAMPLE: &str =
        "`#[database(sqlite)]`, `#[database(sqlite, postgres, mysql)]` or `#[database(postgres, name = \"orders\")]`";
    let syn::Meta::List(list) = &attr.meta else {
        cx.error_spanned_by(attr, format!("expected a backend in parentheses: {EXAMPLE}"));
        return None;
    };
    if list.tokens.is_empty() {
        cx.error_spanned_by(attr, format!("expected a backend, one of {}: {EXAMPLE}", backend_list()));
        return None;
    }
    let mut backends: Vec<Located<Backend>> = Vec::new();
    let mut backend_reported = false;
    let mut name = None;
    let parsed = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") {
            return set_string(cx, &meta, "database", &mut name);
        }
        let is_bare_word = meta.path.get_ident().is_some() && (meta.input.is_empty() || meta.input.peek(Token![,]));
        if !is_bare_word {
            return unknown_key(cx, &meta, "database", &["name"]);
        }
        let word = meta.path.get_ident().expect("checked above").to_string();
        let Some(found) = Backend::from_name(&word) else {
            backend_reported = true;
            cx.error_spanned_by(&meta.path, unknown_backend_message(&word));
            return Ok(());
        };
        if backends.iter().any(|b| b.value == found) {
            backend_reported = true;
            cx.error_spanned_by(&meta.path, format!("`{word}` is listed twice: remove one"));
        } else if let Some(alone) = (!backends.is_empty())
            .then(|| backends.iter().map(|b| b.value).chain([found]).find(|b| !b.shares_models()))
            .flatten()
        {
            backend_reported = true;
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "a model on {} lists no other backend: several backends are for `sqlite`, `postgres` and `mysql` only; remove `{word}` and declare a separate model for {}",
                    alone.product(),
                    found.product(),
                ),
            );
        } else {
            backends.push(Located::new(found, &meta.path));
        }
        Ok(())
    });
    if let Err(error) = parsed {
        cx.syn_error(error);
        return None;
    }
    if backends.is_empty() {
        if !backend_reported {
            cx.error_spanned_by(
                attr,
                format!("missing backend: name one of {} first, as in {EXAMPLE}", backend_list()),
            );
        }
        return None;
    }
    Some(Database { backends, name })
}

fn unknown_backend_message(word: &str) -> String {
    let hint = match word.to_ascii_lowercase().as_str() {
        "mariadb" => "; MariaDB is served by `mysql`".to_owned(),
        lower => match closest(lower, &Backend::ALL.map(Backend::name)) {
            Some(name) => format!("; did you mean `{name}`?"),
            None => String::new(),
        },
    };
    format!("unknown backend `{word}`: expected one of {}{hint}", backend_list())
}

fn backend_list() -> String {
    Backend::ALL.map(|b| format!("`{}`", b.name())).join(", ")
}

fn parse_repository(cx: &Ctxt, attr: &syn::Attribute, container: &mut Container) {
    const KEYS: [&str; 8] = ["table", "crate", "serde", "cache", "engine", "order_by", "partition_by", "ttl"];
    if !matches!(attr.meta, syn::Meta::List(_)) {
        cx.error_spanned_by(attr, "expected `#[repository(table = \"...\")]`");
        return;
    }
    let parsed = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("table") {
            set_string(cx, &meta, "repository", &mut container.table)
        } else if meta.path.is_ident("crate") {
            let mut path = None;
            set_string(cx, &meta, "repository", &mut path)?;
            if let Some(path) = path {
                if container.krate.is_some() {
                    cx.error_spanned_by(&path.tokens, "duplicate `crate` in `#[repository]`: keep one");
                }
                match syn::parse_str::<syn::Path>(&path.value) {
                    Ok(parsed) => container.krate = Some(Located::new(parsed, &path.tokens)),
                    Err(_) => cx.error_spanned_by(
                        &path.tokens,
                        "expected the path dbkit is re-exported at, such as `crate = \"my_crate::dbkit\"`",
                    ),
                }
            }
            Ok(())
        } else if meta.path.is_ident("serde") {
            if container.serde.is_some() {
                cx.error_spanned_by(&meta.path, "duplicate `serde` in `#[repository]`: keep one");
            }
            container.serde = Some(meta.path.to_token_stream());
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                cx.error_spanned_by(&meta.path, "`serde` takes no value: write `#[repository(serde)]`");
                return skip_value(&meta);
            }
            Ok(())
        } else if meta.path.is_ident("cache") {
            parse_cache(cx, &meta, container)
        } else if let Some(slot) = container.design.slot(&meta.path) {
            set_keyed(cx, &meta, slot)
        } else {
            unknown_key(cx, &meta, "repository", &KEYS)
        }
    });
    if let Err(error) = parsed {
        cx.syn_error(error);
    }
}

/// `cache(ttl = "5m")`: the TTL is required and must be a duration greater than zero, since an
/// entry that never expires would stay stale for good after an invalidation lost on the way.
fn parse_cache(cx: &Ctxt, meta: &ParseNestedMeta<'_>, container: &mut Container) -> syn::Result<()> {
    const EXAMPLE: &str = "`#[repository(cache(ttl = \"5m\"))]`";
    if container.cache.is_some() {
        cx.error_spanned_by(&meta.path, "duplicate `cache` in `#[repository]`: keep one");
    }
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(&meta.path, format!("`cache` needs its time to live: {EXAMPLE}"));
        return skip_value(meta);
    }
    let mut ttl = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("ttl") {
            set_string(cx, &inner, "repository(cache)", &mut ttl)
        } else {
            unknown_key(cx, &inner, "repository(cache)", &["ttl"])
        }
    })?;
    match ttl {
        None => cx.error_spanned_by(&meta.path, format!("`cache` needs its time to live: {EXAMPLE}")),
        Some(ttl) => match parse_ttl(&ttl.value) {
            Ok(ms) => container.cache = Some(Located::new(ms, &meta.path)),
            Err(why) => cx.error_spanned_by(&ttl.tokens, why),
        },
    }
    Ok(())
}

impl TableDesign {
    /// The slot of a table design key, with its name; `None` for any other key.
    fn slot(&mut self, path: &syn::Path) -> Option<(&'static str, &mut Option<Keyed>)> {
        let slots = [
            ("engine", &mut self.engine),
            ("order_by", &mut self.order_by),
            ("partition_by", &mut self.partition_by),
            ("ttl", &mut self.ttl),
        ];
        slots.into_iter().find(|(name, _)| path.is_ident(name))
    }
}

/// Parses `key = "string"` into a [`Keyed`] slot (see [`set_string`]).
fn set_keyed(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    (key, slot): (&'static str, &mut Option<Keyed>),
) -> syn::Result<()> {
    let mut value = None;
    set_string(cx, meta, "repository", &mut value)?;
    if let Some(value) = value {
        if slot.is_some() {
            cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in `#[repository]`: keep one"));
        } else {
            *slot = Some(Keyed { key, key_tokens: meta.path.to_token_stream(), value });
        }
    }
    Ok(())
}

/// A TTL in milliseconds: `500ms`, `30s`, `5m`, `1h`, or seconds (`30`), as dbkit's
/// configuration writes durations (the runtime's `config::parse_duration`, which a proc-macro
/// crate cannot call).
fn parse_ttl(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let per_unit = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(0) | Err(_) if matches!(text, "-1" | "0" | "none" | "never" | "") => Err(format!(
            "a cache entry must expire, so that an invalidation lost on the way cannot keep it stale for good: write a time to live such as `ttl = \"5m\"`, not `{text}`"
        )),
        Ok(n) if n > 0 && per_unit > 0 => {
            n.checked_mul(per_unit).ok_or_else(|| format!("`{text}` is too long a time to live"))
        }
        _ => Err(format!(
            "expected a time to live such as `30s`, `5m` or `1h` (a whole number with `ms`, `s`, `m` or `h`), found `{text}`"
        )),
    }
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, field: &syn::Field) -> Field {
        let mut attrs = Field::default();
        for attr in &field.attrs {
            let path = attr.path();
            if path.is_ident("key") {
                parse_key(cx, attr, &mut attrs.key);
            } else if path.is_ident("unique") {
                if attrs.unique.is_some() {
                    cx.error_spanned_by(attr, "duplicate `#[unique]` on this field: remove one");
                } else if !matches!(attr.meta, syn::Meta::Path(_)) {
                    cx.error_spanned_by(attr, "`#[unique]` takes no arguments: write `#[unique]`");
                }
                attrs.unique.get_or_insert_with(|| attr.to_token_stream());
            } else if path.is_ident("column") {
                parse_column(cx, attr, &mut attrs.column);
            } else if let Some(name) = CONTAINER_ATTRS.iter().find(|name| path.is_ident(name)) {
                cx.error_spanned_by(attr, format!("`#[{name}]` goes on the struct, not on a field"));
            }
        }
        attrs
    }
}

fn parse_key(cx: &Ctxt, attr: &syn::Attribute, key: &mut Option<Located<KeyKind>>) {
    if key.is_some() {
        cx.error_spanned_by(attr, "duplicate `#[key]` on this field: keep one `#[key]` or `#[key(auto)]`");
        return;
    }
    // Even a malformed `#[key]` marks the key, so it is not also reported as missing.
    let mut kind = KeyKind::Supplied;
    match &attr.meta {
        syn::Meta::Path(_) => {}
        syn::Meta::NameValue(_) => cx.error_spanned_by(
            attr,
            "`#[key]` takes no value: write `#[key]` for a key the caller supplies, or `#[key(auto)]` for one the database generates",
        ),
        syn::Meta::List(_) => {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("auto") && meta.input.is_empty() {
                    if kind == KeyKind::Auto {
                        cx.error_spanned_by(&meta.path, "duplicate `auto` in `#[key]`: remove one");
                    }
                    kind = KeyKind::Auto;
                    Ok(())
                } else {
                    let word = meta.path.to_token_stream().to_string();
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "unknown argument `{word}` in `#[key]`: it takes only `auto`; write `#[key(auto)]` for a key the database generates, or `#[key]` for one the caller supplies"
                        ),
                    );
                    skip_value(&meta)
                }
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
    }
    *key = Some(Located::new(kind, attr));
}

fn parse_column(cx: &Ctxt, attr: &syn::Attribute, column: &mut ColumnAttr) {
    const KEYS: [&str; 4] = ["name", "default", "sql_type", "on_update"];
    if !matches!(&attr.meta, syn::Meta::List(list) if !list.tokens.is_empty()) {
        cx.error_spanned_by(
            attr,
            "`#[column]` needs at least one of `name`, `default`, `sql_type`, `on_update`: for example `#[column(name = \"signup_source\")]`",
        );
        return;
    }
    let parsed = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") {
            set_string(cx, &meta, "column", &mut column.name)
        } else if meta.path.is_ident("default") {
            set_string(cx, &meta, "column", &mut column.default)
        } else if meta.path.is_ident("sql_type") {
            set_string(cx, &meta, "column", &mut column.sql_type)
        } else if meta.path.is_ident("on_update") {
            set_string(cx, &meta, "column", &mut column.on_update)
        } else {
            unknown_key(cx, &meta, "column", &KEYS)
        }
    });
    if let Err(error) = parsed {
        cx.syn_error(error);
    }
}

/// Parses `key = "string"` into `slot`, reporting a repeated key or a value that is not a string.
fn set_string(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    attr: &str,
    slot: &mut Option<Located<String>>,
) -> syn::Result<()> {
    let key = meta.path.to_token_stream().to_string();
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("`{key}` needs a value: `{key} = \"...\"`"));
        return skip_value(meta);
    }
    let mut value: syn::Expr = meta.value()?.parse()?;
    // A `$value:literal` of a `macro_rules!` arrives in an invisible group.
    while let syn::Expr::Group(group) = value {
        value = *group.expr;
    }
    let lit = match value {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => lit,
        other => {
            let written = other.to_token_stream().to_string();
            let written = written.trim_matches('"');
            cx.error_spanned_by(&other, format!("expected a string: `{key} = \"{written}\"`"));
            return Ok(());
        }
    };
    if slot.is_some() {
        cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in `#[{attr}]`: keep one"));
    } else {
        *slot = Some(Located::new(lit.value(), &lit));
    }
    Ok(())
}

/// Reports an unknown key, suggesting the closest known one, and skips its value.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta<'_>, attr: &str, expected: &[&str]) -> syn::Result<()> {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    let known = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let message = match closest(&key, expected) {
        Some(suggestion) => {
            format!("unknown key `{key}` in `#[{attr}]`: did you mean `{suggestion}`? (`#[{attr}]` takes {known})")
        }
        None => format!("unknown key `{key}` in `#[{attr}]`: expected {known}"),
    };
    cx.error_spanned_by(&meta.path, message);
    skip_value(meta)
}

/// Consumes `= value` or `(...)` after a key that has been reported, so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(distance, c)| *distance <= 2.max(c.len() / 3) && *distance < c.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions (`nmae` → `name`
/// is one edit).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("nmae", &["name", "default", "sql_type"]), Some("name"));
        assert_eq!(closest("sqltype", &["name", "default", "sql_type"]), Some("sql_type"));
        assert_eq!(closest("tabel", &["table"]), Some("table"));
        assert_eq!(closest("postgresql", &["mysql", "postgres", "sqlite"]), Some("postgres"));
        assert_eq!(closest("colour", &["name", "default", "sql_type"]), None);
    }
}
