//! The call loop every generated method runs, CRUD and custom queries alike.

use proc_macro2::TokenStream;
use quote::quote;

/// One call of a generated method through the runtime: a loop over attempts, each an async block
/// (`attempt`, evaluating to `Result<output, Failure>`) that gets its session from `__call`, as
/// `dbkit_runtime::exec` describes. `p` is the path of the facade's `__private` module.
pub(crate) fn call_loop(
    p: &TokenStream,
    repository: &str,
    method: &str,
    write: bool,
    output: &TokenStream,
    attempt: TokenStream,
) -> TokenStream {
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
