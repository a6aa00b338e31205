//! The code of a checked query on SQLite, on dbkit's native engine: as `generate` does for sqlx,
//! but the statement runs in a closure the engine may run again off the calling task, so the
//! closure owns copies of the arguments it binds.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use super::generate::decode_row;
use super::schema::{Schema, list_element};
use super::signature::{Arg, Row, Shape};
use super::text::{self, Piece};
use crate::model::SqlType;
use crate::model::ast::{classify, option_inner};

/// One attempt of a checked query on SQLite, evaluating to `Result<output, Failure>`.
#[allow(clippy::too_many_arguments)]
pub(super) fn attempt(
    args: &[Arg],
    occurrences: &[String],
    lists: &BTreeSet<usize>,
    sql_text: &str,
    shape: &Shape,
    layout: Option<&[usize]>,
    model: &Schema,
    write: bool,
) -> TokenStream {
    let p = &model.private;
    let pieces = text::pieces(sql_text);
    let arg_of = |occurrence: usize| {
        args.iter()
            .find(|a| a.ident.unraw() == occurrences[occurrence])
            .expect("checked: every parameter has an argument")
    };
    let owned_ident = |arg: &Arg| format_ident!("__arg_{}", arg.ident.unraw());

    // Owned copies the closure moves in: the call loop may run the attempt again, so the
    // arguments themselves stay.
    let copies = args.iter().map(|arg| {
        let (ident, owned) = (&arg.ident, owned_ident(arg));
        match &arg.ty {
            syn::Type::Reference(_) => quote!(let #owned = ::std::borrow::ToOwned::to_owned(#ident);),
            ty if matches!(option_inner(ty), Some(syn::Type::Reference(_))) => {
                quote!(let #owned = ::core::option::Option::map(#ident, ::std::borrow::ToOwned::to_owned);)
            }
            _ => quote!(let #owned = ::core::clone::Clone::clone(&#ident);),
        }
    });

    // The value of one parameter as a `ToSqlOutput`, through `sqlite_row::Sqlx` for the types
    // whose rusqlite encoding differs from sqlx's.
    let output = |ty: &syn::Type, value: TokenStream| -> TokenStream {
        let bare = match ty {
            syn::Type::Reference(r) => &*r.elem,
            ty => ty,
        };
        let inner = option_inner(bare).unwrap_or(bare);
        if matches!(classify(inner), SqlType::DateTimeUtc | SqlType::Json) {
            quote!(#p::sqlite_row::Sqlx(#value).into_output()?)
        } else {
            quote!(#p::rusqlite::ToSql::to_sql(#value)?)
        }
    };

    // The text with `?` placeholders and the binds in order; a list argument gets one placeholder
    // per element, so its text is built at run time.
    let (build, binds) = if lists.is_empty() {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => sql.push_str(t),
                Piece::Param(occurrence) => {
                    let arg = arg_of(*occurrence);
                    let owned = owned_ident(arg);
                    binds.push(output(&arg.ty, quote!(&#owned)));
                    sql.push('?');
                }
            }
        }
        let binds = binds.into_iter().map(|b| quote!(__params.push(#b);)).collect::<Vec<_>>();
        (quote!(let __sql: &'static str = #sql;), binds)
    } else {
        let mut steps = Vec::new();
        let mut binds = Vec::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => steps.push(quote!(__sql.push_str(#t);)),
                Piece::Param(occurrence) if lists.contains(occurrence) => {
                    let arg = arg_of(*occurrence);
                    let (ident, owned) = (&arg.ident, owned_ident(arg));
                    let element = list_element(&arg.ty).expect("a list");
                    let value = output(element, quote!(__value));
                    steps.push(quote! {
                        if #ident.is_empty() {
                            // `IN (NULL)` matches no row, as an empty list would.
                            __sql.push_str("NULL");
                        }
                        for __i in 0..#ident.len() {
                            __sql.push_str(if __i == 0 { "?" } else { ", ?" });
                        }
                    });
                    binds.push(quote! {
                        for __value in #owned.iter() {
                            __params.push(#value);
                        }
                    });
                }
                Piece::Param(occurrence) => {
                    let arg = arg_of(*occurrence);
                    let owned = owned_ident(arg);
                    steps.push(quote!(__sql.push('?');));
                    let value = output(&arg.ty, quote!(&#owned));
                    binds.push(quote!(__params.push(#value);));
                }
            }
        }
        (
            quote! {
                let mut __sql = ::std::string::String::new();
                #(#steps)*
            },
            binds,
        )
    };

    let get = |ty: &syn::Type, index: usize, label: &str| quote!(#p::sqlite_row::get::<#ty>(__row, #index, #label)?);
    // Counts are signed 64-bit; a negative one is a decode error naming the column.
    let count = || quote!(#p::sqlite_row::get_count(__row, 0, "column 1")?);
    let decode = |row: &Row| decode_row(row, model, layout, &get, &count);
    let params = quote!(#p::rusqlite::params_from_iter(__params.iter()));
    let run = match shape {
        Shape::Many(row) => {
            let decode = decode(row);
            quote!(__conn.query_all(&__sql, #params, |__row| ::core::result::Result::Ok(#decode)))
        }
        Shape::Optional(row) => {
            let decode = decode(row);
            quote!(__conn.query_optional(&__sql, #params, |__row| ::core::result::Result::Ok(#decode)))
        }
        Shape::One(row) => {
            let decode = decode(row);
            quote!(__conn.connection().prepare_cached(&__sql)?.query_row(#params, |__row| ::core::result::Result::Ok(#decode)))
        }
        Shape::Affected => quote!(__conn.execute(&__sql, #params).map(|__n| __n as ::core::primitive::u64)),
    };
    let body = quote! {
        let mut __params: ::std::vec::Vec<#p::rusqlite::types::ToSqlOutput<'_>> = ::std::vec::Vec::new();
        #(#binds)*
        #run
    };
    let call = if write {
        quote!(__session.write(#p::WriteKind::Statement, false, move |__conn: #p::SqliteConn<'_>| { #body }))
    } else {
        // The engine remembers a statement that went over the inline budget by its text: a copy,
        // as the text itself moves into the closure (free for a fixed text).
        quote!(__session.read(&__statement, move |__conn: #p::SqliteConn<'_>| { #body }))
    };
    let statement = (!write).then(|| quote!(let __statement = ::core::clone::Clone::clone(&__sql);));
    quote! {
        #build
        __call.text(&__sql);
        #(#copies)*
        #statement
        let __session = __call.sqlite()?;
        #call.await.map_err(#p::Failure::sent)
    }
}
