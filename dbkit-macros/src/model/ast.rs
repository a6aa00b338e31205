//! The model of a `#[derive(Repository)]` input: the struct, its fields with their attributes, and
//! each field's Rust type classified into a [`SqlType`].

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::ext::IdentExt;

use super::attr::{self, Backend, KeyKind};
use super::ctxt::Ctxt;

pub(crate) struct Container<'a> {
    pub(crate) ident: &'a syn::Ident,
    pub(crate) vis: &'a syn::Visibility,
    pub(crate) attrs: attr::Container,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a syn::Ident,
    /// The type as written, `Option` included.
    pub(crate) ty: &'a syn::Type,
    /// The type inside `Option`, or `ty` for a non-nullable field.
    pub(crate) value_ty: &'a syn::Type,
    pub(crate) nullable: bool,
    pub(crate) sql_type: SqlType,
    pub(crate) attrs: attr::Field,
}

/// The Rust types dbkit maps to a column type without being told (see the type table in the
/// `dbkit` crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlType {
    Bool,
    Int(Int),
    F32,
    F64,
    String,
    Bytes,
    /// `chrono::DateTime<Utc>`.
    DateTimeUtc,
    NaiveDateTime,
    NaiveDate,
    NaiveTime,
    Uuid,
    /// `serde_json::Value`.
    Json,
    /// Anything else: needs `#[column(sql_type = "...")]`.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Int {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl Int {
    pub(crate) fn is_unsigned(self) -> bool {
        matches!(self, Int::U8 | Int::U16 | Int::U32 | Int::U64)
    }
}

impl SqlType {
    /// Whether the Rust type is `Copy`, so a key or unique value is passed by value.
    pub(crate) fn is_copy(self) -> bool {
        !matches!(self, SqlType::String | SqlType::Bytes | SqlType::Json | SqlType::Other)
    }
}

