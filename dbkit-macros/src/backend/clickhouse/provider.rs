//! The bodies of a `#[database(clickhouse)]` repository: `get`, `get_by_<unique>`, `list`, `count`
//! and `create_many`; no `create`, `update` or `delete` (see `mod.rs` for why).
//!
//! Rows travel as `RowBinary` through the `clickhouse` crate's serde-based `insert` and `fetch`,
//! by two private structs next to the repository: `__Insert<'a>`, which borrows a `NewX` field by
//! field, and `__Row`, which owns a selected row and becomes the model. The crate's `Row` derive
//! and serde's derives are named through `::dbkit::__private`, so the user needs neither crate.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ROWS_PER_INSERT, Statements};
use crate::backend::provider::Provider;
use crate::model::{Container, Field, SqlType};

pub(crate) struct ClickHouseProvider<'a> {
    cont: &'a Container<'a>,
    statements: Statements,
    /// `::dbkit::__private`.
    p: TokenStream,
}

impl<'a> ClickHouseProvider<'a> {
    pub(crate) fn new(cont: &'a Container<'a>) -> Self {
        ClickHouseProvider { cont, statements: Statements::new(cont), p: cont.private() }
    }

    /// The serde `with` module of `::dbkit::__private::clickhouse_row` for a field, if it needs one.
    fn codec(&self, field: &Field<'_>) -> Option<String> {
        let module = super::codec(field.sql_type, field.nullable)?;
        Some(format!("{}::clickhouse_row::{module}", self.cont.private_str()))
    }

