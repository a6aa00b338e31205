//! The hand-off between the two macros: an attribute on `impl UserRepository` cannot see the `User`
//! struct, so the derive emits, next to `User`, a `macro_rules! __dbkit_model_User` that calls
//! `__queries_expand!` with the derive's own input prepended to whatever it is given.
//! `#[dbkit::queries]` rewrites the impl block into a call of that macro (and of each join
//! partner's, one after the other), and [`expand`] receives every model's definition.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};

use super::schema::Schema;
use crate::model::Container;
use crate::model::ast::private_path;

/// The name of the macro the derive emits for `model`.
fn model_macro_name(model: &syn::Ident, span: Span) -> syn::Ident {
    format_ident!("__dbkit_model_{}", model.unraw(), span = span)
}

/// Emitted by `#[derive(Repository)]` next to the model: the callback that hands the model's
/// definition to the query macro.
pub(crate) fn model_macro(input: &syn::DeriveInput) -> TokenStream {
    let name = model_macro_name(&input.ident, Span::call_site());
    // The struct goes in as written, minus the attributes of other derives (a `$` in them would
    // confuse `macro_rules!`): dbkit reads only its own.
    let mut model = input.clone();
    model.attrs.retain(|a| ["database", "repository"].iter().any(|name| a.path().is_ident(name)));
    if let syn::Data::Struct(data) = &mut model.data {
        for field in data.fields.iter_mut() {
            field.attrs.retain(|a| ["key", "unique", "column"].iter().any(|name| a.path().is_ident(name)));
        }
    }
    let p = private_path(Container::krate_of(input).as_ref());
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            ($($rest:tt)*) => {
                #p::queries_expand! { { #model } $($rest)* }
            };
        }
    }
}

/// The arguments of `#[dbkit::queries(...)]`.
#[derive(Default)]
struct Args {
    join: Vec<syn::Ident>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen_join = false;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key != "join" {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`: `#[dbkit::queries]` takes `join = [Model, …]`, the models whose tables the queries join"
                    ),
                ));
            }
            if seen_join {
                return Err(syn::Error::new(
                    key.span(),
                    "`join` is given twice: list every model in one `join = [...]`",
                ));
            }
            seen_join = true;
            input.parse::<syn::Token![=]>()?;
            let content;
            syn::bracketed!(content in input);
            let models = content.parse_terminated(syn::Ident::parse, syn::Token![,])?;
            args.join.extend(models);
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// `#[dbkit::queries]` on `impl XRepository { … }`: becomes a call of `__dbkit_model_X!` (which the
/// derive of `X` defined) carrying the join partners still to fetch and the impl block.
pub(crate) fn queries(args: TokenStream, item: TokenStream) -> TokenStream {
    // A mistake in the arguments is reported, and the queries are still checked (without join
    // partners), so the methods exist and nothing else cascades from it.
    let (args, args_error) = match syn::parse2::<Args>(args) {
        Ok(args) => (args, None),
        Err(e) => (Args::default(), Some(e.to_compile_error())),
    };
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "`#[dbkit::queries]` goes on an `impl UserRepository { … }` block of a repository that `#[derive(Repository)]` generated",
            );
            return with_error(item, e);
        }
    };
    let Some(model) = model_of_repository(&item_impl.self_ty) else {
        let e = syn::Error::new_spanned(
            &item_impl.self_ty,
            "`#[dbkit::queries]` goes on the impl block of a generated repository, like `impl UserRepository` for `User`",
        );
        return with_error(item, e);
    };
    let callback = model_macro_name(&model, model.span());
    let pending = &args.join;
    quote! {
        #callback! { [#(#pending),*] #item }
        #args_error
    }
}

/// `UserRepository` → `User`.
pub(super) fn model_of_repository(ty: &syn::Type) -> Option<syn::Ident> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let name = last.ident.unraw().to_string();
    let model = name.strip_suffix("Repository").filter(|m| !m.is_empty())?;
    Some(syn::Ident::new(model, last.ident.span()))
}

fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut out = item;
    out.extend(error.to_compile_error());
    out
}

/// What the callbacks build up: `{ model }… [pending, …] impl …`. Fetches the next pending
/// model's definition, or, with all in hand, checks and generates the queries.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter().peekable();
    let mut models = Vec::new();
    let mut pending = TokenStream::new();
    for token in tokens.by_ref() {
        match token {
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Brace => models.push(g.stream()),
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::Bracket => {
                pending = g.stream();
                break;
            }
            other => {
                return syn::Error::new(other.span(), "dbkit internal: malformed query expansion").to_compile_error();
            }
        }
    }
    let rest: TokenStream = tokens.collect();
    let mut pending: Vec<syn::Ident> = match syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
        pending,
    ) {
        Ok(list) => list.into_iter().collect(),
        Err(e) => return e.to_compile_error(),
    };
    if !pending.is_empty() {
        let next = pending.remove(0);
        let callback = model_macro_name(&next, next.span());
        let models = models.iter().map(|m| quote!({ #m }));
        return quote! {
            #callback! { #(#models)* [#(#pending),*] #rest }
        };
    }
    let schemas: Vec<Schema> = models
        .into_iter()
        .filter_map(|m| syn::parse2::<syn::DeriveInput>(m).ok())
        .filter_map(|input| Schema::from_input(&input))
        .collect();
    let item_impl = match syn::parse2::<syn::ItemImpl>(rest) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    super::expand_impl(item_impl, schemas)
}
