//! Code generation from a checked model. Never fails: every problem was reported by `attr.rs` or
//! `check.rs`, and invalid input gets [`stub`] instead.
//!
//! Generated code names only `::dbkit::__private::…`, `::core::…` and `::std::…`, so it works
//! whatever the user has imported or shadowed, and calls trait methods by their full path.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use crate::ast::{Container, Field, SqlType};
use crate::attr::Backend;
use crate::ctxt::Ctxt;
use crate::dialect::Dialect;
use crate::sql::Statements;
use crate::{ast, check};

/// `#[database(clickhouse)]`: its own methods, on the types and constructors generated here.
mod clickhouse;
/// `#[database(oracle)]`: the full CRUD set on the `oracle` crate.
mod oracle;

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = ast::Container::from_ast(&cx, input);
    if let Some(cont) = &cont {
        check::check(&cx, cont);
    }
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => expand(&cont),
        (Err(errors), _) => {
            let mut stub = stub(input);
            stub.extend(errors.to_compile_error());
            stub
        }
        (Ok(()), None) => unreachable!("`Container::from_ast` reports why it returns `None`"),
    }
}

/// The field's name without `r#`, for column names and method names.
pub(crate) fn unraw(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

/// The generated types' names.
struct Names<'a> {
    model: &'a syn::Ident,
    new: syn::Ident,
    patch: syn::Ident,
    repository: syn::Ident,
}

impl<'a> Names<'a> {
    fn of(model: &'a syn::Ident) -> Self {
        let base = model.unraw();
        Names {
            model,
            new: format_ident!("New{}", base),
            patch: format_ident!("{}Patch", base),
            repository: format_ident!("{}Repository", base),
        }
    }
}

/// What invalid input still gets: the generated types, empty, and the repository's constructors,
/// so that code naming them reports nothing more than the original mistake.
fn stub(input: &syn::DeriveInput) -> TokenStream {
    let names = Names::of(&input.ident);
    let (new, patch, repository) = (&names.new, &names.patch, &names.repository);
    let vis = &input.vis;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let model = &input.ident;
    let types = quote! {
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        #vis struct #new {}
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        #vis struct #patch {}
    };
    let repository_type = repository_type(vis, repository, model);
    let constructors = constructors(vis, repository, "");
    quote! {
        #types
        #repository_type
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::dbkit::__private::Model for #model #type_generics #where_clause {
                const TABLE: &'static str = "";
                const BACKEND: ::dbkit::__private::Backend = ::dbkit::__private::Backend::Sqlite;
                const CREATE_TABLE: &'static str = "";
                const DROP_TABLE: &'static str = "";
            }
            #constructors
        };
    }
}

fn expand(cont: &Container<'_>) -> TokenStream {
    let database = cont.attrs.database.as_ref().expect("checked: `#[database]` is present");
    let backend = database.backend.value;
    if backend == Backend::ClickHouse {
        return clickhouse::expand(cont);
    }
    if backend == Backend::Oracle {
        return oracle::expand(cont);
    }
    let dialect = Dialect::of(backend).expect("checked: a backend with SQL");
    let statements = Statements::new(cont, dialect);
    let names = Names::of(cont.ident);

    let methods = Methods { cont, names: &names, dialect, statements: &statements }.all();
    let ddl = (statements.create_table.as_str(), statements.drop_table.as_str());
    assemble(cont, &names, ddl, Some(patch_struct(cont, &names)), methods)
}

