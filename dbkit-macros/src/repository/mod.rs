//! `#[derive(Repository)]`: the one renderer of a repository. Every backend's `NewX`, `XPatch`,
//! `XRepository`, its constructors, the `Model` impl and every method's signature, doc, guards and
//! call loop are written here, once; a backend's [`Provider`] supplies only its statements and the
//! bodies that run them. Code generation never fails: a model that failed its checks is rendered
//! with the [`Stub`] provider next to its errors.
//!
//! Generated code names only `::dbkit::__private::…` (or the `#[repository(crate = "...")]` path),
//! `::core::…` and `::std::…`, so it works whatever the user has imported or shadowed, and calls
//! trait methods by their full path.

pub(crate) mod call;
mod methods;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;

use crate::backend::{self, Provider, Stub};
use crate::model::ast::{Names, private_path, unraw};
use crate::model::{Backend, Container, Ctxt, Field, SqlType};

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = backend::checked(&cx, input);
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => render(&cont, &Providers::Backends(backend::providers(&cont))),
        (Err(errors), Some(cont)) => {
            let mut out = render(&cont, &Providers::Stub);
            out.extend(errors.to_compile_error());
            out
        }
        (Err(errors), None) => {
            let mut out = unparsed(input);
            out.extend(errors.to_compile_error());
            out
        }
        (Ok(()), None) => unreachable!("`Container::from_ast` reports why it returns `None`"),
    }
}