impl<'a> Container<'a> {
    /// The model as written, or `None` (with the error reported) when the input is not a struct
    /// with named fields and no generics: nothing more can be checked then. `Container::from_ast`
    /// (in `mod.rs`) also checks it.
    pub(super) fn parse(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Container<'a>> {
        let attrs = attr::Container::from_ast(cx, input);
        let ident = &input.ident;
        let named = match &input.data {
            syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Named(named), .. }) => named,
            syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Unnamed(unnamed), .. }) => {
                cx.error_spanned_by(
                    unnamed,
                    format!(
                        "`#[derive(Repository)]` needs named fields, one per column: write `struct {ident} {{ id: i64, … }}`"
                    ),
                );
                return None;
            }
            syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Unit, .. }) => {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "`{ident}` has no fields: `#[derive(Repository)]` needs a struct with a key and columns, like `struct {ident} {{ #[key(auto)] id: i64, name: String }}`"
                    ),
                );
                return None;
            }
            syn::Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(Repository)]` works on structs, where each field is a column: an enum has no fixed columns",
                );
                return None;
            }
            syn::Data::Union(data) => {
                cx.error_spanned_by(data.union_token, "`#[derive(Repository)]` works on structs, not unions");
                return None;
            }
        };
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "a repository model cannot be generic: its columns' types must be known to generate the SQL; remove the type parameters",
            );
            return None;
        }
        let fields = named.named.iter().map(|field| Field::from_ast(cx, field)).collect();
        Some(Container { ident, vis: &input.vis, attrs, fields })
    }

    /// The `#[repository(crate = "...")]` path of a derive input, read without checking the rest
    /// (a malformed one is reported by the derive).
    pub(crate) fn krate_of(input: &syn::DeriveInput) -> Option<syn::Path> {
        let cx = Ctxt::new();
        let krate = attr::Container::from_ast(&cx, input).krate.map(|k| k.value);
        let _ = cx.check();
        krate
    }

    /// The first backend `#[database]` lists, when it parsed: what a model can do (generated keys,
    /// updates, enforced uniqueness) is the same on every backend it lists, since only the SQL
    /// backends share a model ([`Backend::shares_models`]).
    pub(crate) fn backend(&self) -> Option<Backend> {
        self.backends().next()
    }

    /// The backends `#[database]` lists, in the order written; none when it did not parse.
    pub(crate) fn backends(&self) -> impl Iterator<Item = Backend> + '_ {
        self.attrs.database.iter().flat_map(|d| d.backends.iter().map(|b| b.value))
    }

    /// The path of the facade's hidden module every generated item names:
    /// `::dbkit::__private`, or `<crate>::__private` with `#[repository(crate = "...")]`.
    pub(crate) fn private(&self) -> TokenStream {
        private_path(self.attrs.krate.as_ref().map(|k| &k.value))
    }

    /// [`Container::private`] as a string, for attributes that take a path in a string
    /// (`#[serde(crate = "...")]`).
    pub(crate) fn private_str(&self) -> String {
        self.private().to_string().replace(' ', "")
    }

    /// `NewX`, `XPatch` and `XRepository`.
    pub(crate) fn names(&self) -> Names {
        Names::of(self.ident)
    }

    /// The table name: `#[repository(table = "...")]`, or the struct's name in snake_case.
    pub(crate) fn table(&self) -> String {
        match &self.attrs.table {
            Some(table) => table.value.clone(),
            None => snake_case(&self.ident.unraw().to_string()),
        }
    }

    pub(crate) fn key(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.attrs.key.is_some())
    }

    /// The columns `NewX` carries: every field but a generated key and those with a default.
    pub(crate) fn insert_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| !f.is_auto_key() && f.attrs.column.default.is_none())
    }

    /// The columns `XPatch` carries: every field but the key and those the database sets on update
    /// (`#[column(on_update = ...)]`).
    pub(crate) fn patch_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| !f.is_key() && f.attrs.column.on_update.is_none())
    }

    /// `, "column" = expression` for every `#[column(on_update = ...)]`, in field order: what a
    /// generated `update` appends to the columns the patch sets. `quote` quotes a column name;
    /// `expression` is the backend's spelling of the field's expression.
    pub(crate) fn on_update_sets(
        &self,
        quote: impl Fn(&str) -> String,
        expression: impl Fn(&Field<'a>, &str) -> String,
    ) -> String {
        self.fields
            .iter()
            .filter_map(|f| {
                let on_update = f.attrs.column.on_update.as_ref()?;
                Some(format!(", {} = {}", quote(&f.column()), expression(f, &on_update.value)))
            })
            .collect()
    }

    pub(crate) fn unique_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.attrs.unique.is_some() && !f.is_key())
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, field: &'a syn::Field) -> Field<'a> {
        let ident = field.ident.as_ref().expect("named fields have names");
        let (value_ty, nullable) = match option_inner(&field.ty) {
            Some(inner) => (inner, true),
            None => (&field.ty, false),
        };
        Field {
            ident,
            ty: &field.ty,
            value_ty,
            nullable,
            sql_type: classify(value_ty),
            attrs: attr::Field::from_ast(cx, field),
        }
    }

    /// The column name: `#[column(name = "...")]`, or the field's name (`r#type` is `type`).
    pub(crate) fn column(&self) -> String {
        match &self.attrs.column.name {
            Some(name) => name.value.clone(),
            None => self.ident.unraw().to_string(),
        }
    }

    pub(crate) fn is_key(&self) -> bool {
        self.attrs.key.is_some()
    }

    pub(crate) fn is_auto_key(&self) -> bool {
        self.attrs.key.as_ref().is_some_and(|key| key.value == KeyKind::Auto)
    }

    /// Whether the field is `Option<Option<T>>`: a column is nullable once.
    pub(crate) fn is_nested_option(&self) -> bool {
        self.nullable && option_inner(self.value_ty).is_some()
    }

    /// The field's name without `r#`, for column names and method names.
    pub(crate) fn name(&self) -> String {
        unraw(self.ident)
    }

    /// How a key or unique value is passed: by value when `Copy`, `&str` for a `String`, `&[u8]`
    /// for a `Vec<u8>`, by reference otherwise.
    pub(crate) fn param_type(&self) -> TokenStream {
        let ty = self.value_ty;
        match self.sql_type {
            SqlType::String => quote!(&::core::primitive::str),
            SqlType::Bytes => quote!(&[::core::primitive::u8]),
            t if t.is_copy() => ty.to_token_stream(),
            _ => quote!(&#ty),
        }
    }
}

/// The generated types' names.
pub(crate) struct Names {
    pub(crate) new: syn::Ident,
    pub(crate) patch: syn::Ident,
    pub(crate) repository: syn::Ident,
    /// The repository's view on the caller's transaction: `UserRepositoryInTransaction`.
    pub(crate) in_transaction: syn::Ident,
}

impl Names {
    pub(crate) fn of(model: &syn::Ident) -> Names {
        let base = model.unraw();
        Names {
            new: format_ident!("New{}", base),
            patch: format_ident!("{}Patch", base),
            repository: format_ident!("{}Repository", base),
            in_transaction: format_ident!("{}RepositoryInTransaction", base),
        }
    }
}

/// A type as the user wrote it, without the spaces `to_string` puts between tokens.
pub(crate) fn type_name(ty: &syn::Type) -> String {
    let mut name = ty.to_token_stream().to_string();
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
    ] {
        name = name.replace(spaced, tight);
    }
    name
}

/// What to write instead of a type dbkit does not know, when it looks like a common mistake.
pub(crate) fn type_hint(ty: &str) -> &'static str {
    if ty.starts_with('&') && ty.ends_with("str") || ty.contains("<str>") {
        " (for text write `String`)"
    } else if ty.contains("DateTime<") {
        " (for a point in time write `chrono::DateTime<chrono::Utc>`)"
    } else {
        ""
    }
}