/// What every backend's expansion shares around its methods: `NewX` (and `XPatch` where the
/// backend updates), the repository type and its constructors, the `Model` impl, and the methods
/// behind the facade's `require_<backend>!` check, so a missing feature is one error on the
/// backend's name rather than a cascade of unresolved driver paths.
fn assemble(
    cont: &Container<'_>,
    names: &Names<'_>,
    ddl: (&str, &str),
    patch_struct: Option<TokenStream>,
    methods: TokenStream,
) -> TokenStream {
    let database = cont.attrs.database.as_ref().expect("checked: `#[database]` is present");
    let backend = database.backend.value;
    let vis = cont.vis;
    let new_struct = new_struct(cont, names);
    let repository_type = repository_type(vis, &names.repository, names.model);
    let database_name = match &database.name {
        Some(name) => name.value.clone(),
        None => backend.name().to_owned(),
    };
    let constructors = constructors(vis, &names.repository, &database_name);
    let model_impl = model_impl(cont, backend, ddl);

    let backend_span = database.backend.tokens.clone().into_iter().next().map_or(Span::call_site(), |t| t.span());
    let require = format_ident!("require_{}", backend.name(), span = backend_span);
    let gated_methods = quote_spanned! {backend_span=>
        ::dbkit::__private::#require! {
            const _: () = {
                #methods
            };
        }
    };
    quote! {
        #new_struct
        #patch_struct
        #repository_type
        const _: () = {
            #model_impl
            #constructors
        };
        #gated_methods
    }
}

fn doc(text: impl AsRef<str>) -> TokenStream {
    let text = text.as_ref();
    quote!(#[doc = #text])
}

fn new_struct(cont: &Container<'_>, names: &Names<'_>) -> TokenStream {
    let (model, new, vis) = (names.model, &names.new, cont.vis);
    let fields = cont.insert_fields().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        let doc = doc(format!("The `{}` column.", f.column()));
        quote!(#doc #vis #ident: #ty,)
    });
    let doc = doc(format!(
        "A [`{model}`] to create: every column except a database-generated key and those with a `default`. \
         Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis struct #new {
            #(#fields)*
        }
    }
}

fn patch_struct(cont: &Container<'_>, names: &Names<'_>) -> TokenStream {
    let (model, patch, vis) = (names.model, &names.patch, cont.vis);
    let fields = cont.patch_fields().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        let text = if f.nullable {
            format!("The `{}` column: `Some(value)` writes it, `Some(None)` writes NULL.", f.column())
        } else {
            format!("The `{}` column, written when `Some`.", f.column())
        };
        let doc = doc(text);
        quote!(#doc #vis #ident: ::core::option::Option<#ty>,)
    });
    let doc = doc(format!(
        "A partial update of a [`{model}`]: only the fields that are `Some` are written, in one statement; \
         an empty patch writes nothing. Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        #vis struct #patch {
            #(#fields)*
        }
    }
}

fn repository_type(vis: &syn::Visibility, repository: &syn::Ident, model: &syn::Ident) -> TokenStream {
    let doc = doc(format!(
        "The typed repository of [`{model}`]: every call takes a session from the runtime. \
         Cheap to clone. Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #repository {
            db: ::dbkit::__private::Database,
            options: ::dbkit::__private::CallOptions,
        }
    }
}

fn constructors(vis: &syn::Visibility, repository: &syn::Ident, database_name: &str) -> TokenStream {
    let p = quote!(::dbkit::__private);
    let from_manager_doc = doc(format!(
        "The repository on the database registered as `{database_name}` (see `#[database(..., name = \"...\")]`)."
    ));
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #repository {
            /// The repository on `db` (a cheap clone of the handle).
            #vis fn new(db: &#p::Database) -> Self {
                #repository { db: ::core::clone::Clone::clone(db), options: ::core::default::Default::default() }
            }

            #from_manager_doc
            #vis fn from_manager(manager: &#p::DatabaseManager) -> #p::Result<Self> {
                ::core::result::Result::Ok(Self::new(&manager.get(#database_name)?))
            }

            /// The same repository with other call options.
            #vis fn with_options(self, options: #p::CallOptions) -> Self {
                #repository { options, ..self }
            }

            /// The database this repository runs on.
            #vis fn database(&self) -> &#p::Database {
                &self.db
            }
        }
    }
}

