//! Every method of a repository — signature, doc, guards and call loop — written once for every
//! backend; the provider supplies each attempt's body.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

use super::call::call_loop;
use super::{Providers, doc};
use crate::model::ast::Names;
use crate::model::{Backend, Container, Field};

pub(super) struct Methods<'a> {
    pub(super) cont: &'a Container<'a>,
    pub(super) names: &'a Names,
    pub(super) providers: &'a Providers<'a>,
    /// `::dbkit::__private`.
    pub(super) p: &'a TokenStream,
}

/// A method to render: its name, doc, parameters, output type, whether it writes, the statements
/// before the call loop (`guard`), and one attempt's body.
struct Method {
    name: syn::Ident,
    /// `db.operation.name`: the verb of its statement.
    verb: &'static str,
    doc: String,
    params: TokenStream,
    /// The parameters' names, in order, as arguments.
    args: TokenStream,
    output: TokenStream,
    write: bool,
    guard: TokenStream,
    attempt: TokenStream,
    /// Only on the view on the caller's transaction (`get_for_update`).
    in_transaction_only: bool,
    /// What the method does with the cache of a model with `#[repository(cache(...))]`.
    cache: Option<CacheRole>,
}

/// A method's part in the cache of a model with `#[repository(cache(...))]`.
enum CacheRole {
    /// Reads the row through the cache, by key.
    Get,
    /// Reads the key through the cache by this unique field, then the row by key.
    GetBy(usize),
    /// Makes these keys stale (an expression of the method's arguments, a `Vec<String>`): they
    /// are invalidated after the write, or, in a unit of work, once it commits.
    Write(TokenStream),
}