    /// `#[serde(rename = "column", with = "…")]`: the name is the column the crate's `insert` lists.
    fn serde_attr(&self, field: &Field<'_>) -> TokenStream {
        let column = field.column();
        match self.codec(field) {
            Some(with) => quote!(#[serde(rename = #column, with = #with)]),
            None => quote!(#[serde(rename = #column)]),
        }
    }

    /// `SELECT … WHERE column = <placeholder> LIMIT 1` with `value` bound, decoded.
    fn fetch_optional(&self, sql: &str, field: &Field<'_>, value: TokenStream) -> TokenStream {
        let p = &self.p;
        let bound = self.lookup_value(field, value);
        quote! {
            __call.text(#sql);
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

    /// The value bound to a lookup's placeholder (`super::lookup_placeholder`), which the
    /// `clickhouse` crate formats client-side into an escaped literal: ClickHouse 18.16 has no
    /// server-side parameters.
    fn lookup_value(&self, field: &Field<'_>, value: TokenStream) -> TokenStream {
        if field.attrs.column.sql_type.is_some() {
            return value;
        }
        let p = &self.p;
        match field.sql_type {
            SqlType::Bool => {
                quote!(<::core::primitive::u8 as ::core::convert::From<::core::primitive::bool>>::from(#value))
            }
            SqlType::Bytes => quote!(#p::clickhouse_row::hex(#value)),
            SqlType::Uuid | SqlType::NaiveDate => quote!(::std::string::ToString::to_string(&#value)),
            SqlType::DateTimeUtc => quote!(#value.timestamp()),
            _ => value,
        }
    }
}

impl Provider for ClickHouseProvider<'_> {
    fn ddl(&self) -> (String, String) {
        (self.statements.create_table.clone(), self.statements.drop_table.clone())
    }

    /// The type without `Nullable`, as `system.columns` reports it (`verify_schema` strips it there).
    fn declared_type(&self, field: &Field<'_>) -> String {
        super::column_type(field).unwrap_or_else(|u| panic!("checked type: {}", u.message()))
    }

    /// `__Insert<'a>` (the columns of `NewX`, borrowed) and `__Row` (every column, owned, in the
    /// order of the generated `SELECT`s, which is how `RowBinary` is decoded).
    fn items(&self) -> TokenStream {
        let p = &self.p;
        let model = self.cont.ident;
        let insert_fields = self.cont.insert_fields().map(|f| {
            let (ident, ty, attr) = (f.ident, f.ty, self.serde_attr(f));
            quote!(#attr #ident: &'__row #ty,)
        });
        let row_fields = self.cont.fields.iter().map(|f| {
            let (ident, ty, attr) = (f.ident, f.ty, self.serde_attr(f));
            quote!(#attr #ident: #ty,)
        });
        let idents: Vec<&syn::Ident> = self.cont.fields.iter().map(|f| f.ident).collect();
        let clickhouse_crate = format!("{}::clickhouse", self.cont.private_str());
        let serde_crate = format!("{}::serde", self.cont.private_str());
        let new = &self.cont.names().new;
        let table = self.cont.table();
        let borrowed = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            quote!(#ident: &__new.#ident,)
        });
        quote! {
            // `pub` (and unnameable, inside the `const _`) because it is `NewX`'s `InsertRow::Row`.
            #[derive(#p::clickhouse::Row, #p::serde::Serialize)]
            #[clickhouse(crate = #clickhouse_crate)]
            #[serde(crate = #serde_crate)]
            #[allow(unreachable_pub)]
            pub struct __Insert<'__row> {
                #(#insert_fields)*
            }

            #[automatically_derived]
            impl #p::InsertRow for #new {
                type Row = __Insert<'static>;
                const TABLE: &'static ::core::primitive::str = #table;
                fn write_all<'__a>(
                    inserter: &'__a mut #p::clickhouse::inserter::Inserter<__Insert<'static>>,
                    rows: &'__a [Self],
                ) -> ::core::pin::Pin<::std::boxed::Box<
                    dyn ::core::future::Future<Output = #p::clickhouse::error::Result<()>> + ::core::marker::Send + '__a,
                >> {
                    ::std::boxed::Box::pin(async move {
                        for __new in rows {
                            inserter.write(&__Insert { #(#borrowed)* }).await?;
                        }
                        ::core::result::Result::Ok(())
                    })
                }
            }

            #[derive(#p::clickhouse::Row, #p::serde::Deserialize)]
            #[clickhouse(crate = #clickhouse_crate)]
            #[serde(crate = #serde_crate)]
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

    fn create_many_doc(&self) -> String {
        format!(
            "Inserts the rows as `RowBinary`, one `INSERT` per {ROWS_PER_INSERT} rows, and returns the rows written. \
             ClickHouse writes each `INSERT` atomically, but has no transactions: when a later `INSERT` of a \
             larger batch fails, the earlier ones stay written (and the call is not retried). \
             Use it for `{}`s in bulk, and for one: ClickHouse has no `create` (no `RETURNING`, no generated keys).",
            self.cont.ident
        )
    }

    fn get(&self) -> TokenStream {
        let key = self.cont.key().expect("checked: the model has a key");
        self.fetch_optional(&self.statements.select_by_key, key, quote!(key))
    }

    fn get_by(&self, field: &Field<'_>, index: usize) -> TokenStream {
        let ident = field.ident;
        self.fetch_optional(&self.statements.select_by_unique[index], field, quote!(#ident))
    }

    fn list(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.list;
        // `LIMIT`/`OFFSET` are `u64`s, formatted as integer literals by the crate's `bind`.
        quote! {
            __call.text(#sql);
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
        }
    }

    fn count(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.count;
        quote! {
            __call.text(#sql);
            let __client = __call.clickhouse()?;
            __client.query(#sql).fetch_one::<::core::primitive::u64>().await.map_err(#p::Failure::sent)
        }
    }

    fn create(&self) -> TokenStream {
        unreachable!("ClickHouse is append-only: `Backend::updates` is false")
    }

    fn create_many(&self) -> TokenStream {
        let p = &self.p;
        let table = self.cont.table();
        let fields = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            quote!(#ident: &__new.#ident,)
        });
        // Nothing has reached the server before the first row is written (the crate opens the
        // request then); after that a failure may leave rows behind, so it is never retried.
        quote! {
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
        }
    }

    fn update(&self) -> TokenStream {
        unreachable!("ClickHouse is append-only: `Backend::updates` is false")
    }

    fn delete(&self) -> TokenStream {
        unreachable!("ClickHouse is append-only: `Backend::updates` is false")
    }
}