/// `ddl`: `CREATE TABLE IF NOT EXISTS …` and `DROP TABLE IF EXISTS …`.
fn model_impl(cont: &Container<'_>, backend: Backend, ddl: (&str, &str)) -> TokenStream {
    let model = cont.ident;
    let table = cont.table();
    let backend = format_ident!(
        "{}",
        match backend {
            Backend::Sqlite => "Sqlite",
            Backend::Postgres => "Postgres",
            Backend::MySql => "MySql",
            Backend::ClickHouse => "ClickHouse",
            Backend::Oracle => "Oracle",
        }
    );
    let (create, drop) = ddl;
    let columns = crate::query::schema::columns_const(cont);
    quote! {
        #[automatically_derived]
        impl ::dbkit::__private::Model for #model {
            const TABLE: &'static ::core::primitive::str = #table;
            const BACKEND: ::dbkit::__private::Backend = ::dbkit::__private::Backend::#backend;
            const CREATE_TABLE: &'static ::core::primitive::str = #create;
            const DROP_TABLE: &'static ::core::primitive::str = #drop;
            #columns
        }
    }
}

/// One call of a generated method through the runtime: a loop over attempts, each an async block
/// (`attempt`, evaluating to `Result<output, Failure>`) that gets its session from `__call`, as
/// `dbkit_runtime::exec` describes. Every generated method — CRUD, ClickHouse, custom queries —
/// runs through this one loop.
pub(crate) fn call_loop(
    repository: &str,
    method: &str,
    write: bool,
    output: TokenStream,
    attempt: TokenStream,
) -> TokenStream {
    let p = quote!(::dbkit::__private);
    let kind = if write { quote!(Write) } else { quote!(Read) };
    quote! {
        static __OPERATION: #p::Operation =
            #p::Operation { repository: #repository, method: #method, kind: #p::OpKind::#kind };
        let mut __call = #p::Call::new(&self.db, &self.options, &__OPERATION);
        loop {
            let __outcome: ::core::result::Result<#output, #p::Failure> =
                __call.attempt(async { #attempt }).await;
            if let ::core::option::Option::Some(__result) = __call.finish(__outcome).await {
                break __result;
            }
        }
    }
}

/// The query methods of one repository.
struct Methods<'a> {
    cont: &'a Container<'a>,
    names: &'a Names<'a>,
    dialect: Dialect,
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

    fn sqlx(&self) -> TokenStream {
        quote!(::dbkit::__private::sqlx)
    }

    /// The sqlx driver type: `::dbkit::__private::sqlx::Sqlite`.
    fn db(&self) -> TokenStream {
        let sqlx = self.sqlx();
        let driver = format_ident!("{}", self.dialect.sqlx_type());
        quote!(#sqlx::#driver)
    }

    fn key(&self) -> &Field<'_> {
        self.cont.key().expect("checked: the model has a key")
    }

    fn call(&self, method: &str, write: bool, output: TokenStream, attempt: TokenStream) -> TokenStream {
        call_loop(&self.names.repository.to_string(), method, write, output, attempt)
    }

    /// `fn __decode(row) -> Result<Model>`: columns by index, in field order (the order of every
    /// generated `SELECT` and `RETURNING` list).
    fn decode_fn(&self) -> TokenStream {
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let fields = self.cont.fields.iter().enumerate().map(|(index, f)| {
            let ident = f.ident;
            let column = f.column();
            quote!(#ident: #p::decode(__row, #index, #column)?,)
        });
        quote! {
            fn __decode(__row: &<#db as #sqlx::Database>::Row) -> #p::Result<#model> {
                ::core::result::Result::Ok(#model { #(#fields)* })
            }
        }
    }

    /// Fetches at most one row with `query` on a session and decodes it.
    fn fetch_optional(&self, query: TokenStream) -> TokenStream {
        let failure = quote!(::dbkit::__private::Failure::sent);
        fetch_optional(quote!(__session), query, failure)
    }

    /// Like `fetch_optional`, in the transaction `__tx`: a failure before `COMMIT` left nothing
    /// applied.
    fn fetch_optional_in_transaction(&self, query: TokenStream) -> TokenStream {
        let failure = quote!(::dbkit::__private::Failure::not_applied);
        fetch_optional(quote!(__tx), query, failure)
    }

    fn get(&self) -> TokenStream {
        let (sqlx, db, model) = (self.sqlx(), self.db(), self.names.model);
        let key = self.key();
        let key_ty = param_type(key);
        let sql = &self.statements.select_by_key;
        let fetch = self.fetch_optional(quote!(#sqlx::query(#sql).bind(key)));
        let body = self.call(
            "get",
            false,
            quote!(::core::option::Option<#model>),
            quote! {
                let mut __session = __call.session::<#db>().await?;
                ::core::result::Result::Ok(#fetch)
            },
        );
        let doc = doc(format!("The `{model}` whose `{}` is `key`, if any.", key.column()));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn get(&self, key: #key_ty) -> ::dbkit::__private::Result<::core::option::Option<#model>> {
                #body
            }
        }
    }

    fn get_by_unique(&self) -> Vec<TokenStream> {
        let (sqlx, db, model) = (self.sqlx(), self.db(), self.names.model);
        let vis = self.cont.vis;
        self.cont
            .unique_fields()
            .zip(&self.statements.select_by_unique)
            .map(|(field, sql)| {
                let ident = field.ident;
                let method_name = format!("get_by_{}", unraw(ident));
                let method = syn::Ident::new(&method_name, ident.span());
                let ty = param_type(field);
                let fetch = self.fetch_optional(quote!(#sqlx::query(#sql).bind(#ident)));
                let body = self.call(
                    &method_name,
                    false,
                    quote!(::core::option::Option<#model>),
                    quote! {
                        let mut __session = __call.session::<#db>().await?;
                        ::core::result::Result::Ok(#fetch)
                    },
                );
                let doc = doc(format!("The `{model}` whose unique `{}` is `{}`, if any.", field.column(), unraw(ident)));
                quote! {
                    #doc
                    #vis async fn #method(&self, #ident: #ty) -> ::dbkit::__private::Result<::core::option::Option<#model>> {
                        #body
                    }
                }
            })
            .collect()
    }

    fn list(&self) -> TokenStream {
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let sql = &self.statements.list;
        let body = self.call(
            "list",
            false,
            quote!(::std::vec::Vec<#model>),
            quote! {
                let mut __session = __call.session::<#db>().await?;
                let __rows = #sqlx::query(#sql)
                    .bind(page.sql_limit())
                    .bind(page.sql_offset())
                    .fetch_all(&mut *__session)
                    .await
                    .map_err(#p::Failure::sent)?;
                let mut __values = ::std::vec::Vec::with_capacity(__rows.len());
                for __row in &__rows {
                    __values.push(__decode(__row).map_err(#p::Failure::sent)?);
                }
                ::core::result::Result::Ok(__values)
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
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let sql = &self.statements.count;
        let body = self.call(
            "count",
            false,
            quote!(::core::primitive::u64),
            quote! {
                let mut __session = __call.session::<#db>().await?;
                let __row = #sqlx::query(#sql).fetch_one(&mut *__session).await.map_err(#p::Failure::sent)?;
                let __count: ::core::primitive::i64 = #p::decode(&__row, 0, "COUNT(*)").map_err(#p::Failure::sent)?;
                ::core::result::Result::Ok(__count.unsigned_abs())
            },
        );
        let doc = doc(format!("How many `{model}`s the table holds."));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn count(&self) -> #p::Result<::core::primitive::u64> {
                #body
            }
        }
    }

    /// `.bind(&new.a).bind(&new.b)…` for the columns `NewX` carries.
    fn bind_new(&self, new: TokenStream) -> TokenStream {
        let binds = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            quote!(.bind(&#new.#ident))
        });
        quote!(#(#binds)*)
    }

    fn create(&self) -> TokenStream {
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let binds = self.bind_new(quote!(new));
        let insert_returning = &self.statements.insert_returning;
        let returning = quote! {
            let mut __session = __call.session::<#db>().await?;
            let __row = #sqlx::query(#insert_returning) #binds
                .fetch_one(&mut *__session)
                .await
                .map_err(#p::Failure::sent)?;
            __decode(&__row).map_err(#p::Failure::sent)
        };
        let attempt = if self.dialect.has_returning() {
            returning
        } else {
            // MySQL has no `INSERT … RETURNING`: insert, then read the row back by its key in the
            // same transaction, so the defaults the database filled in are returned too.
            let (insert, select) = (&self.statements.insert, &self.statements.select_by_key);
            let key = self.key();
            let key_value = if key.is_auto_key() {
                quote!(__done.last_insert_id())
            } else {
                let ident = key.ident;
                quote!(&new.#ident)
            };
            quote! {
                if __call.database().mysql_insert_returning() {
                    #returning
                } else {
                    let mut __tx = __call.begin::<#db>().await?;
                    let __done = #sqlx::query(#insert) #binds
                        .execute(&mut *__tx)
                        .await
                        .map_err(#p::Failure::not_applied)?;
                    let __row = #sqlx::query(#select)
                        .bind(#key_value)
                        .fetch_one(&mut *__tx)
                        .await
                        .map_err(#p::Failure::not_applied)?;
                    let __value = __decode(&__row).map_err(#p::Failure::not_applied)?;
                    __tx.commit().await.map_err(#p::Failure::sent)?;
                    ::core::result::Result::Ok(__value)
                }
            }
        };
        let body = self.call("create", true, quote!(#model), attempt);
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
        let (p, sqlx, db) = (quote!(::dbkit::__private), self.sqlx(), self.db());
        let columns: Vec<&Field<'_>> = self.cont.insert_fields().collect();
        // The bind-parameter limit caps a statement's rows; so does a fixed 1000, because a statement
        // also has a size limit (MySQL's `max_allowed_packet`, 16–64 MB by default) that wide rows
        // of text reach long before the parameter limit, and a thousand rows a round trip already
        // amortise its cost.
        let rows_per_statement = (self.dialect.bind_limit() / columns.len()).clamp(1, 1000);
        let head = &self.statements.insert_many_head;
        let row = columns.iter().enumerate().map(|(i, f)| {
            let ident = f.ident;
            let separator = (i > 0).then(|| quote!(__sql.push_str(", ");));
            quote! {
                #separator
                #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, &__new.#ident)?;
            }
        });
        // `AssertSqlSafe`: the text is the compile-time fragments of this model and the driver's
        // own placeholders; every value is in `__arguments`, none is formatted into the SQL.
        let attempt = quote! {
            let mut __tx = __call.begin::<#db>().await?;
            let mut __written: ::core::primitive::u64 = 0;
            for __chunk in rows.chunks(#rows_per_statement) {
                let mut __sql = ::std::string::String::from(#head);
                let mut __arguments =
                    <<#db as #sqlx::Database>::Arguments as ::core::default::Default>::default();
                for (__i, __new) in ::core::iter::Iterator::enumerate(__chunk.iter()) {
                    __sql.push_str(if __i == 0 { "(" } else { ", (" });
                    #(#row)*
                    __sql.push_str(")");
                }
                let __done = #sqlx::query_with(#sqlx::AssertSqlSafe(__sql), __arguments)
                    .execute(&mut *__tx)
                    .await
                    .map_err(#p::Failure::not_applied)?;
                __written += __done.rows_affected();
            }
            __tx.commit().await.map_err(#p::Failure::sent)?;
            ::core::result::Result::Ok(__written)
        };
        let body = self.call("create_many", true, quote!(::core::primitive::u64), attempt);
        let (new, model) = (&self.names.new, self.names.model);
        let doc = doc(format!(
            "Inserts every row in one transaction, all or nothing, with multi-row `INSERT`s of at most \
             {rows_per_statement} rows (within the backend's bind-parameter limit); returns the rows written. \
             Use it for `{model}`s in bulk."
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
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let st = self.statements;
        let fields: Vec<&Field<'_>> = self.cont.patch_fields().collect();
        let idents: Vec<&syn::Ident> = fields.iter().map(|f| f.ident).collect();
        let sets = idents.iter().zip(&st.update_sets).map(|(ident, fragment)| {
            quote! {
                if let ::core::option::Option::Some(__value) = &patch.#ident {
                    if #sqlx::Arguments::len(&__arguments) > 0 {
                        __sql.push_str(", ");
                    }
                    __sql.push_str(#fragment);
                    #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, __value)?;
                }
            }
        });
        let (head, where_) = (&st.update_head, &st.update_where);
        // `AssertSqlSafe`: as in `create_many`, only compile-time fragments and placeholders.
        let build = quote! {
            let mut __sql = ::std::string::String::from(#head);
            let mut __arguments = <<#db as #sqlx::Database>::Arguments as ::core::default::Default>::default();
            #(#sets)*
            __sql.push_str(#where_);
            #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, key)?;
        };
        let statement = quote!(#sqlx::query_with(#sqlx::AssertSqlSafe(__sql), __arguments));
        let attempt = if self.dialect.has_returning() {
            let returning = &st.update_returning;
            let fetch = self.fetch_optional(statement);
            quote! {
                #build
                __sql.push_str(#returning);
                let mut __session = __call.session::<#db>().await?;
                ::core::result::Result::Ok(#fetch)
            }
        } else {
            // Neither MySQL nor MariaDB has `UPDATE … RETURNING`: update, then read the row back in
            // the same transaction. The read, not the affected-row count (which MySQL reports as
            // rows *changed*), tells whether the row exists.
            let select = &st.select_by_key;
            let fetch = self.fetch_optional_in_transaction(quote!(#sqlx::query(#select).bind(key)));
            quote! {
                #build
                let mut __tx = __call.begin::<#db>().await?;
                #statement.execute(&mut *__tx).await.map_err(#p::Failure::not_applied)?;
                let __value = #fetch;
                __tx.commit().await.map_err(#p::Failure::sent)?;
                ::core::result::Result::Ok(__value)
            }
        };
        let body = self.call("update", true, quote!(::core::option::Option<#model>), attempt);
        let key_ty = param_type(self.key());
        let patch_ty = &self.names.patch;
        let doc = doc(format!(
            "Writes the `Some` fields of `patch` to the `{model}` whose `{}` is `key`, in one statement, and \
             returns the row after the write; `None` when there is no such row. An empty patch writes \
             nothing and returns the current row.",
            self.key().column()
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
        let (p, sqlx, db, model) = (quote!(::dbkit::__private), self.sqlx(), self.db(), self.names.model);
        let sql = &self.statements.delete;
        let body = self.call(
            "delete",
            true,
            quote!(::core::primitive::bool),
            quote! {
                let mut __session = __call.session::<#db>().await?;
                let __done = #sqlx::query(#sql).bind(key).execute(&mut *__session).await.map_err(#p::Failure::sent)?;
                ::core::result::Result::Ok(__done.rows_affected() > 0)
            },
        );
        let key_ty = param_type(self.key());
        let doc =
            doc(format!("Deletes the `{model}` whose `{}` is `key`; whether there was one.", self.key().column()));
        let vis = self.cont.vis;
        quote! {
            #doc
            #vis async fn delete(&self, key: #key_ty) -> #p::Result<::core::primitive::bool> {
                #body
            }
        }
    }
}

fn fetch_optional(executor: TokenStream, query: TokenStream, failure: TokenStream) -> TokenStream {
    quote! {
        match #query.fetch_optional(&mut *#executor).await.map_err(#failure)? {
            ::core::option::Option::Some(__row) => ::core::option::Option::Some(__decode(&__row).map_err(#failure)?),
            ::core::option::Option::None => ::core::option::Option::None,
        }
    }
}

/// How a key or unique value is passed: by value when `Copy`, `&str` for a `String`, `&[u8]` for
/// a `Vec<u8>`, by reference otherwise.
fn param_type(field: &Field<'_>) -> TokenStream {
    let ty = field.value_ty;
    match field.sql_type {
        SqlType::String => quote!(&::core::primitive::str),
        SqlType::Bytes => quote!(&[::core::primitive::u8]),
        t if t.is_copy() => ty.to_token_stream(),
        _ => quote!(&#ty),
    }
}
