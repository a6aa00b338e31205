//! The code of a `#[database(clickhouse)]` repository: `NewX`, `XRepository` with `get`,
//! `get_by_<unique>`, `list`, `count` and `create_many`, and the [`Model`] impl; no `XPatch`,
//! `create`, `update` or `delete` (see `crate::clickhouse` for why).
//!
//! Rows travel as `RowBinary` through the `clickhouse` crate's serde-based `insert` and `fetch`,
//! by two private structs next to the repository: `__Insert<'a>`, which borrows a `NewX` field by
//! field, and `__Row`, which owns a selected row and becomes the model. The crate's `Row` derive
//! and serde's derives are named through `::dbkit::__private`, so the user needs neither crate.
//!
//! [`Model`]: https://docs.rs/dbkit/latest/dbkit/trait.Model.html

use proc_macro2::TokenStream;
use quote::quote;

use super::{Names, doc, param_type, unraw};
use crate::ast::{Container, Field, SqlType};
use crate::clickhouse::{ROWS_PER_INSERT, Statements};

pub(super) fn expand(cont: &Container<'_>) -> TokenStream {
    let statements = Statements::new(cont);
    let names = Names::of(cont.ident);
    let methods = Methods { cont, names: &names, statements: &statements }.all();
    let ddl = (statements.create_table.as_str(), statements.drop_table.as_str());
    super::assemble(cont, &names, ddl, None, methods)
}

/// The serde `with` module of `::dbkit::__private::clickhouse_row` for a field whose Rust value is
/// not encoded as ClickHouse's column (by the Rust type: `sql_type` changes only the DDL).
fn codec(field: &Field<'_>) -> Option<String> {
    let name = match field.sql_type {
        SqlType::Uuid => "uuid",
        SqlType::DateTimeUtc => "datetime",
        SqlType::NaiveDate => "date",
        SqlType::Json => "json",
        _ => return None,
    };
    let option = if field.nullable { "_option" } else { "" };
    Some(format!("::dbkit::__private::clickhouse_row::{name}{option}"))
}