fn doc(text: impl AsRef<str>) -> TokenStream {
    let text = text.as_ref();
    quote!(#[doc = #text])
}

/// What a repository's methods are rendered with: the provider of each backend the model lists,
/// in `#[database(...)]` order, or the stub's bodies for a model that failed its checks.
pub(crate) enum Providers<'a> {
    Backends(Vec<(Backend, Box<dyn Provider + 'a>)>),
    Stub,
}

impl Providers<'_> {
    /// The backends, with their providers; none for the stub.
    fn backends(&self) -> impl Iterator<Item = (Backend, &dyn Provider)> {
        let backends = match self {
            Providers::Backends(backends) => &backends[..],
            Providers::Stub => &[],
        };
        backends.iter().map(|(backend, provider)| (*backend, &**provider))
    }

    /// One attempt's body: each backend's `body`, chosen by the database's backend at run time
    /// ([`call::dispatch`]); the stub's body alone.
    fn attempt(&self, p: &TokenStream, body: impl Fn(&dyn Provider) -> TokenStream) -> TokenStream {
        match self {
            Providers::Backends(backends) => {
                call::dispatch(p, backends.iter().map(|(backend, provider)| (*backend, body(&**provider))).collect())
            }
            Providers::Stub => body(&Stub),
        }
    }
}

/// Everything generated for a model, with its providers' statements and bodies. The methods of a
/// model of real providers sit behind the facade's `require_<backend>!` gate of each backend it
/// lists, so a missing feature is one error on that backend's name rather than a cascade of
/// unresolved driver paths.
fn render(cont: &Container<'_>, providers: &Providers<'_>) -> TokenStream {
    let names = cont.names();
    let p = cont.private();
    let gated = matches!(providers, Providers::Backends(_));
    let updates = cont.backend().is_none_or(|b| b.updates());
    // The stub of a model whose field has a type dbkit does not know derives nothing on `NewX` and
    // `XPatch`: the type may not implement `Debug` or `Clone`, and saying so would be a second error.
    let derives = gated || cont.fields.iter().all(|f| f.sql_type != SqlType::Other);
    let new_struct = new_struct(cont, &names, derives);
    let patch_struct = updates.then(|| patch_struct(cont, &names, derives));
    let mut repository_type = repository_type(cont.vis, &names.repository, cont.ident, &p);
    if cont.backend().is_none_or(|b| b.runs_transactions()) {
        repository_type.extend(in_transaction(cont.vis, &names, &p));
    } else if cont.backend() == Some(Backend::ClickHouse) {
        repository_type.extend(no_transactions(cont.vis, &names.repository, &p));
    }
    // Behind the backend's feature gate with the methods: it names the runtime's ClickHouse types.
    let inserter = (gated && cont.backend() == Some(Backend::ClickHouse)).then(|| inserter(cont.vis, &names, &p));
    let backends: Vec<Backend> = providers.backends().map(|(backend, _)| backend).collect();
    let name = cont.attrs.database.as_ref().and_then(|d| d.name.as_ref()).map(|n| n.value.as_str());
    let cached = cont.attrs.cache.is_some() && gated;
    let constructors = constructors(cont.vis, &names.repository, name, &backends, cached, &p);
    let model_impl = model_impl(cont, providers);
    let unique_keys = unique_keys(cont, &names.repository, &p);
    let items = providers.backends().map(|(_, provider)| provider.items());
    let methods = methods::Methods { cont, names: &names, providers, p: &p }.render();
    let cache_items = cached.then(|| with_cache(cont, &names.repository, &p));
    let mut body = quote! {
        const _: () = {
            #(#items)*
            #inserter
            #methods
            #cache_items
        };
    };
    let mut constructors = quote! {
        const _: () = {
            #model_impl
            #unique_keys
            #constructors
        };
    };
    let mut checks = TokenStream::new();
    if let Some(cache) = cont.attrs.cache.as_ref().filter(|_| cached) {
        // A cached model needs the `redis` feature: one error on `cache` without it.
        let span = cache.tokens.clone().into_iter().next().map_or(Span::call_site(), |t| t.span());
        let path = respan(p.clone(), span);
        body = quote_spanned!(span=> #path::require_redis! { @quiet #body });
        constructors = quote_spanned!(span=> #path::require_redis! { @quiet #constructors });
        checks = quote_spanned!(span=> #path::require_redis! { @check });
    }
    if let Some(database) = cont.attrs.database.as_ref().filter(|_| gated) {
        // Gated innermost-last, so the first listed backend is the outermost gate.
        for backend in database.backends.iter().rev() {
            let span = backend.tokens.clone().into_iter().next().map_or(Span::call_site(), |t| t.span());
            let require = format_ident!("require_{}", backend.value.name(), span = span);
            // The whole path carries the backend's span, so a missing feature's error points at
            // the backend's name in `#[database(...)]`.
            let path = respan(p.clone(), span);
            body = quote_spanned!(span=> #path::#require! { @quiet #body });
            checks = quote_spanned!(span=> #path::#require! { @check } #checks);
        }
    }
    quote! {
        #new_struct
        #patch_struct
        #repository_type
        #constructors
        #checks
        #body
    }
}

/// `with_cache` and what `from_manager` attaches with, for a model with
/// `#[repository(cache(...))]`.
fn with_cache(cont: &Container<'_>, repository: &syn::Ident, p: &TokenStream) -> TokenStream {
    let vis = cont.vis;
    let doc = doc("This repository with `get` and `get_by_<unique>` reading through `cache`, and its writes \
         invalidating what they change (`#[repository(cache(...))]`). `from_manager` attaches the \
         manager's cache by itself.");
    quote! {
        #[automatically_derived]
        impl #repository {
            #doc
            #vis fn with_cache(self, cache: #p::RedisCache) -> Self {
                #repository { cache: #p::RepositoryCache::new(::core::option::Option::Some(cache)), ..self }
            }

            #[doc(hidden)]
            fn __dbkit_attach_cache(self, manager: &#p::DatabaseManager) -> Self {
                #repository { cache: #p::RepositoryCache::new(#p::manager_cache(manager)), ..self }
            }
        }
    }
}

/// The repository's view on the caller's transaction, and `in_transaction`, which makes it.
fn in_transaction(vis: &syn::Visibility, names: &Names, p: &TokenStream) -> TokenStream {
    let (repository, view) = (&names.repository, &names.in_transaction);
    let doc = doc(format!(
        "[`{repository}`]'s methods, and `get_for_update`, running on the caller's transaction: \
         from [`{repository}::in_transaction`]. Nothing is retried inside; `Database::transaction_with` \
         reruns the whole unit. Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #doc
        #[allow(dead_code)]
        #vis struct #view<'t> {
            repository: &'t #repository,
            tx: &'t mut #p::DatabaseTransaction,
        }

        #[automatically_derived]
        #[allow(dead_code)]
        impl #repository {
            /// This repository's methods on `tx`, the caller's transaction (see
            /// `Database::transaction`): several repositories share one transaction, and a write
            /// that needs its own (`create_many`) gets a savepoint in it.
            #vis fn in_transaction<'t>(&'t self, tx: &'t mut #p::DatabaseTransaction) -> #view<'t> {
                #view { repository: self, tx }
            }
        }
    }
}

/// `in_transaction` on a ClickHouse repository: its argument must implement a sealed trait that
/// nothing implements, whose diagnostic says ClickHouse has no transactions, so a call is a
/// compile error that says why rather than "no method named `in_transaction`".
fn no_transactions(vis: &syn::Visibility, repository: &syn::Ident, p: &TokenStream) -> TokenStream {
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #repository {
            /// ClickHouse has no transactions: calling this is a compile error that says so.
            #vis fn in_transaction<T: #p::ClickHouseHasNoTransactions>(&self, _tx: T) -> ::core::convert::Infallible {
                ::core::unreachable!("`ClickHouseHasNoTransactions` is sealed and has no implementations")
            }
        }
    }
}

