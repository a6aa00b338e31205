//! A model that lists a backend whose cargo feature is off fails with one error per such backend,
//! on its name, saying which feature to enable; `ui/` holds the cases and their `.stderr`, and the
//! control in `ui-pass/` shows that the same build compiles a model of the enabled backend alone.

#[test]
fn feature_off() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui-pass/*.rs");
}
