//! The bodies of a `#[database(oracle)]` repository: the full CRUD set, on the `oracle` crate.
//!
//! The crate blocks, so each attempt takes an `OracleSession` from `__call.oracle()` and runs one
//! closure on the blocking pool. The closure owns what it binds (the method's arguments are
//! cloned into it) and calls the helpers of `::dbkit::__private::oracle_row`, which bind and read
//! each Rust type (`OracleColumn`). Every write runs in `oracle_row::write`: the connection
//! never autocommits, so a write commits when it succeeded and rolls back when it failed; in the
//! caller's transaction (`in_transaction`) it runs in a savepoint and commits nothing.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{ROWS_PER_BATCH, Statements};
use crate::backend::provider::Provider;
use crate::model::{Container, Field};

pub(crate) struct OracleProvider<'a> {
    cont: &'a Container<'a>,
    statements: Statements,
    /// `::dbkit::__private`.
    p: TokenStream,
}

impl<'a> OracleProvider<'a> {
    pub(crate) fn new(cont: &'a Container<'a>) -> Self {
        OracleProvider { cont, statements: Statements::new(cont), p: cont.private() }
    }

    fn key(&self) -> &Field<'_> {
        self.cont.key().expect("checked: the model has a key")
    }

    /// `oracle_row::bind(&value)`, or `bind_option` for a nullable column.
    fn bind(&self, field: &Field<'_>, value: TokenStream) -> TokenStream {
        let p = &self.p;
        if field.nullable { quote!(#p::oracle_row::bind_option(#value)) } else { quote!(#p::oracle_row::bind(#value)) }
    }

    /// `[bind(&new.a), bind(&new.b), …]` for the columns `NewX` carries.
    fn bind_new(&self) -> TokenStream {
        let binds = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            self.bind(f, quote!(&__new.#ident))
        });
        quote!(::std::vec![#(#binds),*])
    }

    /// A read: `setup` runs on the async side, `body` on the connection `__conn`, returning an
    /// `oracle::Result`.
    fn read(&self, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = &self.p;
        quote! {
            #setup
            let __session = __call.oracle().await?;
            __session.run(move |__conn| { #body }).await.map_err(#p::Failure::sent)
        }
    }

    /// A write: `body` runs on `__conn` all or nothing — in a transaction committed when it
    /// returns `Ok`, or, in the caller's transaction, in a savepoint (`oracle_row::write`).
    fn write(&self, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = &self.p;
        quote! {
            #setup
            let __session = __call.oracle().await?;
            #p::oracle_row::transaction_outcome(#p::oracle_row::write(&__session, move |__conn| { #body }).await)
        }
    }

    fn select_by_key(&self, key: TokenStream) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.select_by_key;
        let bound = self.bind(self.key(), key);
        quote!(#p::oracle_row::query_optional(__conn, #sql, &[#bound], __decode))
    }
}

/// The owned copy of a key or unique argument (`Field::param_type`) the closure moves in.
fn owned(field: &Field<'_>, value: &syn::Ident) -> TokenStream {
    if field.sql_type.is_copy() { quote!(#value) } else { quote!(::std::borrow::ToOwned::to_owned(#value)) }
}

impl Provider for OracleProvider<'_> {
    fn ddl(&self) -> (String, String) {
        (self.statements.create_table.clone(), self.statements.drop_table.clone())
    }

    /// `fn __decode(row) -> oracle::Result<Model>`: columns by index, in field order.
    fn items(&self) -> TokenStream {
        let (p, model) = (&self.p, self.cont.ident);
        let fields = self.cont.fields.iter().enumerate().map(|(index, f)| {
            let ident = f.ident;
            let get = if f.nullable { quote!(get_option) } else { quote!(get) };
            quote!(#ident: #p::oracle_row::#get(__row, #index)?,)
        });
        quote! {
            fn __decode(__row: &#p::oracle::Row) -> #p::oracle::Result<#model> {
                ::core::result::Result::Ok(#model { #(#fields)* })
            }
        }
    }

    fn create_many_doc(&self) -> String {
        format!(
            "Inserts every row in one transaction, all or nothing, as array binds of at most {ROWS_PER_BATCH} rows \
             a round trip (`executemany`); returns the rows written. Use it for `{}`s in bulk.",
            self.cont.ident
        )
    }

    fn get(&self) -> TokenStream {
        let owned = owned(self.key(), &format_ident!("key"));
        let sql = &self.statements.select_by_key;
        self.read(quote!(__call.text(#sql); let __key = #owned;), self.select_by_key(quote!(&__key)))
    }

    /// `SELECT … FOR UPDATE`: the row stays locked until the caller's transaction ends.
    fn get_for_update(&self) -> TokenStream {
        let p = &self.p;
        let sql = format!("{} FOR UPDATE", self.statements.select_by_key);
        let owned = owned(self.key(), &format_ident!("key"));
        let bound = self.bind(self.key(), quote!(&__key));
        self.read(
            quote!(__call.text(#sql); let __key = #owned;),
            quote!(#p::oracle_row::query_optional(__conn, #sql, &[#bound], __decode)),
        )
    }

    fn get_by(&self, field: &Field<'_>, index: usize) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.select_by_unique[index];
        let owned = owned(field, field.ident);
        let bound = self.bind(field, quote!(&__value));
        self.read(
            quote!(__call.text(#sql); let __value = #owned;),
            quote!(#p::oracle_row::query_optional(__conn, #sql, &[#bound], __decode)),
        )
    }

    fn list(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.list;
        self.read(
            quote!(__call.text(#sql); let (__offset, __limit) = (page.sql_offset(), page.sql_limit());),
            quote! {
                #p::oracle_row::query_all(
                    __conn,
                    #sql,
                    &[#p::oracle_row::bind(&__offset), #p::oracle_row::bind(&__limit)],
                    __decode,
                )
            },
        )
    }

    fn count(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.count;
        self.read(quote!(__call.text(#sql);), quote!(#p::oracle_row::count(__conn, #sql)))
    }

    fn create(&self) -> TokenStream {
        let p = &self.p;
        let key = self.key();
        let values = self.bind_new();
        // With a generated key, `RETURNING … INTO` an out bind gives the key; with a supplied one,
        // the key is known. Either way the row is then read back in the same transaction, so the
        // defaults the database filled in are returned too.
        let insert = match &self.statements.insert_returning_key {
            Some(sql) => {
                let key_ty = key.value_ty;
                quote!(let __key: #key_ty = #p::oracle_row::insert_returning_key(__conn, #sql, &#values)?;)
            }
            None => {
                let sql = &self.statements.insert;
                let ident = key.ident;
                quote! {
                    #p::oracle_row::execute(__conn, #sql, &#values)?;
                    let __key = &__new.#ident;
                }
            }
        };
        let select = self.select_by_key(if key.is_auto_key() { quote!(&__key) } else { quote!(__key) });
        let text = self.statements.insert_returning_key.as_ref().unwrap_or(&self.statements.insert);
        self.write(
            quote!(__call.text(#text); let __new = ::core::clone::Clone::clone(new);),
            quote! {
                #insert
                #p::oracle_row::written(#select?)
            },
        )
    }

    fn create_many(&self) -> TokenStream {
        let p = &self.p;
        let new = self.cont.names().new;
        let sql = &self.statements.insert;
        let values = self.bind_new();
        self.write(
            quote!(__call.text(#sql); let __rows = <[#new]>::to_vec(rows);),
            quote! {
                #p::oracle_row::insert_batch(
                    __conn,
                    #sql,
                    #ROWS_PER_BATCH,
                    ::core::iter::Iterator::map(__rows.iter(), |__new| #values),
                )
            },
        )
    }

    fn update(&self) -> TokenStream {
        let p = &self.p;
        let st = &self.statements;
        let sets = self.cont.patch_fields().zip(&st.update_sets).map(|(f, fragment)| {
            let ident = f.ident;
            let bound = self.bind(f, quote!(__value));
            quote! {
                if let ::core::option::Option::Some(__value) = &__patch.#ident {
                    #p::oracle_row::push_set(&mut __sql, &mut __values, #fragment, #bound);
                }
            }
        });
        let (head, where_) = (&st.update_head, &st.update_where);
        let key = self.key();
        let key_bound = self.bind(key, quote!(&__key));
        let select = self.select_by_key(quote!(&__key));
        let owned = owned(key, &format_ident!("key"));
        // `UPDATE`, then the row read back in the same transaction: its absence says there was
        // no such row.
        self.write(
            // The text's fixed head: the rest is built on the connection, from the fields set.
            quote! {
                __call.text(#head);
                let __patch = ::core::clone::Clone::clone(patch);
                let __key = #owned;
            },
            quote! {
                let mut __sql = ::std::string::String::from(#head);
                let mut __values: ::std::vec::Vec<::std::boxed::Box<dyn #p::oracle::sql_type::ToSql>> =
                    ::std::vec::Vec::new();
                #(#sets)*
                __sql.push_str(#where_);
                #p::oracle_row::push_bind(&mut __sql, &mut __values, #key_bound);
                #p::oracle_row::execute(__conn, &__sql, &__values)?;
                #select
            },
        )
    }

    fn delete(&self) -> TokenStream {
        let p = &self.p;
        let sql = &self.statements.delete;
        let key = self.key();
        let owned = owned(key, &format_ident!("key"));
        let bound = self.bind(key, quote!(&__key));
        self.write(
            quote!(__call.text(#sql); let __key = #owned;),
            quote!(::core::result::Result::Ok(#p::oracle_row::execute(__conn, #sql, &[#bound])? > 0)),
        )
    }
}