/// `inserter` on a ClickHouse repository: batched inserts of `NewX` (`dbkit::Inserter`). Only for a
/// model that passed its checks, since it names `NewX`'s `InsertRow` implementation.
fn inserter(vis: &syn::Visibility, names: &Names, p: &TokenStream) -> TokenStream {
    let (repository, new) = (&names.repository, &names.new);
    let doc = doc(format!(
        "An inserter of [`{new}`] rows into this table: many small inserts from many tasks, written as few \
         large `INSERT`s by rows and by time, and flushed when the database drains. `insert` returns once \
         ClickHouse has written the row. See `dbkit::Inserter`. Call it within a Tokio runtime: it spawns \
         the task that writes. Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #repository {
            #doc
            #vis fn inserter(&self, options: #p::InserterOptions) -> #p::Result<#p::Inserter<#new>> {
                #p::Inserter::new(&self.db, options)
            }
        }
    }
}

/// `tokens` with every token (at any depth) spanned at `span`.
pub(super) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = proc_macro2::TokenTree::Group(respanned);
            }
            token.set_span(span);
            token
        })
        .collect()
}

/// What input that is not a struct with named fields still gets: the generated types, empty, and
/// the repository's constructors, so that code naming them reports nothing more than the mistake.
fn unparsed(input: &syn::DeriveInput) -> TokenStream {
    let names = Names::of(&input.ident);
    let (new, patch, repository) = (&names.new, &names.patch, &names.repository);
    let (vis, model) = (&input.vis, &input.ident);
    let p = private_path(Container::krate_of(input).as_ref());
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let repository_type = repository_type(vis, repository, model, &p);
    let constructors = constructors(vis, repository, None, &[], false, &p);
    quote! {
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        #vis struct #new {}
        #[allow(dead_code)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        #vis struct #patch {}
        #repository_type
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #p::Model for #model #type_generics #where_clause {
                const TABLE: &'static str = "";
                const TABLES: &'static [#p::TableDef] = &[];
            }
            #constructors
        };
    }
}

