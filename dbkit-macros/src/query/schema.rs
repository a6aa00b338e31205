//! What a query is checked against: the models' tables and columns, read back from the derive's
//! own input (see `callback.rs` for how it reaches the query macro).

use proc_macro2::TokenStream;

use super::dialect::QueryDialect;
use crate::backend;
use crate::model::{Ctxt, SqlType};

/// One model, owned (the derive input it came from is parsed again per query macro call).
pub(crate) struct Schema {
    pub(crate) ident: syn::Ident,
    pub(crate) table: String,
    /// The query dialects of the backends the model lists, in `#[database(...)]` order; none for
    /// an Oracle model.
    pub(crate) dialects: Vec<QueryDialect>,
    pub(crate) columns: Vec<Column>,
    /// Whether the model itself is valid; an invalid one was reported by the derive.
    pub(crate) valid: bool,
    /// `::dbkit::__private`, or the model's `#[repository(crate = "...")]` path.
    pub(crate) private: TokenStream,
}

pub(crate) struct Column {
    pub(crate) field: syn::Ident,
    pub(crate) name: String,
    /// The field's type as written, `Option` included.
    pub(crate) ty: syn::Type,
    pub(crate) nullable: bool,
    pub(crate) sql_type: SqlType,
}

impl Schema {
    pub(crate) fn from_input(input: &syn::DeriveInput) -> Option<Schema> {
        let cx = Ctxt::new();
        let cont = backend::checked(&cx, input);
        let valid = cx.check().is_ok();
        let cont = cont?;
        let dialects = cont.backends().filter_map(QueryDialect::of).collect();
        Some(Schema {
            ident: cont.ident.clone(),
            table: cont.table(),
            dialects,
            columns: cont
                .fields
                .iter()
                .map(|f| Column {
                    field: f.ident.clone(),
                    name: f.column(),
                    ty: f.ty.clone(),
                    nullable: f.nullable,
                    sql_type: f.sql_type,
                })
                .collect(),
            valid,
            private: cont.private(),
        })
    }

    /// The column named `name` as SQL reads it: exactly when quoted, ignoring ASCII case when not.
    pub(crate) fn column(&self, name: &str, quoted: bool) -> Option<usize> {
        self.columns.iter().position(|c| if quoted { c.name == name } else { c.name.eq_ignore_ascii_case(name) })
    }

    pub(crate) fn column_names(&self) -> String {
        self.columns.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
    }
}

/// What a Rust value can be compared with: `None` when dbkit cannot tell (a type it does not
/// map, a `sql_type` override of an unknown type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Bool,
    Number,
    Text,
    Bytes,
    Timestamp,
    Date,
    Time,
    Uuid,
    Json,
}

impl Family {
    pub(crate) fn of(ty: SqlType) -> Option<Family> {
        Some(match ty {
            SqlType::Bool => Family::Bool,
            SqlType::Int(_) | SqlType::F32 | SqlType::F64 => Family::Number,
            SqlType::String => Family::Text,
            SqlType::Bytes => Family::Bytes,
            SqlType::DateTimeUtc | SqlType::NaiveDateTime => Family::Timestamp,
            SqlType::NaiveDate => Family::Date,
            SqlType::NaiveTime => Family::Time,
            SqlType::Uuid => Family::Uuid,
            SqlType::Json => Family::Json,
            SqlType::Other => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::Bool => "a boolean",
            Family::Number => "a number",
            Family::Text => "text",
            Family::Bytes => "bytes",
            Family::Timestamp => "a timestamp",
            Family::Date => "a date",
            Family::Time => "a time of day",
            Family::Uuid => "a UUID",
            Family::Json => "JSON",
        }
    }
}

/// The value type of an argument or result type, seen through `&`, `Option` and `Box`: `&str` is
/// text, `&[u8]` bytes. Returns the type's family and whether it was an `Option`.
pub(crate) fn value_family(ty: &syn::Type) -> (Option<Family>, bool) {
    match ty {
        syn::Type::Reference(r) => value_family(&r.elem),
        syn::Type::Paren(p) => value_family(&p.elem),
        syn::Type::Group(g) => value_family(&g.elem),
        syn::Type::Slice(s) if is_u8(&s.elem) => (Some(Family::Bytes), false),
        syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => (Some(Family::Text), false),
        _ => match crate::model::ast::option_inner(ty) {
            Some(inner) => (value_family(inner).0, true),
            None => (Family::of(crate::model::ast::classify(ty)), false),
        },
    }
}

fn is_u8(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("u8"))
}

/// The element type of a list argument, bound as `IN (:ids)`: `&[T]`, `Vec<T>`, `&Vec<T>`, but not
/// `&[u8]` or `Vec<u8>`, which are one `BLOB`/`BYTEA` value.
pub(crate) fn list_element(ty: &syn::Type) -> Option<&syn::Type> {
    let ty = match ty {
        syn::Type::Reference(r) => &*r.elem,
        ty => ty,
    };
    let element = match ty {
        syn::Type::Slice(s) => &*s.elem,
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            match args.args.first()? {
                syn::GenericArgument::Type(t) => t,
                _ => return None,
            }
        }
        _ => return None,
    };
    (!is_u8(element)).then_some(element)
}

/// A column of one of the models: `(model index, column index)`.
pub(crate) type ColumnRef = (usize, usize);

/// One result column of a statement, as the analysis found it.
pub(crate) enum Projected {
    /// A column of a model, as written (`u.email`).
    Column { column: ColumnRef, label: String },
    /// Anything else: an expression, an aggregate, a column of a CTE; with its type where dbkit
    /// knows it (ClickHouse's common functions and aggregates).
    Expr { label: String, ty: Option<Typed> },
    /// `*` or `alias.*`: `model` is the table it stands for, when known; the byte range in the text.
    Wildcard { model: Option<usize>, qualifier: Option<String>, range: Option<(usize, usize)> },
}

impl Projected {
    pub(crate) fn label(&self) -> String {
        match self {
            Projected::Column { label, .. } | Projected::Expr { label, .. } => label.clone(),
            Projected::Wildcard { qualifier: Some(q), .. } => format!("{q}.*"),
            Projected::Wildcard { qualifier: None, .. } => "*".to_owned(),
        }
    }
}

/// The type of a selected expression, as the Rust type family that decodes it (ClickHouse's
/// functions and aggregates know theirs: `query::clickhouse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Typed {
    pub(crate) sql_type: SqlType,
    pub(crate) nullable: bool,
}
