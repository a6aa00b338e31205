//! Where a generated call's span goes when no `tracing` subscriber was ever set: to the `log`
//! crate's logger, as `tracing` (built with its `log` feature) sends it, if that logger's level
//! admits `INFO`; and nowhere, with no span made at all, if nothing is installed
//! (`dbkit::__private::spans_wanted`). Once a subscriber is set, its level decides, whatever
//! `log`'s is.
//!
//! Its own test binary, with one test: the logger is process-wide, and so is whether a
//! subscriber was ever set.

use std::sync::Mutex;

use dbkit::Backend;
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite)]
#[repository(table = "spans_to_log")]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    pub text: String,
}

/// Keeps every record's target and text.
struct Keep(Mutex<Vec<String>>);

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(format!("{} {}", record.target(), record.args()));
    }
    fn flush(&self) {}
}

static LOGGER: Keep = Keep(Mutex::new(Vec::new()));

fn logged() -> Vec<String> {
    std::mem::take(&mut *LOGGER.0.lock().unwrap())
}

#[tokio::test]
async fn spans_go_to_log_until_a_subscriber_is_set() {
    let db = dbkit_tests::connect(Backend::Sqlite).await.unwrap();
    db.create_table::<Note>().await.unwrap();
    let repo = NoteRepository::new(&db);
    let note = repo.create(&NewNote { text: "a".to_owned() }).await.unwrap();

    // Nothing installed: no span wanted. The logger is set but admits nothing yet.
    log::set_logger(&LOGGER).unwrap();
    assert!(!dbkit::__private::spans_wanted());
    repo.get(note.id).await.unwrap();
    assert_eq!(logged(), Vec::<String>::new());

    // A logger at INFO, no subscriber: the call's span goes to it.
    log::set_max_level(log::LevelFilter::Info);
    assert!(dbkit::__private::spans_wanted());
    repo.get(note.id).await.unwrap();
    let records = logged();
    assert!(records.iter().any(|r| r.contains("SELECT spans_to_log")), "{records:#?}");

    // A subscriber at WARN: its level decides, and no span is made, whatever `log`'s level.
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        tracing_subscriber::filter::LevelFilter::WARN,
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    assert!(!dbkit::__private::spans_wanted());
    repo.get(note.id).await.unwrap();
    assert!(!logged().iter().any(|r| r.contains("SELECT spans_to_log")));
}