impl Methods<'_> {
    pub(super) fn render(&self) -> TokenStream {
        let backend = self.cont.backend();
        let mut methods = vec![self.get()];
        methods.extend(self.cont.unique_fields().enumerate().map(|(index, field)| self.get_by(field, index)));
        methods.push(self.list());
        methods.push(self.count());
        let updates = backend.is_none_or(|b| b.updates());
        if updates {
            methods.push(self.create());
        }
        methods.push(self.create_many());
        if updates {
            methods.push(self.update());
            methods.push(self.delete());
        }
        let (repository, in_transaction) = (&self.names.repository, &self.names.in_transaction);
        let stub = matches!(self.providers, Providers::Stub);
        let allow_stub = stub.then(|| quote!(#[allow(unreachable_code, unused_variables)]));
        if !self.transactional() {
            let methods = methods.into_iter().map(|m| self.method(m).0);
            return quote! {
                #[automatically_derived]
                #[allow(dead_code)]
                #allow_stub
                impl #repository {
                    #(#methods)*
                }
            };
        }
        methods.push(self.get_for_update());
        let (methods, views): (Vec<_>, Vec<_>) = methods.into_iter().map(|m| self.method(m)).unzip();
        quote! {
            #[automatically_derived]
            #[allow(dead_code)]
            #allow_stub
            impl #repository {
                #(#methods)*
            }

            #[automatically_derived]
            #[allow(dead_code)]
            impl #in_transaction<'_> {
                #(#views)*
            }
        }
    }

    /// Whether the repository has a view on the caller's transaction: its backends have
    /// transactions that `Database::transaction` runs.
    fn transactional(&self) -> bool {
        self.cont.backend().is_none_or(|b| b.runs_transactions())
    }

    /// A method of the repository and, for a transactional one, of its view on the caller's
    /// transaction. Transactional: the body is a private `__dbkit_<name>` taking the transaction
    /// (or `None`), and both `name`s call it.
    fn method(&self, method: Method) -> (TokenStream, TokenStream) {
        let Method { name, verb, doc: text, params, args, output, write, guard, attempt, in_transaction_only, cache } =
            method;
        let cache = cache.filter(|_| self.cached());
        let (p, vis) = (self.p, self.cont.vis);
        let transactional = self.transactional();
        let table = self.cont.table();
        let statement = (verb, table.as_str());
        let body = call_loop(
            p,
            &self.names.repository.to_string(),
            &name.to_string(),
            write,
            transactional,
            statement,
            attempt,
        );
        let doc = doc(text);
        if !transactional {
            let method = quote! {
                #doc
                #vis async fn #name(&self, #params) -> #p::Result<#output> {
                    #guard
                    #body
                }
            };
            return (method, TokenStream::new());
        }
        let inner = format_ident!("__dbkit_{}", name);
        let public = (!in_transaction_only).then(|| {
            let body = match &cache {
                // One span around the cache's decision (an event in it) and, on a miss, the
                // database call's own span.
                Some(role) => {
                    let cached = self.cached_method(role, &inner, &args);
                    let summary = format!("{verb} {table}");
                    quote! {
                        let __span = if !#p::spans_wanted() {
                            #p::tracing::Span::none()
                        } else {
                            #p::tracing::info_span!(
                                target: "dbkit",
                                #summary,
                                db.operation.name = #verb,
                                db.collection.name = #table,
                                db.query.summary = #summary,
                                dbkit.cached = true,
                            )
                        };
                        #p::Instrument::instrument(async { #cached }, __span).await
                    }
                }
                None => quote!(self.#inner(::core::option::Option::None, #args).await),
            };
            quote! {
                #doc
                #vis async fn #name(&self, #params) -> #p::Result<#output> {
                    #body
                }
            }
        });
        let method = quote! {
            async fn #inner(
                &self,
                __tx: ::core::option::Option<&mut #p::DatabaseTransaction>,
                #params
            ) -> #p::Result<#output> {
                #guard
                #body
            }

            #public
        };
        // In a unit of work reads bypass the cache (they see the unit's own writes), and writes
        // queue their invalidations for the commit.
        let queue = match &cache {
            Some(CacheRole::Write(keys)) => quote! {
                if let ::core::option::Option::Some(__cache) = self.repository.cache.get() {
                    self.tx.invalidate_on_commit(__cache, #keys);
                }
            },
            _ => TokenStream::new(),
        };
        let view = quote! {
            #doc
            #vis async fn #name(&mut self, #params) -> #p::Result<#output> {
                #queue
                self.repository.#inner(::core::option::Option::Some(&mut *self.tx), #args).await
            }
        };
        (method, view)
    }

    /// Whether the model's reads go through a cache when one is attached.
    fn cached(&self) -> bool {
        self.cont.attrs.cache.is_some() && !matches!(self.providers, Providers::Stub)
    }

    /// `"{table}:{hash}:"`, the prefix of every cache key of the model: the hash is of its columns
    /// and their types, so two structs on one table, or a deploy that changes the struct, never
    /// decode each other's values.
    fn cache_prefix(&self) -> String {
        // FNV-1a: stable across builds and platforms, which `std`'s hasher does not promise.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for field in &self.cont.fields {
            let shape = format!("{}:{}:{};", field.column(), field.ty.to_token_stream(), field.nullable);
            for byte in shape.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{}:{hash:016x}:", self.cont.table())
    }

    /// `"{prefix}{field}="`, the prefix of the keys that map a unique value to the row's key.
    fn unique_prefix(&self, field: &Field<'_>) -> String {
        format!("{}{}=", self.cache_prefix(), field.column())
    }

    /// The cache keys a write makes stale, as an expression of its arguments: the row's key, and
    /// the unique values it writes (whose absence may be cached).
    fn stale_keys(
        &self,
        key: Option<TokenStream>,
        new: Option<TokenStream>,
        patch: Option<TokenStream>,
    ) -> TokenStream {
        let p = self.p;
        let mut pushes = Vec::new();
        if let Some(key) = key {
            let prefix = self.cache_prefix();
            pushes.push(quote!(__keys.push(#p::cache_key(#prefix, &#key));));
        }
        for field in self.cont.unique_fields() {
            let (ident, prefix) = (field.ident, self.unique_prefix(field));
            let push = quote!(__keys.push(#p::cache_key(#prefix, __value)););
            if let Some(new) = &new
                && self.cont.insert_fields().any(|f| f.ident == field.ident)
            {
                pushes.push(if field.nullable {
                    quote!(if let ::core::option::Option::Some(__value) = &#new.#ident { #push })
                } else {
                    quote!({ let __value = &#new.#ident; #push })
                });
            }
            if let Some(patch) = &patch
                && self.cont.patch_fields().any(|f| f.ident == field.ident)
            {
                pushes.push(if field.nullable {
                    quote!(if let ::core::option::Option::Some(::core::option::Option::Some(__value)) = &#patch.#ident { #push })
                } else {
                    quote!(if let ::core::option::Option::Some(__value) = &#patch.#ident { #push })
                });
            }
        }
        quote! {{
            let mut __keys: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
            #(#pushes)*
            __keys
        }}
    }

    /// [`stale_keys`](Self::stale_keys) of every row `create_many` writes.
    fn stale_keys_of_rows(&self) -> TokenStream {
        let one = self.stale_keys(None, Some(quote!(__row)), None);
        quote! {
            rows.iter().flat_map(|__row| #one).collect::<::std::vec::Vec<::std::string::String>>()
        }
    }

    /// The public method of a cached model: `role`'s read through the cache, or the write and then
    /// its invalidation. `inner` is the method's body, on no transaction.
    fn cached_method(&self, role: &CacheRole, inner: &syn::Ident, args: &TokenStream) -> TokenStream {
        let p = self.p;
        let ttl = self.cont.attrs.cache.as_ref().map_or(0, |c| c.value);
        let how = quote!(#p::ReadThrough::new(::core::time::Duration::from_millis(#ttl)));
        // The reads that need the model to be serde's, spanned at `cache`: a model without serde
        // is an error there, whose message says what to derive (`Cacheable`).
        let span = self
            .cont
            .attrs
            .cache
            .as_ref()
            .and_then(|c| c.tokens.clone().into_iter().next())
            .map_or(proc_macro2::Span::call_site(), |t| t.span());
        let read_row = super::respan(quote!(#p::read_row), span);
        let uncached = quote!(self.#inner(::core::option::Option::None, #args).await);
        match role {
            CacheRole::Get => {
                let prefix = self.cache_prefix();
                quote! {
                    let ::core::option::Option::Some(__cache) = self.cache.get() else { return #uncached };
                    // Absent rows are not cached by key: `create_many` does not learn the keys it
                    // creates, so it could not end a cached absence.
                    let __how = #how.cache_absent(false);
                    let __key = #p::cache_key(#prefix, &key);
                    #read_row(__cache, &__key, __how, async || #uncached).await
                }
            }
            CacheRole::GetBy(index) => {
                let field = self.cont.unique_fields().nth(*index).expect("a unique field");
                let (ident, prefix) = (field.ident, self.unique_prefix(field));
                let key = self.cont.key().expect("a checked model has a key");
                let key_ident = key.ident;
                let as_param = match key.sql_type {
                    crate::model::SqlType::String | crate::model::SqlType::Bytes => quote!(&__key),
                    t if t.is_copy() => quote!(__key),
                    _ => quote!(&__key),
                };
                let same = match (field.sql_type, field.nullable) {
                    (crate::model::SqlType::String | crate::model::SqlType::Bytes, false) => {
                        quote!(__row.#ident == #ident)
                    }
                    (crate::model::SqlType::String | crate::model::SqlType::Bytes, true) => {
                        quote!(__row.#ident.as_deref() == ::core::option::Option::Some(#ident))
                    }
                    (t, false) if t.is_copy() => quote!(__row.#ident == #ident),
                    (t, true) if t.is_copy() => quote!(__row.#ident == ::core::option::Option::Some(#ident)),
                    (_, false) => quote!(__row.#ident == *#ident),
                    (_, true) => quote!(__row.#ident.as_ref() == ::core::option::Option::Some(#ident)),
                };
                quote! {
                    let ::core::option::Option::Some(__cache) = self.cache.get() else { return #uncached };
                    // The unique value maps to the key, and the row is read by key; a row whose
                    // value has changed since (or that is gone) ends the mapping.
                    let __mapping = #p::cache_key(#prefix, &#ident);
                    let __found = #p::read_key(__cache, &__mapping, #how, async || {
                        ::core::result::Result::Ok(#uncached?.map(|__row| __row.#key_ident))
                    })
                    .await?;
                    let ::core::option::Option::Some(__key) = __found else { return ::core::result::Result::Ok(::core::option::Option::None) };
                    match self.get(#as_param).await? {
                        ::core::option::Option::Some(__row) if #same => ::core::result::Result::Ok(::core::option::Option::Some(__row)),
                        _ => {
                            let _ = __cache.invalidate(&[&__mapping]).await;
                            #uncached
                        }
                    }
                }
            }
            CacheRole::Write(keys) => quote! {
                let __stale = #keys;
                let __result = #uncached;
                // After the write, whatever its result: one that failed may have applied.
                if let ::core::option::Option::Some(__cache) = self.cache.get() {
                    let __stale: ::std::vec::Vec<&::core::primitive::str> = __stale.iter().map(::std::string::String::as_str).collect();
                    let _ = __cache.invalidate(&__stale).await;
                }
                __result
            },
        }
    }

    fn model(&self) -> &syn::Ident {
        self.cont.ident
    }

    /// The key's parameter type. A model that failed its checks may have no key: its stub takes
    /// anything, so that code calling `get` reports nothing more than the model's mistake.
    fn key_param(&self) -> TokenStream {
        match self.cont.key() {
            Some(key) => key.param_type(),
            None => quote!(impl ::core::marker::Sized),
        }
    }

    fn key_column(&self) -> String {
        self.cont.key().map(Field::column).unwrap_or_default()
    }

    /// What a lookup's doc adds where the database does not enforce uniqueness.
    fn several(&self, what: &str) -> String {
        match self.cont.backend() {
            Some(backend) if !backend.enforces_unique() => {
                format!(" ({} does not enforce {what}: one of them if several)", backend.product())
            }
            _ => String::new(),
        }
    }

    /// `create_many`'s doc: how rows are sent, per backend where backends differ.
    fn create_many_doc(&self) -> String {
        let docs: Vec<(Backend, String)> =
            self.providers.backends().map(|(backend, provider)| (backend, provider.create_many_doc())).collect();
        match &docs[..] {
            [] => String::new(),
            [(_, doc)] => doc.clone(),
            [(_, first), rest @ ..] if rest.iter().all(|(_, doc)| doc == first) => first.clone(),
            _ => docs
                .iter()
                .map(|(backend, doc)| format!("On {}: {doc}", backend.product()))
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }

    fn get(&self) -> Method {
        let (model, key_ty) = (self.model(), self.key_param());
        Method {
            name: syn::parse_quote!(get),
            verb: "SELECT",
            doc: format!(
                "The `{model}` whose `{}` is `key`, if any{}.",
                self.key_column(),
                self.several("a unique key")
            ),
            params: quote!(key: #key_ty),
            args: quote!(key),
            output: quote!(::core::option::Option<#model>),
            write: false,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.get()),
            in_transaction_only: false,
            cache: Some(CacheRole::Get),
        }
    }

    /// `get_for_update`, on the view on the caller's transaction only: a locking read.
    fn get_for_update(&self) -> Method {
        let (model, key_ty) = (self.model(), self.key_param());
        Method {
            name: syn::parse_quote!(get_for_update),
            verb: "SELECT",
            doc: format!(
                "The `{model}` whose `{}` is `key`, if any, locking its row until the transaction ends \
                 (`SELECT … FOR UPDATE` on PostgreSQL, MySQL/MariaDB and Oracle). On SQLite it is a plain read: \
                 SQLite has no row locks and serializes writers on the whole database; a transaction \
                 that read a row another has since changed fails at its first write with a retryable \
                 busy error, and `Database::transaction_with` runs it again.",
                self.key_column()
            ),
            params: quote!(key: #key_ty),
            args: quote!(key),
            output: quote!(::core::option::Option<#model>),
            write: false,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.get_for_update()),
            in_transaction_only: true,
            cache: None,
        }
    }

    fn get_by(&self, field: &Field<'_>, index: usize) -> Method {
        let (model, ident, ty) = (self.model(), field.ident, field.param_type());
        let name = field.name();
        Method {
            name: syn::Ident::new(&format!("get_by_{name}"), ident.span()),
            verb: "SELECT",
            doc: format!(
                "The `{model}` whose unique `{}` is `{name}`, if any{}.",
                field.column(),
                self.several("`#[unique]`")
            ),
            params: quote!(#ident: #ty),
            args: quote!(#ident),
            output: quote!(::core::option::Option<#model>),
            write: false,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.get_by(field, index)),
            in_transaction_only: false,
            cache: Some(CacheRole::GetBy(index)),
        }
    }

    fn list(&self) -> Method {
        let (p, model) = (self.p, self.model());
        Method {
            name: syn::parse_quote!(list),
            verb: "SELECT",
            doc: format!("One page of `{model}`s, ordered by `{}` ascending.", self.key_column()),
            params: quote!(page: #p::Page),
            args: quote!(page),
            output: quote!(::std::vec::Vec<#model>),
            write: false,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.list()),
            in_transaction_only: false,
            cache: None,
        }
    }

    fn count(&self) -> Method {
        Method {
            name: syn::parse_quote!(count),
            verb: "SELECT",
            doc: format!("How many `{}`s the table holds.", self.model()),
            params: quote!(),
            args: quote!(),
            output: quote!(::core::primitive::u64),
            write: false,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.count()),
            in_transaction_only: false,
            cache: None,
        }
    }

    fn create(&self) -> Method {
        let (model, new) = (self.model(), &self.names.new);
        Method {
            name: syn::parse_quote!(create),
            verb: "INSERT",
            doc: format!(
                "Inserts `new` and returns the stored `{model}`, with the generated key and the column defaults filled in."
            ),
            params: quote!(new: &#new),
            args: quote!(new),
            output: quote!(#model),
            write: true,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.create()),
            in_transaction_only: false,
            cache: Some(CacheRole::Write(self.stale_keys(None, Some(quote!(new)), None))),
        }
    }

    fn create_many(&self) -> Method {
        let new = &self.names.new;
        Method {
            name: syn::parse_quote!(create_many),
            verb: "INSERT",
            doc: self.create_many_doc(),
            params: quote!(rows: &[#new]),
            args: quote!(rows),
            output: quote!(::core::primitive::u64),
            write: true,
            guard: quote! {
                if rows.is_empty() {
                    return ::core::result::Result::Ok(0);
                }
            },
            attempt: self.providers.attempt(self.p, |provider| provider.create_many()),
            in_transaction_only: false,
            cache: Some(CacheRole::Write(self.stale_keys_of_rows())),
        }
    }

    fn update(&self) -> Method {
        let (model, patch, key_ty) = (self.model(), &self.names.patch, self.key_param());
        let idents: Vec<&syn::Ident> = self.cont.patch_fields().map(|f| f.ident).collect();
        // An empty patch reads the row back, in the caller's transaction when there is one.
        let read_back =
            if self.transactional() { quote!(self.__dbkit_get(__tx, key).await) } else { quote!(self.get(key).await) };
        // A stub of a model with only a key has no patch fields; its body is never reached.
        let guard = (!idents.is_empty()).then(|| {
            quote! {
                if #(patch.#idents.is_none())&&* {
                    return #read_back;
                }
            }
        });
        Method {
            name: syn::parse_quote!(update),
            verb: "UPDATE",
            doc: format!(
                "Writes the `Some` fields of `patch` to the `{model}` whose `{}` is `key`, in one statement, and \
                 returns the row after the write; `None` when there is no such row. An empty patch writes \
                 nothing and returns the current row.",
                self.key_column()
            ),
            params: quote!(key: #key_ty, patch: &#patch),
            args: quote!(key, patch),
            output: quote!(::core::option::Option<#model>),
            write: true,
            guard: quote!(#guard),
            attempt: self.providers.attempt(self.p, |provider| provider.update()),
            in_transaction_only: false,
            cache: Some(CacheRole::Write(self.stale_keys(Some(quote!(key)), None, Some(quote!(patch))))),
        }
    }

    fn delete(&self) -> Method {
        let (model, key_ty) = (self.model(), self.key_param());
        Method {
            name: syn::parse_quote!(delete),
            verb: "DELETE",
            doc: format!("Deletes the `{model}` whose `{}` is `key`; whether there was one.", self.key_column()),
            params: quote!(key: #key_ty),
            args: quote!(key),
            output: quote!(::core::primitive::bool),
            write: true,
            guard: quote!(),
            attempt: self.providers.attempt(self.p, |provider| provider.delete()),
            in_transaction_only: false,
            cache: Some(CacheRole::Write(self.stale_keys(Some(quote!(key)), None, None))),
        }
    }
}