/// `::dbkit::__private`, or `<krate>::__private`.
pub(crate) fn private_path(krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(krate) => quote!(#krate::__private),
        None => quote!(::dbkit::__private),
    }
}

/// An identifier without `r#`.
pub(crate) fn unraw(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

/// `T` when `ty` is `Option<T>` (or `std::option::Option<T>`, `core::option::Option<T>`).
pub(crate) fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(syn::TypePath { qself: None, path }) = ty else { return None };
    let last = path.segments.last()?;
    let prefix_ok = match path.segments.len() {
        1 => true,
        3 => {
            let first = path.segments[0].ident.to_string();
            (first == "std" || first == "core") && path.segments[1].ident == "option"
        }
        _ => false,
    };
    if last.ident != "Option" || !prefix_ok {
        return None;
    }
    single_type_argument(last)
}

fn single_type_argument(segment: &syn::PathSegment) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [syn::GenericArgument::Type(ty)] => Some(ty),
        _ => None,
    }
}

/// Recognises the types of the type table by their last path segment (`chrono::NaiveDate` and a
/// `use`d `NaiveDate` alike); a type alias is not seen through and needs `sql_type`.
pub(crate) fn classify(ty: &syn::Type) -> SqlType {
    let syn::Type::Path(syn::TypePath { qself: None, path }) = ty else { return SqlType::Other };
    let Some(last) = path.segments.last() else { return SqlType::Other };
    let name = last.ident.to_string();
    let has_arguments = !matches!(last.arguments, syn::PathArguments::None);
    if has_arguments {
        let argument = single_type_argument(last);
        return match (name.as_str(), argument) {
            ("Vec", Some(arg)) if is_ident(arg, "u8") => SqlType::Bytes,
            ("DateTime", Some(arg)) if is_ident(arg, "Utc") => SqlType::DateTimeUtc,
            _ => SqlType::Other,
        };
    }
    match name.as_str() {
        "bool" => SqlType::Bool,
        "i8" => SqlType::Int(Int::I8),
        "i16" => SqlType::Int(Int::I16),
        "i32" => SqlType::Int(Int::I32),
        "i64" => SqlType::Int(Int::I64),
        "u8" => SqlType::Int(Int::U8),
        "u16" => SqlType::Int(Int::U16),
        "u32" => SqlType::Int(Int::U32),
        "u64" => SqlType::Int(Int::U64),
        "f32" => SqlType::F32,
        "f64" => SqlType::F64,
        "String" => SqlType::String,
        "NaiveDateTime" => SqlType::NaiveDateTime,
        "NaiveDate" => SqlType::NaiveDate,
        "NaiveTime" => SqlType::NaiveTime,
        "Uuid" => SqlType::Uuid,
        "JsonValue" => SqlType::Json,
        "Value" if path.segments.len() >= 2 && path.segments[path.segments.len() - 2].ident == "serde_json" => {
            SqlType::Json
        }
        _ => SqlType::Other,
    }
}

/// Whether `ty` is a path whose last segment is `name` (`Utc`, `chrono::Utc`).
fn is_ident(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(syn::TypePath { qself: None, path })
        if path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_none()))
}

/// `UserProfile` → `user_profile`, `HTTPLog` → `http_log`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let ends_acronym =
                i > 0 && chars[i - 1].is_uppercase() && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if after_lower || ends_acronym {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("UserProfile"), "user_profile");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Order2Item"), "order2_item");
    }

    #[test]
    fn classifies_types() {
        let ty = |t: syn::Type| classify(&t);
        assert_eq!(ty(syn::parse_quote!(i64)), SqlType::Int(Int::I64));
        assert_eq!(ty(syn::parse_quote!(std::string::String)), SqlType::String);
        assert_eq!(ty(syn::parse_quote!(Vec<u8>)), SqlType::Bytes);
        assert_eq!(ty(syn::parse_quote!(Vec<u16>)), SqlType::Other);
        assert_eq!(ty(syn::parse_quote!(chrono::DateTime<chrono::Utc>)), SqlType::DateTimeUtc);
        assert_eq!(ty(syn::parse_quote!(DateTime<Local>)), SqlType::Other);
        assert_eq!(ty(syn::parse_quote!(uuid::Uuid)), SqlType::Uuid);
        assert_eq!(ty(syn::parse_quote!(serde_json::Value)), SqlType::Json);
        assert_eq!(ty(syn::parse_quote!(Value)), SqlType::Other);
        let opt: syn::Type = syn::parse_quote!(Option<String>);
        assert!(option_inner(&opt).is_some());
        let not_opt: syn::Type = syn::parse_quote!(my::Option<String>);
        assert!(option_inner(&not_opt).is_none());
    }
}
