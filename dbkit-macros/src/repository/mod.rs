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

use crate::backend::{self, Provider, Stub};
use crate::model::ast::{Names, private_path};
use crate::model::{Container, Ctxt, SqlType};

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = backend::checked(&cx, input);
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => render(&cont, &*backend::provider(&cont), true),
        (Err(errors), Some(cont)) => {
            let mut out = render(&cont, &Stub, false);
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

/// Everything generated for a model, with `provider`'s statements and bodies. With `gated` (a
/// real provider), the methods sit behind the facade's `require_<backend>!` check, so a missing
/// feature is one error on the backend's name rather than a cascade of unresolved driver paths.
fn render(cont: &Container<'_>, provider: &dyn Provider, gated: bool) -> TokenStream {
    let names = cont.names();
    let p = cont.private();
    let updates = cont.backend().is_none_or(|b| b.updates());
    // The stub of a model whose field has a type dbkit does not know derives nothing on `NewX` and
    // `XPatch`: the type may not implement `Debug` or `Clone`, and saying so would be a second error.
    let derives = gated || cont.fields.iter().all(|f| f.sql_type != SqlType::Other);
    let new_struct = new_struct(cont, &names, derives);
    let patch_struct = updates.then(|| patch_struct(cont, &names, derives));
    let repository_type = repository_type(cont.vis, &names.repository, cont.ident, &p);
    let database_name = match &cont.attrs.database {
        Some(database) => database.name.as_ref().map_or(database.backend.value.name(), |n| &n.value).to_owned(),
        None => String::new(),
    };
    let constructors = constructors(cont.vis, &names.repository, &database_name, &p);
    let model_impl = model_impl(cont, provider);
    let items = provider.items();
    let methods = methods::Methods { cont, names: &names, provider, p: &p, stub: !gated }.render();
    let mut body = quote! {
        const _: () = {
            #items
            #methods
        };
    };
    if let Some(database) = cont.attrs.database.as_ref().filter(|_| gated) {
        let span = database.backend.tokens.clone().into_iter().next().map_or(Span::call_site(), |t| t.span());
        let require = format_ident!("require_{}", database.backend.value.name(), span = span);
        body = quote_spanned!(span=> #p::#require! { #body });
    }
    quote! {
        #new_struct
        #patch_struct
        #repository_type
        const _: () = {
            #model_impl
            #constructors
        };
        #body
    }
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
    let constructors = constructors(vis, repository, "", &p);
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
                const BACKEND: #p::Backend = #p::Backend::Sqlite;
                const CREATE_TABLE: &'static str = "";
                const DROP_TABLE: &'static str = "";
            }
            #constructors
        };
    }
}

fn new_struct(cont: &Container<'_>, names: &Names, derives: bool) -> TokenStream {
    let (model, new, vis) = (cont.ident, &names.new, cont.vis);
    let fields = cont.insert_fields().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        let doc = doc(format!("The `{}` column.", f.column()));
        quote!(#doc #vis #ident: #ty,)
    });
    let doc = doc(format!(
        "A [`{model}`] to create: every column except a database-generated key and those with a `default`. \
         Generated by `#[derive(Repository)]`."
    ));
    let derive = derives.then(|| quote!(#[derive(::core::fmt::Debug, ::core::clone::Clone)]));
    quote! {
        #doc
        #[allow(dead_code)]
        #derive
        #vis struct #new {
            #(#fields)*
        }
    }
}

fn patch_struct(cont: &Container<'_>, names: &Names, derives: bool) -> TokenStream {
    let (model, patch, vis) = (cont.ident, &names.patch, cont.vis);
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
    let derive = if derives {
        quote!(#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)])
    } else {
        quote!(#[derive(::core::default::Default)])
    };
    quote! {
        #doc
        #[allow(dead_code)]
        #derive
        #vis struct #patch {
            #(#fields)*
        }
    }
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
        }
    }
}

fn constructors(vis: &syn::Visibility, repository: &syn::Ident, database_name: &str, p: &TokenStream) -> TokenStream {
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

/// `impl Model`: the table, the backend, the DDL and the columns (for `Database::verify_schema`),
/// in field order.
fn model_impl(cont: &Container<'_>, provider: &dyn Provider) -> TokenStream {
    let (model, p) = (cont.ident, cont.private());
    let table = cont.table();
    let backend = format_ident!("{}", cont.backend().map_or("Sqlite", |b| b.runtime_variant()));
    let (create, drop) = provider.ddl();
    let columns = cont.fields.iter().map(|f| {
        let name = f.column();
        let sql_type = provider.declared_type(f);
        let (nullable, key) = (f.nullable, f.is_key());
        quote!(#p::Column::new(#name, #sql_type, #nullable, #key))
    });
    quote! {
        #[automatically_derived]
        impl #p::Model for #model {
            const TABLE: &'static ::core::primitive::str = #table;
            const BACKEND: #p::Backend = #p::Backend::#backend;
            const CREATE_TABLE: &'static ::core::primitive::str = #create;
            const DROP_TABLE: &'static ::core::primitive::str = #drop;
            const COLUMNS: &'static [#p::Column] = &[#(#columns),*];
        }
    }
}
