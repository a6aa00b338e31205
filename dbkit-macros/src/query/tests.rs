//! Unit tests of the query checks, on `proc_macro2` types.

use super::analyze::Analysis;
use super::dialect::QueryDialect;
use super::text::Piece;
use super::*;
use crate::backend::sql::Dialect;

fn user() -> Schema {
    let input: syn::DeriveInput = syn::parse_quote! {
        #[database(sqlite)]
        #[repository(table = "users")]
        struct User {
            #[key(auto)]
            id: i64,
            #[unique]
            email: String,
            bio: Option<String>,
        }
    };
    Schema::from_input(&input).expect("a model")
}

fn analyze(sql: &str) -> Result<Analysis, Vec<String>> {
    let scanned = text::scan(sql, QueryDialect::Sql(Dialect::Sqlite)).map_err(|e| vec![e])?;
    analyze::analyze(&scanned, QueryDialect::Sql(Dialect::Sqlite), &[user()])
}

#[test]
fn resolves_columns_and_parameters() {
    let a = analyze("SELECT u.* FROM users u WHERE u.email LIKE :pattern AND id IN (:ids)").ok().unwrap();
    assert!(!a.write);
    assert_eq!(a.compared.get(&0), Some(&(0, 1)));
    assert_eq!(a.compared.get(&1), Some(&(0, 0)));
    assert!(a.in_lists.contains(&1));
}

#[test]
fn reports_unknown_tables_and_columns() {
    let errors = analyze("SELECT emial FROM users").err().unwrap();
    assert!(errors[0].contains("did you mean `email`"), "{errors:?}");
    let errors = analyze("SELECT id FROM posts").err().unwrap();
    assert!(errors[0].contains("table `posts`"), "{errors:?}");
    let errors = analyze("SELEC id FROM users").err().unwrap();
    assert!(errors[0].contains("not valid SQLite SQL"), "{errors:?}");
}

#[test]
fn wildcard_expands_to_the_model_columns() {
    let a = analyze("SELECT * FROM users WHERE id = :id").ok().unwrap();
    let mut text = a.text.clone();
    let layout = model_layout(a.projection.as_ref().unwrap(), &[user()], QueryDialect::Sql(Dialect::Sqlite), &mut text)
        .ok()
        .unwrap();
    assert_eq!(layout, [0, 1, 2]);
    assert_eq!(text::pieces(&text)[0], Piece::Text(r#"SELECT "id", "email", "bio" FROM users WHERE id = "#.into()));
    let a = analyze("SELECT u.* FROM users AS u").ok().unwrap();
    let mut text = a.text.clone();
    model_layout(a.projection.as_ref().unwrap(), &[user()], QueryDialect::Sql(Dialect::Sqlite), &mut text)
        .ok()
        .unwrap();
    assert_eq!(text, r#"SELECT u."id", u."email", u."bio" FROM users AS u"#);
}

#[test]
fn model_rows_need_every_column() {
    let a = analyze("SELECT id, email FROM users").ok().unwrap();
    let mut text = a.text.clone();
    let error = model_layout(a.projection.as_ref().unwrap(), &[user()], QueryDialect::Sql(Dialect::Sqlite), &mut text)
        .err()
        .unwrap();
    assert!(error.contains("missing `bio`"), "{error}");
}
