//! What a backend supplies to the repository renderer.

use proc_macro2::TokenStream;

use crate::model::Field;

/// A backend's part of a generated repository: its DDL, its private items, and for each method
/// one attempt's body. The renderer (`crate::repository`) writes the method around it — signature,
/// doc, guards and the call loop of `dbkit_runtime::exec` — so a body is the inside of
/// `__call.attempt(async { … })`: it gets its session from `__call`, has the method's arguments
/// in scope under their names (`key`, `page`, `new`, `rows`, `patch`, a unique field's name), and
/// evaluates to `Result<output, Failure>`.
///
/// `create`, `update` and `delete` are asked for only of a backend that
/// [`updates`](crate::model::Backend::updates).
pub(crate) trait Provider {
    /// `CREATE TABLE IF NOT EXISTS …` and `DROP TABLE IF EXISTS …` (or the backend's equivalent).
    fn ddl(&self) -> (String, String);

    /// The column type the DDL declares for `field`, for `Model::COLUMNS` (the schema drift
    /// check); empty where the check does not run.
    fn declared_type(&self, _field: &Field<'_>) -> String {
        String::new()
    }

    /// Private items the bodies use (a row decoder, row structs), emitted once beside the methods.
    fn items(&self) -> TokenStream;

    /// The sentence of `create_many`'s doc that says how rows are sent.
    fn create_many_doc(&self) -> String;

    fn get(&self) -> TokenStream;
    /// `get_for_update`: asked only of a backend whose transactions `Database::transaction` runs
    /// ([`runs_transactions`](crate::model::Backend::runs_transactions)).
    fn get_for_update(&self) -> TokenStream {
        unreachable!("asked only of a backend with transactions")
    }
    /// `get_by_<field>`; `index` is the field's position among the unique fields.
    fn get_by(&self, field: &Field<'_>, index: usize) -> TokenStream;
    fn list(&self) -> TokenStream;
    fn count(&self) -> TokenStream;
    fn create(&self) -> TokenStream;
    fn create_many(&self) -> TokenStream;
    /// Runs only with a patch that has at least one field set.
    fn update(&self) -> TokenStream;
    fn delete(&self) -> TokenStream;
}
