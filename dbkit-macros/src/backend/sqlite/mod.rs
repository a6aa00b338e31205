//! The bodies of a SQLite repository, on dbkit's native engine (`dbkit_runtime`'s SQLite engine,
//! on rusqlite): the statements are the SQL dialect's (`crate::backend::sql`), the bodies run
//! them with rusqlite's binds and reads.
//!
//! Each attempt takes a `SqliteCall` from `__call.sqlite()` and hands it one closure, which the
//! engine runs inline on the calling task — or again on the blocking pool when it goes over the
//! inline budget, or finds the file locked — so the closure owns what it binds: the method's
//! arguments are moved or cloned into it. Rows are decoded by column index, in field order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::backend::provider::Provider;
use crate::backend::sql::Dialect;
use crate::backend::sql::statements::Statements;
use crate::model::ast::SqlType;
use crate::model::{Container, Field};

/// `create_many` of more rows than this runs on the blocking pool rather than inline: about the
/// inline read budget's worth of inserts (~1 µs a row).
const INLINE_INSERT_ROWS: usize = 128;

pub(crate) struct SqliteProvider<'a> {
    cont: &'a Container<'a>,
    statements: Statements,
    /// `::dbkit::__private`.
    p: TokenStream,
}

impl<'a> SqliteProvider<'a> {
    pub(crate) fn new(cont: &'a Container<'a>) -> Self {
        SqliteProvider { cont, statements: Statements::new(cont, Dialect::Sqlite), p: cont.private() }
    }

