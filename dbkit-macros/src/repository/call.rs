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
    attempt: TokenStream,
) -> TokenStream {
    let kind = if write { quote!(Write) } else { quote!(Read) };
    // The `Operation` is a constant struct literal, promoted to a `'static`; the attempt's type is
    // inferred from the method's return type through `finish`.
    quote! {
        let mut __call = #p::Call::new(
            &self.db,
            &self.options,
            &#p::Operation { repository: #repository, method: #method, kind: #p::OpKind::#kind },
        );
        loop {
            if let ::core::option::Option::Some(__result) = __call.finish(__call.attempt(async { #attempt }).await).await {
                break __result;
            }
        }
    }
}