/// `#[serde(rename = "column", with = "…")]`: the name is the column the crate's `insert` lists.
fn serde_attr(field: &Field<'_>) -> TokenStream {
    let column = field.column();
    match codec(field) {
        Some(with) => quote!(#[serde(rename = #column, with = #with)]),
        None => quote!(#[serde(rename = #column)]),
    }
}

struct Methods<'a> {
    cont: &'a Container<'a>,
    names: &'a Names<'a>,
    statements: &'a Statements,
}

impl Methods<'_> {
    fn all(&self) -> TokenStream {
        let repository = &self.names.repository;
        let rows = self.row_structs();
        let get = self.get();
        let get_by = self.get_by_unique();
        let list = self.list();
        let count = self.count();
        let create_many = self.create_many();
        quote! {
            #rows

            #[automatically_derived]
            #[allow(dead_code)]
            impl #repository {
                #get
                #(#get_by)*
                #list
                #count
                #create_many
            }
        }
    }

    /// `__Insert<'a>` (the columns of `NewX`, borrowed) and `__Row` (every column, owned, in the
    /// order of the generated `SELECT`s, which is how `RowBinary` is decoded).
    fn row_structs(&self) -> TokenStream {
        let p = quote!(::dbkit::__private);
        let model = self.names.model;
        let insert_fields = self.cont.insert_fields().map(|f| {
            let (ident, ty, attr) = (f.ident, f.ty, serde_attr(f));
            quote!(#attr #ident: &'__row #ty,)
        });
        let row_fields = self.cont.fields.iter().map(|f| {
            let (ident, ty, attr) = (f.ident, f.ty, serde_attr(f));
            quote!(#attr #ident: #ty,)
        });
        let idents: Vec<&syn::Ident> = self.cont.fields.iter().map(|f| f.ident).collect();
        quote! {
            #[derive(#p::clickhouse::Row, #p::serde::Serialize)]
            #[clickhouse(crate = "::dbkit::__private::clickhouse")]
            #[serde(crate = "::dbkit::__private::serde")]
            struct __Insert<'__row> {
                #(#insert_fields)*
            }

            #[derive(#p::clickhouse::Row, #p::serde::Deserialize)]
            #[clickhouse(crate = "::dbkit::__private::clickhouse")]
            #[serde(crate = "::dbkit::__private::serde")]
            struct __Row {
                #(#row_fields)*
            }

            #[automatically_derived]
            impl __Row {
                fn into_model(self) -> #model {
                    #model { #(#idents: self.#idents,)* }
                }
            }
        }
    }

    fn call(&self, method: &str, write: bool, output: TokenStream, attempt: TokenStream) -> TokenStream {
        super::call_loop(&self.names.repository.to_string(), method, write, output, attempt)
    }

    /// `SELECT … WHERE column = <placeholder> LIMIT 1` with `value` bound, decoded.
    fn fetch_optional(&self, sql: &str, field: &Field<'_>, value: TokenStream) -> TokenStream {
        let p = quote!(::dbkit::__private);
        let bound = lookup_value(field, value);
        quote! {
            let __client = __call.clickhouse()?;
            let __row = __client
                .query(#sql)
                .bind(#bound)
                .fetch_optional::<__Row>()
                .await
                .map_err(#p::Failure::sent)?;
            ::core::result::Result::Ok(::core::option::Option::map(__row, __Row::into_model))
        }
    }

    fn get(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let key = self.cont.key().expect("checked: the model has a key");
        let key_ty = param_type(key);
        let attempt = self.fetch_optional(&self.statements.select_by_key, key, quote!(key));
        let body = self.call("get", false, quote!(::core::option::Option<#model>), attempt);
        let doc = doc(format!(
            "The `{model}` whose `{}` is `key`, if any (ClickHouse does not enforce a unique key: one of them if several).",
            key.column()
        ));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn get(&self, key: #key_ty) -> #p::Result<::core::option::Option<#model>> {
                #body
            }
        }
    }

    fn get_by_unique(&self) -> Vec<TokenStream> {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let vis = self.cont.vis;
        self.cont
            .unique_fields()
            .zip(&self.statements.select_by_unique)
            .map(|(field, sql)| {
                let ident = field.ident;
                let method_name = format!("get_by_{}", unraw(ident));
                let method = syn::Ident::new(&method_name, ident.span());
                let ty = param_type(field);
                let attempt = self.fetch_optional(sql, field, quote!(#ident));
                let body = self.call(&method_name, false, quote!(::core::option::Option<#model>), attempt);
                let doc = doc(format!(
                    "The `{model}` whose `{}` is `{}`, if any (ClickHouse does not enforce `#[unique]`: one of them if several).",
                    field.column(),
                    unraw(ident)
                ));
                quote! {
                    #doc
                    #vis async fn #method(&self, #ident: #ty) -> #p::Result<::core::option::Option<#model>> {
                        #body
                    }
                }
            })
            .collect()
    }

    fn list(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let sql = &self.statements.list;
        // `LIMIT`/`OFFSET` are `u64`s, formatted as integer literals by the crate's `bind`.
        let body = self.call(
            "list",
            false,
            quote!(::std::vec::Vec<#model>),
            quote! {
                let __client = __call.clickhouse()?;
                let __rows = __client
                    .query(#sql)
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all::<__Row>()
                    .await
                    .map_err(#p::Failure::sent)?;
                ::core::result::Result::Ok(::core::iter::Iterator::collect(::core::iter::Iterator::map(
                    ::core::iter::IntoIterator::into_iter(__rows),
                    __Row::into_model,
                )))
            },
        );
        let key = self.cont.key().expect("checked: the model has a key");
        let doc = doc(format!("One page of `{model}`s, ordered by `{}` ascending.", key.column()));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn list(&self, page: #p::Page) -> #p::Result<::std::vec::Vec<#model>> {
                #body
            }
        }
    }

    fn count(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let sql = &self.statements.count;
        let body = self.call(
            "count",
            false,
            quote!(::core::primitive::u64),
            quote! {
                let __client = __call.clickhouse()?;
                __client.query(#sql).fetch_one::<::core::primitive::u64>().await.map_err(#p::Failure::sent)
            },
        );
        let doc = doc(format!("How many `{model}` rows the table holds."));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn count(&self) -> #p::Result<::core::primitive::u64> {
                #body
            }
        }
    }

    fn create_many(&self) -> TokenStream {
        let (p, model, new) = (quote!(::dbkit::__private), self.names.model, &self.names.new);
        let table = self.cont.table();
        let fields = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            quote!(#ident: &__new.#ident,)
        });
        // Nothing has reached the server before the first row is written (the crate opens the
        // request then); after that a failure may leave rows behind, so it is never retried.
        let attempt = quote! {
            let __client = __call.clickhouse()?;
            let mut __written: ::core::primitive::u64 = 0;
            for __chunk in rows.chunks(#ROWS_PER_INSERT) {
                let mut __insert = __client
                    .insert::<__Insert<'static>>(#table)
                    .await
                    .map_err(|__e| if __written == 0 { #p::Failure::not_applied(__e) } else { #p::Failure::sent(__e) })?;
                for __new in __chunk {
                    __insert.write(&__Insert { #(#fields)* }).await.map_err(#p::Failure::sent)?;
                }
                __insert.end().await.map_err(#p::Failure::sent)?;
                __written += __chunk.len() as ::core::primitive::u64;
            }
            ::core::result::Result::Ok(__written)
        };
        let body = self.call("create_many", true, quote!(::core::primitive::u64), attempt);
        let doc = doc(format!(
            "Inserts the rows as `RowBinary`, one `INSERT` per {ROWS_PER_INSERT} rows, and returns the rows written. \
             ClickHouse writes each `INSERT` atomically, but has no transactions: when a later `INSERT` of a \
             larger batch fails, the earlier ones stay written (and the call is not retried). \
             Use it for `{model}`s in bulk, and for one: ClickHouse has no `create` (no `RETURNING`, no generated keys)."
        ));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn create_many(&self, rows: &[#new]) -> #p::Result<::core::primitive::u64> {
                if rows.is_empty() {
                    return ::core::result::Result::Ok(0);
                }
                #body
            }
        }
    }
}

/// The value bound to a lookup's placeholder (`crate::clickhouse::lookup_placeholder`), which the
/// `clickhouse` crate formats client-side into an escaped literal: ClickHouse 18.16 has no
/// server-side parameters.
fn lookup_value(field: &Field<'_>, value: TokenStream) -> TokenStream {
    if field.attrs.column.sql_type.is_some() {
        return value;
    }
    match field.sql_type {
        SqlType::Bool => {
            quote!(<::core::primitive::u8 as ::core::convert::From<::core::primitive::bool>>::from(#value))
        }
        SqlType::Bytes => quote!(::dbkit::__private::clickhouse_row::hex(#value)),
        SqlType::Uuid | SqlType::NaiveDate => quote!(::std::string::ToString::to_string(&#value)),
        SqlType::DateTimeUtc => quote!(#value.timestamp()),
        _ => value,
    }
}
