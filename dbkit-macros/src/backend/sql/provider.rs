//! The bodies of a SQLite, PostgreSQL or MySQL/MariaDB repository, on sqlx.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Dialect;
use super::statements::Statements;
use crate::backend::provider::Provider;
use crate::model::{Container, Field};

pub(crate) struct SqlProvider<'a> {
    cont: &'a Container<'a>,
    dialect: Dialect,
    statements: Statements,
    /// `::dbkit::__private`.
    p: TokenStream,
    /// The row decoder's name, one per dialect (`__decode_sqlite`): a model of several backends
    /// has one decoder for each, side by side.
    decode: syn::Ident,
}

impl<'a> SqlProvider<'a> {
    pub(crate) fn new(cont: &'a Container<'a>, dialect: Dialect) -> Self {
        let decode = format_ident!("__decode_{}", dialect.backend().name());
        SqlProvider { cont, dialect, statements: Statements::new(cont, dialect), p: cont.private(), decode }
    }

    fn sqlx(&self) -> TokenStream {
        let p = &self.p;
        quote!(#p::sqlx)
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

    /// The rows a `create_many` statement carries: the bind-parameter limit caps them, and so does
    /// a fixed 1000, because a statement also has a size limit (MySQL's `max_allowed_packet`,
    /// 16–64 MB by default) that wide rows of text reach long before the parameter limit, and a
    /// thousand rows a round trip already amortise its cost.
    fn rows_per_statement(&self) -> usize {
        (self.dialect.bind_limit() / self.cont.insert_fields().count()).clamp(1, 1000)
    }

    /// Fetches at most one row with `query` on `executor` and decodes it; a failure is `failure`'s.
    fn fetch_optional(&self, executor: TokenStream, query: TokenStream, failure: TokenStream) -> TokenStream {
        let (p, db, decode) = (&self.p, self.db(), &self.decode);
        quote!(#p::fetch_optional::<#db, _, _>(#query, &mut *#executor, #decode).await.map_err(#p::Failure::#failure))
    }

    /// `.bind(&new.a).bind(&new.b)…` for the columns `NewX` carries.
    fn bind_new(&self) -> TokenStream {
        let binds = self.cont.insert_fields().map(|f| {
            let ident = f.ident;
            quote!(.bind(&new.#ident))
        });
        quote!(#(#binds)*)
    }
}

impl Provider for SqlProvider<'_> {
    fn ddl(&self) -> (String, String) {
        (self.statements.create_table.clone(), self.statements.drop_table.clone())
    }

    fn declared_type(&self, field: &Field<'_>) -> String {
        self.dialect.declared_type(field)
    }

    /// `fn __decode_<dialect>(row) -> Result<Model>`: columns by index, in field order (the order of every
    /// generated `SELECT` and `RETURNING` list).
    fn items(&self) -> TokenStream {
        let (p, sqlx, db, model) = (&self.p, self.sqlx(), self.db(), self.cont.ident);
        let fields = self.cont.fields.iter().enumerate().map(|(index, f)| {
            let ident = f.ident;
            let column = f.column();
            quote!(#ident: #p::decode(__row, #index, #column)?,)
        });
        let decode = &self.decode;
        quote! {
            fn #decode(__row: &<#db as #sqlx::Database>::Row) -> #p::Result<#model> {
                ::core::result::Result::Ok(#model { #(#fields)* })
            }
        }
    }

    fn create_many_doc(&self) -> String {
        format!(
            "Inserts every row in one transaction, all or nothing, with multi-row `INSERT`s of at most {} rows \
             (within the backend's bind-parameter limit); returns the rows written. Use it for `{}`s in bulk.",
            self.rows_per_statement(),
            self.cont.ident,
        )
    }

    fn get(&self) -> TokenStream {
        let (sqlx, db) = (self.sqlx(), self.db());
        let sql = &self.statements.select_by_key;
        let fetch = self.fetch_optional(quote!(__session), quote!(#sqlx::query(#sql).bind(key)), quote!(sent));
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            #fetch
        }
    }

    /// `SELECT … FOR UPDATE` on PostgreSQL and MySQL; SQLite has no row locks (its writers are
    /// serialized on the whole database), so there it is `get`.
    fn get_for_update(&self) -> TokenStream {
        if self.dialect == Dialect::Sqlite {
            return self.get();
        }
        let (sqlx, db) = (self.sqlx(), self.db());
        let sql = format!("{} FOR UPDATE", self.statements.select_by_key);
        let fetch = self.fetch_optional(quote!(__session), quote!(#sqlx::query(#sql).bind(key)), quote!(sent));
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            #fetch
        }
    }

    fn get_by(&self, field: &Field<'_>, index: usize) -> TokenStream {
        let (sqlx, db) = (self.sqlx(), self.db());
        let sql = &self.statements.select_by_unique[index];
        let ident = field.ident;
        let fetch = self.fetch_optional(quote!(__session), quote!(#sqlx::query(#sql).bind(#ident)), quote!(sent));
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            #fetch
        }
    }

    fn list(&self) -> TokenStream {
        let (p, sqlx, db, decode) = (&self.p, self.sqlx(), self.db(), &self.decode);
        let sql = &self.statements.list;
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            let __query = #sqlx::query(#sql).bind(page.sql_limit()).bind(page.sql_offset());
            #p::fetch_all::<#db, _, _>(__query, &mut *__session, #decode).await.map_err(#p::Failure::sent)
        }
    }

    fn count(&self) -> TokenStream {
        let (p, sqlx, db) = (&self.p, self.sqlx(), self.db());
        let sql = &self.statements.count;
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            let __row = #sqlx::query(#sql).fetch_one(&mut *__session).await.map_err(#p::Failure::sent)?;
            let __count: ::core::primitive::i64 = #p::decode(&__row, 0, "COUNT(*)").map_err(#p::Failure::sent)?;
            ::core::result::Result::Ok(__count.unsigned_abs())
        }
    }

    fn create(&self) -> TokenStream {
        let (p, sqlx, db, decode) = (&self.p, self.sqlx(), self.db(), &self.decode);
        let binds = self.bind_new();
        let insert_returning = &self.statements.insert_returning;
        let returning = quote! {
            __call.text(#insert_returning);
            let mut __session = __call.session::<#db>().await?;
            let __query = #sqlx::query(#insert_returning) #binds;
            #p::fetch_one::<#db, _, _>(__query, &mut *__session, #decode).await.map_err(#p::Failure::sent)
        };
        if self.dialect.has_returning() {
            return returning;
        }
        // MySQL has no `INSERT … RETURNING`: insert, then read the row back by its key in the same
        // transaction, so the defaults the database filled in are returned too.
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
                __call.text(#insert);
                let mut __tx = __call.begin::<#db>().await?;
                let __done = #sqlx::query(#insert) #binds
                    .execute(&mut *__tx)
                    .await
                    .map_err(#p::Failure::not_applied)?;
                let __query = #sqlx::query(#select).bind(#key_value);
                let __value = #p::fetch_one::<#db, _, _>(__query, &mut *__tx, #decode)
                    .await
                    .map_err(#p::Failure::not_applied)?;
                __tx.commit().await.map_err(#p::Failure::sent)?;
                ::core::result::Result::Ok(__value)
            }
        }
    }

    fn create_many(&self) -> TokenStream {
        let (p, sqlx, db) = (&self.p, self.sqlx(), self.db());
        let rows_per_statement = self.rows_per_statement();
        let head = &self.statements.insert_many_head;
        let row = self.cont.insert_fields().enumerate().map(|(i, f)| {
            let ident = f.ident;
            let separator = (i > 0).then(|| quote!(__sql.push_str(", ");));
            quote! {
                #separator
                #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, &__new.#ident)?;
            }
        });
        // `AssertSqlSafe`: the text is the compile-time fragments of this model and the driver's
        // own placeholders; every value is in `__arguments`, none is formatted into the SQL.
        quote! {
            __call.text(#head);
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
        }
    }

    fn update(&self) -> TokenStream {
        let (p, sqlx, db) = (&self.p, self.sqlx(), self.db());
        let st = &self.statements;
        let sets = self.cont.patch_fields().zip(&st.update_sets).map(|(field, assignment)| {
            let ident = field.ident;
            quote! {
                #p::push_set::<#db, _>(&mut __sql, &mut __arguments, #assignment, ::core::option::Option::as_ref(&patch.#ident))?;
            }
        });
        let (head, where_) = (&st.update_head, &st.update_where);
        // Room for the longest statement (every field set, placeholders of up to 5 characters), so
        // that building it is one allocation, not one per doubling.
        let returning = if self.dialect.has_returning() { st.update_returning.len() } else { 0 };
        let capacity = head.len()
            + st.update_sets.iter().map(|set| set.len() + ", ".len() + 5).sum::<usize>()
            + where_.len()
            + 5
            + returning;
        // `AssertSqlSafe`: as in `create_many`, only compile-time fragments and placeholders.
        let build = quote! {
            let mut __sql = ::std::string::String::with_capacity(#capacity);
            __sql.push_str(#head);
            let mut __arguments = <<#db as #sqlx::Database>::Arguments as ::core::default::Default>::default();
            #(#sets)*
            __sql.push_str(#where_);
            #p::push_bind::<#db, _>(&mut __sql, &mut __arguments, key)?;
            __call.text(&__sql);
        };
        let statement = quote!(#sqlx::query_with(#sqlx::AssertSqlSafe(__sql), __arguments));
        if self.dialect.has_returning() {
            let returning = &st.update_returning;
            let fetch = self.fetch_optional(quote!(__session), statement, quote!(sent));
            return quote! {
                #build
                __sql.push_str(#returning);
                let mut __session = __call.session::<#db>().await?;
                #fetch
            };
        }
        // Neither MySQL nor MariaDB has `UPDATE … RETURNING`: update, then read the row back in
        // the same transaction. The read, not the affected-row count (which MySQL reports as rows
        // *changed*), tells whether the row exists. A failure before `COMMIT` left nothing applied.
        let select = &st.select_by_key;
        let fetch = self.fetch_optional(quote!(__tx), quote!(#sqlx::query(#select).bind(key)), quote!(not_applied));
        quote! {
            #build
            let mut __tx = __call.begin::<#db>().await?;
            #statement.execute(&mut *__tx).await.map_err(#p::Failure::not_applied)?;
            let __value = #fetch?;
            __tx.commit().await.map_err(#p::Failure::sent)?;
            ::core::result::Result::Ok(__value)
        }
    }

    fn delete(&self) -> TokenStream {
        let (p, sqlx, db) = (&self.p, self.sqlx(), self.db());
        let sql = &self.statements.delete;
        quote! {
            __call.text(#sql);
            let mut __session = __call.session::<#db>().await?;
            let __done = #sqlx::query(#sql).bind(key).execute(&mut *__session).await.map_err(#p::Failure::sent)?;
            ::core::result::Result::Ok(__done.rows_affected() > 0)
        }
    }
}
