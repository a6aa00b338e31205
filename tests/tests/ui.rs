//! The compile-time contract of `#[derive(Repository)]`: each misuse in `ui/**` fails with the
//! message in its `.stderr` file, and every model in `ui/pass/` compiles. Regenerate the expected
//! output with `TRYBUILD=overwrite cargo test -p dbkit-tests --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for entry in glob("ui") {
        t.compile_fail(entry);
    }
    t.pass("ui/pass/*.rs");
}

/// Every `.rs` file under `dir` except those in `pass/`, sorted.
fn glob(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "pass") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