    fn key(&self) -> &Field<'_> {
        self.cont.key().expect("checked: the model has a key")
    }

    /// `&value as &dyn ToSql` for a value of `field`: through `sqlite_row::Sqlx` for the types
    /// whose rusqlite encoding differs from sqlx's (see there), so both write the same text.
    fn bind(&self, field: &Field<'_>, value: TokenStream) -> TokenStream {
        let p = &self.p;
        if field.attrs.column.sql_type.is_some() {
            let span = field.value_ty.span();
            quote_spanned!(span=> #p::sqlite_row::column(&#value))
        } else if Self::as_sqlx(field) {
            quote!(&#p::sqlite_row::Sqlx(&#value) as &dyn #p::rusqlite::ToSql)
        } else {
            quote!(&#value as &dyn #p::rusqlite::ToSql)
        }
    }

    /// The value of `field` as a `ToSqlOutput`, for a list of parameters built at run time (a
    /// `Vec`, where a wrapper made in place would not live long enough).
    fn output(&self, field: &Field<'_>, value: TokenStream) -> TokenStream {
        let p = &self.p;
        if field.attrs.column.sql_type.is_some() {
            let span = field.value_ty.span();
            quote_spanned!(span=> #p::rusqlite::ToSql::to_sql(#p::sqlite_row::column(&#value))?)
        } else if Self::as_sqlx(field) {
            quote!(#p::sqlite_row::Sqlx(&#value).into_output()?)
        } else {
            quote!(#p::rusqlite::ToSql::to_sql(&#value)?)
        }
    }

    fn as_sqlx(field: &Field<'_>) -> bool {
        matches!(field.sql_type, SqlType::DateTimeUtc | SqlType::Json) && field.attrs.column.sql_type.is_none()
    }

    /// `&[bind, …][..]`: positional parameters.
    fn params<'f>(&self, values: impl IntoIterator<Item = (&'f Field<'f>, TokenStream)>) -> TokenStream {
        let binds = values.into_iter().map(|(field, value)| self.bind(field, value));
        quote!(&[#(#binds),*][..])
    }

    /// A read: `setup` runs before it (the owned copies the closure moves in), `body` on
    /// `__conn`, returning a `rusqlite::Result`.
    fn read(&self, sql: &str, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = &self.p;
        quote! {
            __call.text(#sql);
            #setup
            let __session = __call.sqlite()?;
            __session.read(#sql, move |__conn: #p::SqliteConn<'_>| { #body }).await.map_err(#p::Failure::sent)
        }
    }

    /// A write of `kind` (`Statement` or `Transaction`), `large` an expression.
    fn write(&self, kind: &str, large: TokenStream, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = &self.p;
        let kind = format_ident!("{kind}");
        quote! {
            #setup
            let __session = __call.sqlite()?;
            __session
                .write(#p::WriteKind::#kind, #large, move |__conn: #p::SqliteConn<'_>| { #body })
                .await
                .map_err(#p::Failure::sent)
        }
    }

    /// `let __arg_<name> = <owned copy of the argument name>;` for a key or unique argument
    /// (prefixed so that no field name meets a local of the body, such as `__session`).
    fn owned(&self, field: &Field<'_>, name: &syn::Ident) -> TokenStream {
        let owned = format_ident!("__arg_{}", name);
        if field.sql_type.is_copy() {
            quote!(let #owned = #name;)
        } else {
            quote!(let #owned = ::std::borrow::ToOwned::to_owned(#name);)
        }
    }

    fn lookup(&self, sql: &str, field: &Field<'_>, name: &syn::Ident) -> TokenStream {
        let owned = format_ident!("__arg_{}", name);
        let params = self.params([(field, quote!(#owned))]);
        self.read(sql, self.owned(field, name), quote!(__conn.query_optional(#sql, #params, __decode_sqlite)))
    }
}

impl Provider for SqliteProvider<'_> {
    fn ddl(&self) -> (String, String) {
        (self.statements.create_table.clone(), self.statements.drop_table.clone())
    }

    fn declared_type(&self, field: &Field<'_>) -> String {
        Dialect::Sqlite.declared_type(field)
    }

    /// `fn __decode_sqlite(row) -> rusqlite::Result<Model>`: columns by index, in field order (the
    /// order of every generated `SELECT` and `RETURNING` list).
    fn items(&self) -> TokenStream {
        let (p, model) = (&self.p, self.cont.ident);
        let fields = self.cont.fields.iter().enumerate().map(|(index, f)| {
            let ident = f.ident;
            let column = f.column();
            if f.attrs.column.sql_type.is_some() {
                let span = f.value_ty.span();
                quote_spanned!(span=> #ident: #p::sqlite_row::get_column(__row, #index, #column)?,)
            } else {
                quote!(#ident: #p::sqlite_row::get(__row, #index, #column)?,)
            }
        });
        // A type of the application's own (`sql_type`) must bind and read through rusqlite: one
        // error on the field's type when it does not.
        let custom = self.cont.fields.iter().filter(|f| f.attrs.column.sql_type.is_some()).map(|f| {
            let ty = f.value_ty;
            quote_spanned!(ty.span()=> const _: () = #p::assert_sqlite_column::<#ty>();)
        });
        quote! {
            #(#custom)*
            fn __decode_sqlite(__row: &#p::rusqlite::Row<'_>) -> #p::rusqlite::Result<#model> {
                ::core::result::Result::Ok(#model { #(#fields)* })
            }
        }
    }

    fn create_many_doc(&self) -> String {
        format!(
            "Inserts every row in one transaction, all or nothing, with multi-row `INSERT`s of at most {} rows; \
             returns the rows written. More than {INLINE_INSERT_ROWS} rows are written off the calling task. Use it for \
             `{}`s in bulk.",
            self.rows_per_statement(),
            self.cont.ident,
        )
    }

    fn get(&self) -> TokenStream {
        self.lookup(&self.statements.select_by_key, self.key(), &format_ident!("key"))
    }

    /// SQLite has no row locks (its writers are serialized on the whole database, and a unit of
    /// work holds the write lock from its `BEGIN IMMEDIATE`), so this is `get`.
    fn get_for_update(&self) -> TokenStream {
        self.get()
    }

    fn get_by(&self, field: &Field<'_>, index: usize) -> TokenStream {
        self.lookup(&self.statements.select_by_unique[index], field, field.ident)
    }

    fn list(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.list;
        let params = quote!(&[&__limit as &dyn #p::rusqlite::ToSql, &__offset][..]);
        self.read(
            sql,
            quote!(let (__limit, __offset) = (page.sql_limit(), page.sql_offset());),
            quote!(__conn.query_all(#sql, #params, __decode_sqlite)),
        )
    }

    fn count(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.count;
        quote! {
            __call.text(#sql);
            let __session = __call.sqlite()?;
            __session
                .read(#sql, move |__conn: #p::SqliteConn<'_>| {
                    __conn.connection().prepare_cached(#sql)?.query_row([], |__row| __row.get::<_, ::core::primitive::i64>(0))
                })
                .await
                .map(::core::primitive::i64::unsigned_abs)
                .map_err(#p::Failure::sent)
        }
    }

    fn create(&self) -> TokenStream {
        let sql = &self.statements.insert_returning;
        let params = self.params(self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            (f, quote!(__new.#ident))
        }));
        let write = self.write(
            "Statement",
            quote!(false),
            quote!(let __new = ::core::clone::Clone::clone(new);),
            quote!(__conn.connection().prepare_cached(#sql)?.query_row(#params, __decode_sqlite)),
        );
        quote! {
            __call.text(#sql);
            #write
        }
    }

    fn create_many(&self) -> TokenStream {
        let p = &self.p;
        let head = &self.statements.insert_many_head;
        let fields: Vec<&Field<'_>> = self.cont.insert_fields().collect();
        let row = format!("({})", vec!["?"; fields.len()].join(", "));
        let binds = fields.iter().map(|f| {
            let ident = f.ident;
            let output = self.output(f, quote!(__new.#ident));
            quote!(__params.push(#output);)
        });
        let rows_per_statement = self.rows_per_statement();
        let columns = fields.len();
        let write = self.write(
            "Transaction",
            quote!(rows.len() > #INLINE_INSERT_ROWS),
            quote!(let __rows = ::std::borrow::ToOwned::to_owned(rows);),
            quote! {
                let mut __written: ::core::primitive::u64 = 0;
                for __chunk in __rows.chunks(#rows_per_statement) {
                    let mut __sql = ::std::string::String::with_capacity(#head.len() + __chunk.len() * (#row.len() + 2));
                    __sql.push_str(#head);
                    let mut __params: ::std::vec::Vec<#p::rusqlite::types::ToSqlOutput<'_>> =
                        ::std::vec::Vec::with_capacity(__chunk.len() * #columns);
                    for (__i, __new) in ::core::iter::Iterator::enumerate(__chunk.iter()) {
                        if __i > 0 {
                            __sql.push_str(", ");
                        }
                        __sql.push_str(#row);
                        #(#binds)*
                    }
                    __written += __conn.execute(&__sql, #p::rusqlite::params_from_iter(__params.iter()))? as ::core::primitive::u64;
                }
                ::core::result::Result::Ok(__written)
            },
        );
        quote! {
            __call.text(#head);
            #write
        }
    }

    fn update(&self) -> TokenStream {
        let st = &self.statements;
        let (head, where_, returning) = (&st.update_head, &st.update_where, &st.update_returning);
        // The text: each set field's assignment and placeholder, in field order; the binds, inside
        // the closure, follow the same order.
        let sets = self.cont.patch_fields().zip(&st.update_sets).map(|(field, assignment)| {
            let ident = field.ident;
            quote! {
                if patch.#ident.is_some() {
                    if __any {
                        __sql.push_str(", ");
                    }
                    __sql.push_str(#assignment);
                    __sql.push('?');
                    __any = true;
                }
            }
        });
        let binds = self.cont.patch_fields().map(|field| {
            let ident = field.ident;
            let output = self.output(field, quote!(*__value));
            quote! {
                if let ::core::option::Option::Some(__value) = &__patch.#ident {
                    __params.push(#output);
                }
            }
        });
        let key = self.key();
        let owned_key = self.owned(key, &format_ident!("key"));
        let key_output = self.output(key, quote!(__arg_key));
        let capacity = head.len()
            + st.update_sets.iter().map(|set| set.len() + ", ".len() + 1).sum::<usize>()
            + where_.len()
            + 1
            + returning.len();
        let fields = self.cont.patch_fields().count() + 1;
        let p = &self.p;
        let write = self.write(
            "Statement",
            quote!(false),
            quote! {
                let __patch = ::core::clone::Clone::clone(patch);
                #owned_key
            },
            quote! {
                let mut __params: ::std::vec::Vec<#p::rusqlite::types::ToSqlOutput<'_>> =
                    ::std::vec::Vec::with_capacity(#fields);
                #(#binds)*
                __params.push(#key_output);
                __conn.query_optional(&__sql, #p::rusqlite::params_from_iter(__params.iter()), __decode_sqlite)
            },
        );
        quote! {
            let mut __sql = ::std::string::String::with_capacity(#capacity);
            __sql.push_str(#head);
            let mut __any = false;
            #(#sets)*
            __sql.push_str(#where_);
            __sql.push('?');
            __sql.push_str(#returning);
            __call.text(&__sql);
            #write
        }
    }

    fn delete(&self) -> TokenStream {
        let sql = &self.statements.delete;
        let params = self.params([(self.key(), quote!(__arg_key))]);
        let write = self.write(
            "Statement",
            quote!(false),
            self.owned(self.key(), &format_ident!("key")),
            quote!(__conn.execute(#sql, #params).map(|__n| __n > 0)),
        );
        quote! {
            __call.text(#sql);
            #write
        }
    }
}

impl SqliteProvider<'_> {
    /// The rows a `create_many` statement carries: SQLite's bind-parameter limit caps them, and
    /// so does a fixed 1000, as on the other SQL backends.
    fn rows_per_statement(&self) -> usize {
        (Dialect::Sqlite.bind_limit() / self.cont.insert_fields().count().max(1)).clamp(1, 1000)
    }
}
