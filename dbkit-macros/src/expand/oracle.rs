//! The code of a `#[database(oracle)]` repository: the full CRUD set, on the `oracle` crate.
//!
//! The crate blocks, so each attempt takes an `OracleSession` from `__call.oracle()` and runs one
//! closure on the blocking pool. The closure owns what it binds (the method's arguments are
//! cloned into it) and calls the helpers of `::dbkit::__private::oracle_row`, which bind and read
//! each Rust type (`OracleColumn`). Every write runs in `oracle_row::transaction`: the connection
//! never autocommits, so a write commits when it succeeded and rolls back when it failed.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Names, doc, param_type, patch_struct, unraw};
use crate::ast::{Container, Field};
use crate::oracle::{ROWS_PER_BATCH, Statements};

pub(super) fn expand(cont: &Container<'_>) -> TokenStream {
    let statements = Statements::new(cont);
    let names = Names::of(cont.ident);
    let methods = Methods { cont, names: &names, statements: &statements }.all();
    let ddl = (statements.create_table.as_str(), statements.drop_table.as_str());
    super::assemble(cont, &names, ddl, Some(patch_struct(cont, &names)), methods)
}

/// `oracle_row::bind(&value)`, or `bind_option` for a nullable column.
fn bind(field: &Field<'_>, value: TokenStream) -> TokenStream {
    if field.nullable {
        quote!(::dbkit::__private::oracle_row::bind_option(#value))
    } else {
        quote!(::dbkit::__private::oracle_row::bind(#value))
    }
}

/// The owned copy of a key or unique argument (`param_type`) the closure moves in.
fn owned(field: &Field<'_>, value: &syn::Ident) -> TokenStream {
    if field.sql_type.is_copy() { quote!(#value) } else { quote!(::std::borrow::ToOwned::to_owned(#value)) }
}

struct Methods<'a> {
    cont: &'a Container<'a>,
    names: &'a Names<'a>,
    statements: &'a Statements,
}

impl Methods<'_> {
    fn all(&self) -> TokenStream {
        let repository = &self.names.repository;
        let decode = self.decode_fn();
        let get = self.get();
        let get_by = self.get_by_unique();
        let list = self.list();
        let count = self.count();
        let create = self.create();
        let create_many = self.create_many();
        let update = self.update();
        let delete = self.delete();
        quote! {
            #decode

            #[automatically_derived]
            #[allow(dead_code)]
            impl #repository {
                #get
                #(#get_by)*
                #list
                #count
                #create
                #create_many
                #update
                #delete
            }
        }
    }

    fn key(&self) -> &Field<'_> {
        self.cont.key().expect("checked: the model has a key")
    }

    fn call(&self, method: &str, write: bool, output: TokenStream, attempt: TokenStream) -> TokenStream {
        super::call_loop(&self.names.repository.to_string(), method, write, output, attempt)
    }

    /// `fn __decode(row) -> oracle::Result<Model>`: columns by index, in field order.
    fn decode_fn(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
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

    /// A read: `body` runs on the connection `__conn` and returns an `oracle::Result`.
    fn read(&self, method: &str, output: TokenStream, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = quote!(::dbkit::__private);
        self.call(
            method,
            false,
            output,
            quote! {
                #setup
                let __session = __call.oracle().await?;
                __session.run(move |__conn| { #body }).await.map_err(#p::Failure::sent)
            },
        )
    }

    /// A write: `body` runs in a transaction on `__conn`, committed when it returns `Ok`.
    fn write(&self, method: &str, output: TokenStream, setup: TokenStream, body: TokenStream) -> TokenStream {
        let p = quote!(::dbkit::__private);
        self.call(
            method,
            true,
            output,
            quote! {
                #setup
                let __session = __call.oracle().await?;
                #p::oracle_row::transaction_outcome(
                    __session.run(move |__conn| #p::oracle_row::transaction(__conn, |__conn| { #body })).await,
                )
            },
        )
    }

    fn select_by_key(&self, key: TokenStream) -> TokenStream {
        let p = quote!(::dbkit::__private);
        let sql = &self.statements.select_by_key;
        let bound = bind(self.key(), key);
        quote!(#p::oracle_row::query_optional(__conn, #sql, &[#bound], __decode))
    }

    fn get(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let key = self.key();
        let key_ty = param_type(key);
        let owned = owned(key, &format_ident!("key"));
        let select = self.select_by_key(quote!(&__key));
        let body = self.read("get", quote!(::core::option::Option<#model>), quote!(let __key = #owned;), select);
        let doc = doc(format!("The `{model}` whose `{}` is `key`, if any.", key.column()));
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
                let owned = owned(field, ident);
                let bound = bind(field, quote!(&__value));
                let body = self.read(
                    &method_name,
                    quote!(::core::option::Option<#model>),
                    quote!(let __value = #owned;),
                    quote!(#p::oracle_row::query_optional(__conn, #sql, &[#bound], __decode)),
                );
                let doc =
                    doc(format!("The `{model}` whose unique `{}` is `{}`, if any.", field.column(), unraw(ident)));
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
        let body = self.read(
            "list",
            quote!(::std::vec::Vec<#model>),
            quote!(let (__offset, __limit) = (page.sql_offset(), page.sql_limit());),
            quote! {
                #p::oracle_row::query_all(
                    __conn,
                    #sql,
                    &[#p::oracle_row::bind(&__offset), #p::oracle_row::bind(&__limit)],
                    __decode,
                )
            },
        );
        let doc = doc(format!("One page of `{model}`s, ordered by `{}` ascending.", self.key().column()));
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
        let body =
            self.read("count", quote!(::core::primitive::u64), quote!(), quote!(#p::oracle_row::count(__conn, #sql)));
        let doc = doc(format!("How many `{model}`s the table holds."));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn count(&self) -> #p::Result<::core::primitive::u64> {
                #body
            }
        }
    }

    /// `[bind(&new.a), bind(&new.b), …]` for the columns `NewX` carries.
    fn bind_new(&self, new: TokenStream) -> TokenStream {
        let binds = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            bind(f, quote!(&#new.#ident))
        });
        quote!(::std::vec![#(#binds),*])
    }

    fn create(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let key = self.key();
        let values = self.bind_new(quote!(__new));
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
        let body = self.write(
            "create",
            quote!(#model),
            quote!(let __new = ::core::clone::Clone::clone(new);),
            quote! {
                #insert
                #p::oracle_row::written(#select?)
            },
        );
        let new = &self.names.new;
        let doc = doc(format!(
            "Inserts `new` and returns the stored `{model}`, with the generated key and the column defaults filled in."
        ));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn create(&self, new: &#new) -> #p::Result<#model> {
                #body
            }
        }
    }

    fn create_many(&self) -> TokenStream {
        let (p, model, new) = (quote!(::dbkit::__private), self.names.model, &self.names.new);
        let sql = &self.statements.insert;
        let values = self.bind_new(quote!(__new));
        let body = self.write(
            "create_many",
            quote!(::core::primitive::u64),
            quote!(let __rows = <[#new]>::to_vec(rows);),
            quote! {
                #p::oracle_row::insert_batch(
                    __conn,
                    #sql,
                    #ROWS_PER_BATCH,
                    ::core::iter::Iterator::map(__rows.iter(), |__new| #values),
                )
            },
        );
        let doc = doc(format!(
            "Inserts every row in one transaction, all or nothing, as array binds of at most {ROWS_PER_BATCH} rows \
             a round trip (`executemany`); returns the rows written. Use it for `{model}`s in bulk."
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

    fn update(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let st = self.statements;
        let fields: Vec<&Field<'_>> = self.cont.patch_fields().collect();
        let idents: Vec<&syn::Ident> = fields.iter().map(|f| f.ident).collect();
        let sets = fields.iter().zip(&st.update_sets).map(|(f, fragment)| {
            let ident = f.ident;
            let bound = bind(f, quote!(__value));
            quote! {
                if let ::core::option::Option::Some(__value) = &__patch.#ident {
                    #p::oracle_row::push_set(&mut __sql, &mut __values, #fragment, #bound);
                }
            }
        });
        let (head, where_) = (&st.update_head, &st.update_where);
        let key = self.key();
        let key_bound = bind(key, quote!(&__key));
        let select = self.select_by_key(quote!(&__key));
        // `UPDATE`, then the row read back in the same transaction: its absence says there was
        // no such row.
        let body = self.write(
            "update",
            quote!(::core::option::Option<#model>),
            {
                let owned = owned(key, &format_ident!("key"));
                quote! {
                    let __patch = ::core::clone::Clone::clone(patch);
                    let __key = #owned;
                }
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
        );
        let key_ty = param_type(key);
        let patch_ty = &self.names.patch;
        let doc = doc(format!(
            "Writes the `Some` fields of `patch` to the `{model}` whose `{}` is `key`, in one statement, and \
             returns the row after the write; `None` when there is no such row. An empty patch writes \
             nothing and returns the current row.",
            key.column()
        ));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn update(&self, key: #key_ty, patch: &#patch_ty) -> #p::Result<::core::option::Option<#model>> {
                if #(patch.#idents.is_none())&&* {
                    return self.get(key).await;
                }
                #body
            }
        }
    }

    fn delete(&self) -> TokenStream {
        let (p, model) = (quote!(::dbkit::__private), self.names.model);
        let sql = &self.statements.delete;
        let key = self.key();
        let owned = owned(key, &format_ident!("key"));
        let bound = bind(key, quote!(&__key));
        let body = self.write(
            "delete",
            quote!(::core::primitive::bool),
            quote!(let __key = #owned;),
            quote!(::core::result::Result::Ok(#p::oracle_row::execute(__conn, #sql, &[#bound])? > 0)),
        );
        let key_ty = param_type(key);
        let doc = doc(format!("Deletes the `{model}` whose `{}` is `key`; whether there was one.", key.column()));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn delete(&self, key: #key_ty) -> #p::Result<::core::primitive::bool> {
                #body
            }
        }
    }
}