fn new_struct(cont: &Container<'_>, names: &Names, derives: bool) -> TokenStream {
    let (model, new, vis) = (cont.ident, &names.new, cont.vis);
    let serde = Serde::of(cont, new, derives);
    let (fields, functions): (Vec<_>, Vec<_>) = cont
        .insert_fields()
        .map(|f| {
            let (ident, ty) = (f.ident, f.ty);
            let doc = doc(format!("The `{}` column.", f.column()));
            // A nullable field may be left out, as serde's own `Option` fields may.
            let (attr, function) = serde.field(f, "value", f.ty, f.nullable.then(|| quote!(default,))).unzip();
            (quote!(#doc #attr #vis #ident: #ty,), function)
        })
        .unzip();
    let doc = doc(format!(
        "A [`{model}`] to create: every column except a database-generated key and those with a `default`. \
         Generated by `#[derive(Repository)]`."
    ));
    let mut derive = if derives { quote!(::core::fmt::Debug, ::core::clone::Clone,) } else { TokenStream::new() };
    let container = serde.container(&mut derive, None);
    let functions = serde.functions(functions);
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(#derive)]
        #container
        #vis struct #new {
            #(#fields)*
        }
        #functions
    }
}

fn patch_struct(cont: &Container<'_>, names: &Names, derives: bool) -> TokenStream {
    let (model, patch, vis) = (cont.ident, &names.patch, cont.vis);
    let serde = Serde::of(cont, patch, derives);
    let (fields, functions): (Vec<_>, Vec<_>) = cont
        .patch_fields()
        .map(|f| {
            let (ident, ty) = (f.ident, f.ty);
            let (text, read) = if f.nullable {
                (
                    format!("The `{}` column: `Some(value)` writes it, `Some(None)` writes NULL.", f.column()),
                    "set_nullable",
                )
            } else {
                (format!("The `{}` column, written when `Some`.", f.column()), "set")
            };
            let doc = doc(text);
            let option = quote!(::core::option::Option<#ty>);
            // Left out of the body is `None`, "not set" (the container's `default`); and so it is
            // left out of what it serializes to.
            let skip = quote!(skip_serializing_if = "::core::option::Option::is_none",);
            let (attr, function) = serde.field(f, read, &syn::parse_quote!(#option), Some(skip)).unzip();
            (quote!(#doc #attr #vis #ident: #option,), function)
        })
        .unzip();
    let doc = doc(format!(
        "A partial update of a [`{model}`]: only the fields that are `Some` are written, in one statement; \
         an empty patch writes nothing. Generated by `#[derive(Repository)]`."
    ));
    let mut derive = if derives {
        quote!(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default,)
    } else {
        quote!(::core::default::Default,)
    };
    let container = serde.container(&mut derive, Some(quote!(default,)));
    let functions = serde.functions(functions);
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(#derive)]
        #container
        #vis struct #patch {
            #(#fields)*
        }
        #functions
    }
}

/// serde on `NewX` and `XPatch`, for `#[repository(serde)]`: the derives, and a
/// `deserialize_with` function per field that hands `request_body` the field's name, so that a
/// value that does not fit is an error naming the field. serde's `deserialize_with` takes a path,
/// hence functions of the struct rather than closures.
struct Serde<'c> {
    /// `serde`, spanned at the model's `#[repository(serde)]`; `None` without it, and for the stub
    /// of a model whose field type dbkit does not know (it may not implement serde's traits, and
    /// saying so would be a second error).
    path: Option<&'c TokenStream>,
    ty: &'c syn::Ident,
    p: TokenStream,
    /// `p` as a string, for `#[serde(crate = "...")]`.
    krate: String,
}

impl<'c> Serde<'c> {
    fn of(cont: &'c Container<'_>, ty: &'c syn::Ident, derives: bool) -> Serde<'c> {
        Serde {
            path: cont.attrs.serde.as_ref().filter(|_| derives),
            ty,
            p: cont.private(),
            krate: format!("{}::serde", cont.private_str()),
        }
    }

    /// Adds serde's derives to `derive`, and returns the container attribute: serde found through
    /// the facade, and unknown fields refused, so a misspelt field is an error, not a change lost.
    fn container(&self, derive: &mut TokenStream, extra: Option<TokenStream>) -> Option<TokenStream> {
        let path = self.path?;
        let (p, krate) = (&self.p, &self.krate);
        derive.extend(quote_spanned!(span_of(path)=> #p::serde::Serialize, #p::serde::Deserialize));
        Some(quote!(#[serde(crate = #krate, deny_unknown_fields, #extra)]))
    }

    /// The field's `#[serde(...)]`, and the function it names, which reads the field as a `ty`
    /// through `request_body::<read>`.
    fn field(
        &self,
        f: &Field<'_>,
        read: &str,
        ty: &syn::Type,
        extra: Option<TokenStream>,
    ) -> Option<(TokenStream, TokenStream)> {
        self.path?;
        let (p, name) = (&self.p, unraw(f.ident));
        let function = format_ident!("__dbkit_deserialize_{}", name);
        let read = format_ident!("{}", read);
        let with = format!("{}::{function}", self.ty);
        Some((
            quote!(#[serde(deserialize_with = #with, #extra)]),
            quote! {
                #[doc(hidden)]
                fn #function<'de, D: #p::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<#ty, D::Error> {
                    #p::request_body::#read(deserializer, #name)
                }
            },
        ))
    }

    /// The fields' functions, in an `impl` of the struct.
    fn functions(&self, functions: Vec<Option<TokenStream>>) -> Option<TokenStream> {
        self.path?;
        let ty = self.ty;
        Some(quote! {
            #[automatically_derived]
            impl #ty {
                #(#functions)*
            }
        })
    }
}

fn span_of(tokens: &TokenStream) -> Span {
    tokens.clone().into_iter().next().map_or(Span::call_site(), |t| t.span())
}

fn repository_type(vis: &syn::Visibility, repository: &syn::Ident, model: &syn::Ident, p: &TokenStream) -> TokenStream {
    let doc = doc(format!(
        "The typed repository of [`{model}`]: every call takes a session from the runtime. \
         Cheap to clone. Generated by `#[derive(Repository)]`."
    ));
    quote! {
        #doc
        #[allow(dead_code)]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #repository {
            db: #p::Database,
            options: #p::CallOptions,
            cache: #p::RepositoryCache,
        }
    }
}

fn constructors(
    vis: &syn::Visibility,
    repository: &syn::Ident,
    name: Option<&str>,
    backends: &[Backend],
    cached: bool,
    p: &TokenStream,
) -> TokenStream {
    let listed = backends.iter().map(|b| format!("`{}`", b.name())).collect::<Vec<_>>().join(", ");
    let from_manager_doc = doc(match (name, backends) {
        (Some(name), _) => format!(
            "The repository on the database registered as `{name}` (`#[database(..., name = \"{name}\")]`); \
             an error if there is none, or if it is not one of {listed}."
        ),
        (None, [one]) => format!(
            "The repository on the database registered as `{}`; an error if there is none, or if it is not {}.",
            one.name(),
            one.product()
        ),
        (None, _) => format!(
            "The repository on the database registered under one of {listed}: an error if none is, or if \
             several are (name one with `#[database(..., name = \"...\")]`, or use `new`)."
        ),
    });
    let new_doc = doc(if backends.len() > 1 {
        format!(
            "The repository on `db` (a cheap clone of the handle), which runs on whichever of {listed} \
             `db` is connected to. A call on a database of another backend fails with \
             `Error::BackendMismatch` before anything is sent."
        )
    } else {
        "The repository on `db` (a cheap clone of the handle). A call on a database of another backend \
         fails with `Error::BackendMismatch` before anything is sent."
            .to_owned()
    });
    let name = match name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    let variants = backends.iter().map(|b| format_ident!("{}", b.runtime_variant()));
    let repository_name = repository.to_string();
    // A cached repository takes the manager's cache (`redis`, or its only one) when it has one.
    let attach = cached.then(|| quote!(.__dbkit_attach_cache(manager)));
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #repository {
            #new_doc
            #vis fn new(db: &#p::Database) -> Self {
                #repository {
                    db: ::core::clone::Clone::clone(db),
                    options: ::core::default::Default::default(),
                    cache: ::core::default::Default::default(),
                }
            }

            #from_manager_doc
            #vis fn from_manager(manager: &#p::DatabaseManager) -> #p::Result<Self> {
                let db = #p::repository_database(manager, #repository_name, #name, &[#(#p::Backend::#variants),*])?;
                ::core::result::Result::Ok(Self::new(&db) #attach)
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

/// `impl Model`: the table, and on each backend the model lists its DDL and its columns (for
/// `Database::verify_schema`), in field order.
fn model_impl(cont: &Container<'_>, providers: &Providers<'_>) -> TokenStream {
    let (model, p) = (cont.ident, cont.private());
    let table = cont.table();
    let tables = providers.backends().map(|(backend, provider)| {
        let variant = format_ident!("{}", backend.runtime_variant());
        let (create, drop) = provider.ddl();
        let columns = cont.fields.iter().map(|f| {
            let name = f.column();
            let sql_type = provider.declared_type(f);
            let (nullable, key) = (f.nullable, f.is_key());
            quote!(#p::Column::new(#name, #sql_type, #nullable, #key))
        });
        quote!(#p::TableDef::new(#p::Backend::#variant, #create, #drop, &[#(#columns),*]))
    });
    quote! {
        #[automatically_derived]
        impl #p::Model for #model {
            const TABLE: &'static ::core::primitive::str = #table;
            const TABLES: &'static [#p::TableDef] = &[#(#tables),*];
        }
    }
}

/// The model's key and `#[unique]` columns with their fields, which every generated write hands
/// its call (`call::call_loop`) so that a unique clash names the field. An associated constant of
/// the repository, so that `#[dbkit::queries]` methods, written in another `impl` of it, reach it
/// as `Self::…` too; as visible as the repository's methods, so that such an `impl` may sit in
/// any module that can name the repository.
fn unique_keys(cont: &Container<'_>, repository: &syn::Ident, p: &TokenStream) -> TokenStream {
    let vis = cont.vis;
    let pair = |f: &Field<'_>| {
        let (column, field) = (f.column(), f.ident.unraw().to_string());
        quote!((#column, #field))
    };
    let table = cont.table();
    let key = match cont.key() {
        Some(key) => {
            let key = pair(key);
            quote!(::core::option::Option::Some(#key))
        }
        None => quote!(::core::option::Option::None),
    };
    let unique = cont.unique_fields().map(pair);
    quote! {
        #[automatically_derived]
        impl #repository {
            #[doc(hidden)]
            #[allow(dead_code)]
            #vis const __DBKIT_UNIQUE_KEYS: &'static #p::UniqueKeys = &#p::UniqueKeys::new(#table, #key, &[#(#unique),*]);
        }
    }
}
