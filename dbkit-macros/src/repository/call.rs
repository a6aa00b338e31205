//! The call loop every generated method runs, CRUD and custom queries alike.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::Backend;

/// One call of a generated method through the runtime: a loop over attempts, each an async block
/// (`attempt`, evaluating to `Result<output, Failure>`) that gets its session from `__call`, as
/// `dbkit_runtime::exec` describes. `p` is the path of the facade's `__private` module.
///
/// `transactional`: the method has `__tx: Option<&mut DatabaseTransaction>` in scope, the
/// caller's transaction when called through `in_transaction` (SQL backends only).
///
/// `statement` is the call's `db.operation.name` and `db.collection.name` (`("SELECT", "users")`):
/// the method's metrics and its span, named by the two (`SELECT users`), are labelled with them
/// (see `dbkit_runtime::observe`).
pub(crate) fn call_loop(
    p: &TokenStream,
    repository: &str,
    method: &str,
    write: bool,
    transactional: bool,
    statement: (&str, &str),
    attempt: TokenStream,
) -> TokenStream {
    let kind = if write { quote!(Write) } else { quote!(Read) };
    let (name, collection) = statement;
    let summary = if collection.is_empty() { name.to_owned() } else { format!("{name} {collection}") };
    let operation = quote!(&__DBKIT_OPERATION);
    let mut call = if transactional {
        quote!(#p::Call::with_transaction(&self.db, &self.options, #operation, __tx))
    } else {
        quote!(#p::Call::new(&self.db, &self.options, #operation))
    };
    if write {
        // A write that breaks a constraint names it, and a unique clash the model's field: the
        // repository's keys (`repository::unique_keys`), read only if the call fails.
        call.extend(quote!(.unique_keys(Self::__DBKIT_UNIQUE_KEYS)));
    }
    // The `Operation` is a `static` of the method: it caches the method's metric handle. The span
    // is made here, in the method, so that each method is its own callsite, named by its summary;
    // the call holds it and enters it around each attempt (`Call::trace`). The attempt's type is
    // inferred from the method's return type through `finish`.
    quote! {
        static __DBKIT_OPERATION: #p::Operation =
            #p::Operation::new(#repository, #method, #p::OpKind::#kind, #name, #collection);
        let mut __call = #call;
        __call.trace(#p::call_span!(#summary, __call, #name, #collection));
        loop {
            // Pinned in place, not moved into `attempt`: see `Call::attempt`.
            let __outcome = {
                let __attempt = ::core::pin::pin!(async { #attempt });
                __call.attempt(__attempt).await
            };
            if let ::core::option::Option::Some(__result) = __call.finish(__outcome).await {
                break __result;
            }
        }
    }
}

/// One attempt's body on whichever of the model's backends the call's database is: a `match` on
/// the backend, one arm per backend with its provider's body — the statements of every dialect
/// are fixed at compile time, and choosing among them is a branch. A database of another backend
/// fails before anything is sent, with `Error::BackendMismatch` naming both. (rustc lays the arms'
/// states over each other, so the attempt's future is as large as the largest backend's, not
/// their sum; the `backend_dispatch` bench prints both sizes.)
pub(crate) fn dispatch(p: &TokenStream, arms: Vec<(Backend, TokenStream)>) -> TokenStream {
    let (variants, bodies): (Vec<_>, Vec<_>) =
        arms.into_iter().map(|(backend, body)| (format_ident!("{}", backend.runtime_variant()), body)).unzip();
    quote! {
        match __call.database().backend() {
            #(#p::Backend::#variants => { #bodies })*
            _ => ::core::result::Result::Err(__call.wrong_backend(&[#(#p::Backend::#variants),*])),
        }
    }
}
