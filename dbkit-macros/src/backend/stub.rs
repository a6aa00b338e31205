//! What a model that parsed but failed its checks gets, as thiserror's `fallback.rs` does: the
//! repository with every method, whose bodies are never reached (the build fails on the reported
//! mistake), so one mistake is one error, never a cascade in the code that uses the repository.

use proc_macro2::TokenStream;
use quote::quote;

use super::provider::Provider;
use crate::model::Field;

pub(crate) struct Stub;

impl Stub {
    fn never() -> TokenStream {
        quote!(::core::result::Result::Err(::core::unreachable!()))
    }
}

impl Provider for Stub {
    fn ddl(&self) -> (String, String) {
        (String::new(), String::new())
    }

    fn items(&self) -> TokenStream {
        TokenStream::new()
    }

    fn create_many_doc(&self) -> String {
        String::new()
    }

    fn get(&self) -> TokenStream {
        Stub::never()
    }

    fn get_for_update(&self) -> TokenStream {
        Stub::never()
    }

    fn get_by(&self, _field: &Field<'_>, _index: usize) -> TokenStream {
        Stub::never()
    }

    fn list(&self) -> TokenStream {
        Stub::never()
    }

    fn count(&self) -> TokenStream {
        Stub::never()
    }

    fn create(&self) -> TokenStream {
        Stub::never()
    }

    fn create_many(&self) -> TokenStream {
        Stub::never()
    }

    fn update(&self) -> TokenStream {
        Stub::never()
    }

    fn delete(&self) -> TokenStream {
        Stub::never()
    }
}
