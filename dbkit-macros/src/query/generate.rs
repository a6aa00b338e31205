//! The code of a checked query method: the SQL with one driver placeholder per parameter (built at
//! run time when a list argument needs one per element), the binds, the fetch of the result
//! shape, all inside the call loop every generated method runs.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use super::schema::Schema;
use super::signature::{Arg, QueryMethod, single_generic};
use super::signature::{Row, Shape, is_u64};
use super::text::{self, Piece};
use crate::backend::sql::Dialect;
use crate::repository::call::call_loop;

pub(super) fn stub(method: &QueryMethod) -> TokenStream {
    let (attrs, vis, sig) = (&method.attrs, &method.vis, &method.sig);
    quote! {
        #(#attrs)*
        #[allow(unused_variables)]
        #vis #sig {
            ::core::unimplemented!()
        }
    }
}

/// One attempt of a checked query on `dialect`: the SQL with the driver's placeholders, its binds
/// and the fetch of the result shape, evaluating to `Result<output, Failure>`.
#[allow(clippy::too_many_arguments)]
pub(super) fn attempt(
    args: &[Arg],
    occurrences: &[String],
    lists: &BTreeSet<usize>,
    text: &str,
    dialect: Dialect,
    shape: &Shape,
    layout: Option<&[usize]>,
    model: &Schema,
) -> TokenStream {
    let p = &model.private;
    let sqlx = quote!(#p::sqlx);
    let driver = format_ident!("{}", dialect.sqlx_type());
    let db = quote!(#sqlx::#driver);
    let pieces = text::pieces(text);
    let arg_ident = |occurrence: usize| {
        let arg = args
            .iter()
            .find(|a| a.ident.unraw() == occurrences[occurrence])
            .expect("checked: every parameter has an argument");
        &arg.ident
    };

    let build = if lists.is_empty() {
        // Fixed text: the driver's placeholders in order, one bind per occurrence.
        let mut sql = String::new();
        let mut binds = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => sql.push_str(t),
                Piece::Param(occurrence) => {
                    binds.push(arg_ident(*occurrence));
                    sql.push_str(&dialect.placeholder(binds.len()));
                }
            }
        }
        quote! {
            __call.text(#sql);
            let __query = #sqlx::query(#sql) #(.bind(&#binds))*;
        }
    } else {
        // A list argument (`IN (:ids)`) gets one placeholder per element, so the text is built at
        // run time; every value is still bound, and the text is this method's compile-time pieces
        // and the driver's placeholders only, hence `AssertSqlSafe`.
        let steps = pieces.iter().map(|piece| match piece {
            Piece::Text(t) => quote!(__sql.push_str(#t);),
            Piece::Param(occurrence) if lists.contains(occurrence) => {
                let ident = arg_ident(*occurrence);
                quote! {
                    if #ident.is_empty() {
                        // `IN (NULL)` matches no row, as an empty list would.
                        __sql.push_str("NULL");
                    }
                    for (__i, __value) in ::core::iter::Iterator::enumerate(#ident.iter()) {
                        if __i > 0 {
                            __sql.push_str(", ");
                        }
                        #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, __value)?;
                    }
                }
            }
            Piece::Param(occurrence) => {
                let ident = arg_ident(*occurrence);
                quote!(#p::push_bind::<#db, _>(&mut __sql, &mut __arguments, &#ident)?;)
            }
        });
        quote! {
            let mut __sql = ::std::string::String::new();
            let mut __arguments = <<#db as #sqlx::Database>::Arguments as ::core::default::Default>::default();
            #(#steps)*
            __call.text(&__sql);
            let __query = #sqlx::query_with(#sqlx::AssertSqlSafe(__sql), __arguments);
        }
    };

    let failure = quote!(#p::Failure::sent);
    let get = |ty: &syn::Type, index: usize, label: &str| quote!(#p::decode::<_, #ty>(__row, #index, #label).map_err(#failure)?);
    // Counts are signed 64-bit on every backend.
    let count = || {
        quote! {{
            let __n = #p::decode::<_, ::core::primitive::i64>(__row, 0, "column 1").map_err(#failure)?;
            match <::core::primitive::u64 as ::core::convert::TryFrom<::core::primitive::i64>>::try_from(__n) {
                ::core::result::Result::Ok(__n) => __n,
                ::core::result::Result::Err(_) => {
                    return ::core::result::Result::Err(#failure(#p::Error::Decode {
                        column: ::std::string::String::from("column 1"),
                        message: ::std::format!("{__n} is negative: return `i64`"),
                    }));
                }
            }
        }}
    };
    let decode = |row: &Row| decode_row(row, model, layout, &get, &count);
    let fetch = match shape {
        Shape::Many(row) => {
            let decode = decode(row);
            quote! {
                let __rows = __query.fetch_all(&mut *__session).await.map_err(#failure)?;
                let mut __values = ::std::vec::Vec::with_capacity(__rows.len());
                for __row in &__rows {
                    __values.push(#decode);
                }
                ::core::result::Result::Ok(__values)
            }
        }
        Shape::Optional(row) => {
            let decode = decode(row);
            quote! {
                match __query.fetch_optional(&mut *__session).await.map_err(#failure)? {
                    ::core::option::Option::Some(__row) => {
                        let __row = &__row;
                        ::core::result::Result::Ok(::core::option::Option::Some(#decode))
                    }
                    ::core::option::Option::None => ::core::result::Result::Ok(::core::option::Option::None),
                }
            }
        }
        Shape::One(row) => {
            let decode = decode(row);
            quote! {
                let __row = &__query.fetch_one(&mut *__session).await.map_err(#failure)?;
                ::core::result::Result::Ok(#decode)
            }
        }
        Shape::Affected => quote! {
            let __done = __query.execute(&mut *__session).await.map_err(#failure)?;
            ::core::result::Result::Ok(__done.rows_affected())
        },
    };

    quote! {
        let mut __session = __call.session::<#db>().await?;
        #build
        #fetch
    }
}

/// One row of a query's result as the method returns it (`__row` in scope): the model's fields,
/// a tuple, or a scalar. `get(type, index, label)` reads one column, `count()` a `u64` count; each
/// driver has its own.
pub(super) fn decode_row(
    row: &Row,
    model: &Schema,
    layout: Option<&[usize]>,
    get: &dyn Fn(&syn::Type, usize, &str) -> TokenStream,
    count: &dyn Fn() -> TokenStream,
) -> TokenStream {
    match row {
        Row::Model => {
            let model_ident = &model.ident;
            let layout = layout.expect("a model row has a layout");
            let fields = model.columns.iter().zip(layout).map(|(c, &index)| {
                let (field, value) = (&c.field, get(&c.ty, index, &c.name));
                quote!(#field: #value,)
            });
            quote!(#model_ident { #(#fields)* })
        }
        Row::Tuple(types) => {
            let values = types.iter().enumerate().map(|(index, ty)| get(ty, index, &format!("column {}", index + 1)));
            quote!((#(#values,)*))
        }
        Row::Scalar(ty) if is_u64(ty) => count(),
        Row::Scalar(ty) => get(ty, 0, "column 1"),
    }
}

/// The method of a checked query: its signature, doc and call loop around `attempt`, one
/// attempt's body (see [`attempt`], and `crate::repository::call::dispatch` for a model of several
/// backends). Returns the repository's method and the same method on the repository's view on
/// the caller's transaction (`in_transaction`): the body is a private `__dbkit_<name>` taking the
/// transaction, or `None`, that both call. A model without transactions (`transactional` false)
/// gets the method alone.
pub(super) fn method(
    method: &QueryMethod,
    args: &[Arg],
    p: &TokenStream,
    repository: &str,
    write: bool,
    transactional: bool,
    attempt: TokenStream,
) -> (TokenStream, TokenStream) {
    let QueryMethod { attrs, vis, sig, sql } = method;
    let name = &sig.ident;
    let method_name = name.unraw().to_string();
    let inner = format_ident!("__dbkit_{}", method_name);
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty) => single_generic(ty, "Result").expect("checked").clone(),
        syn::ReturnType::Default => unreachable!("checked"),
    };
    let params: Vec<TokenStream> = args
        .iter()
        .map(|a| {
            let (ident, ty) = (&a.ident, &a.ty);
            quote!(#ident: #ty)
        })
        .collect();
    let names = args.iter().map(|a| &a.ident);
    let names = quote!(#(#names),*);
    let doc = format!(" Runs `{}`, checked at compile time by `#[dbkit::queries]`.", sql.value().trim());
    let (verb, table) = summary(&sql.value());
    let body = call_loop(p, repository, &method_name, write, transactional, (&verb, &table), attempt);
    if !transactional {
        // No transactions (ClickHouse): the method alone, and no view.
        let method = quote! {
            #(#attrs)*
            #[doc = ""]
            #[doc = #doc]
            #vis async fn #name(&self, #(#params),*) -> #p::Result<#output> {
                #body
            }
        };
        return (method, TokenStream::new());
    }
    let method = quote! {
        async fn #inner(
            &self,
            __tx: ::core::option::Option<&mut #p::DatabaseTransaction>,
            #(#params),*
        ) -> #p::Result<#output> {
            #body
        }

        #(#attrs)*
        #[doc = ""]
        #[doc = #doc]
        #vis async fn #name(&self, #(#params),*) -> #p::Result<#output> {
            self.#inner(::core::option::Option::None, #names).await
        }
    };
    let view = quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #doc]
        #vis async fn #name(&mut self, #(#params),*) -> #p::Result<#output> {
            self.repository.#inner(::core::option::Option::Some(&mut *self.tx), #names).await
        }
    };
    (method, view)
}

/// `db.operation.name` and `db.collection.name` of a checked query, for its metrics and span: the
/// statement's verb and the table it reads or writes first (`("SELECT", "users")`). A statement
/// that starts with `WITH` is named by the verb of its main statement when it can be told
/// cheaply, else `SELECT`. Only names: never a literal of the statement.
fn summary(sql: &str) -> (String, String) {
    let tokens: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
        .filter(|t| !t.is_empty())
        .collect();
    let upper = |t: &str| t.to_ascii_uppercase();
    let verb = match tokens.first().map(|t| upper(t)) {
        Some(verb) if verb == "WITH" => "SELECT".to_owned(),
        Some(verb) => verb,
        None => String::new(),
    };
    let after =
        |keyword: &str| tokens.iter().position(|t| upper(t) == keyword).and_then(|i| tokens.get(i + 1)).copied();
    let table = match verb.as_str() {
        "SELECT" => after("FROM"),
        "INSERT" => after("INTO"),
        "UPDATE" => tokens.get(1).copied(),
        "DELETE" => after("FROM"),
        _ => None,
    };
    let table = table.unwrap_or_default().trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
    (verb, table.to_owned())
}

#[cfg(test)]
mod summary_tests {
    use super::summary;

    #[test]
    fn names_the_verb_and_first_table() {
        let pair = |verb: &str, table: &str| (verb.to_owned(), table.to_owned());
        assert_eq!(summary("SELECT id FROM users WHERE age > :age"), pair("SELECT", "users"));
        assert_eq!(summary("select count(*) from \"Orders\""), pair("SELECT", "Orders"));
        assert_eq!(summary("UPDATE users SET age = :age"), pair("UPDATE", "users"));
        assert_eq!(summary("DELETE FROM `events` WHERE id = :id"), pair("DELETE", "events"));
        assert_eq!(summary("INSERT INTO users(id) VALUES (:id)"), pair("INSERT", "users"));
        assert_eq!(summary("WITH t AS (SELECT 1) SELECT * FROM t"), pair("SELECT", "t"));
    }
}
