//! The compile-time contract of `#[derive(Repository)]`: each misuse in `ui/<category>/` fails with
//! the message in its `.stderr` file, and every model in `ui-pass/` compiles. Regenerate the
//! expected output with `TRYBUILD=overwrite cargo test -p dbkit-tests --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/**/*.rs");
    t.pass("ui-pass/*.rs");
}
