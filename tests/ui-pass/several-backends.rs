// One model on the three SQL backends (the contract's `Note`): every generated method, its table
// and schema check, `from_manager`, and custom queries checked in every dialect.
use dbkit::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(sqlite, postgres, mysql)]
pub struct Note {
    #[key(auto)]
    pub id: i64,
    #[unique]
    pub title: String,
    pub body: Option<String>,
    #[column(default = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[database(postgres, sqlite, name = "main")]
pub struct Tag {
    #[key]
    pub name: String,
    pub note_id: i64,
}

#[dbkit::queries]
impl NoteRepository {
    #[query("SELECT * FROM note WHERE title LIKE :pattern ORDER BY id LIMIT :limit")]
    pub async fn search(&self, pattern: &str, limit: i64) -> dbkit::Result<Vec<Note>>;

    #[query("SELECT COUNT(*) FROM note WHERE id IN (:ids)")]
    pub async fn count_of(&self, ids: &[i64]) -> dbkit::Result<u64>;

    #[query("UPDATE note SET body = NULL WHERE id = :id")]
    pub async fn clear_body(&self, id: i64) -> dbkit::Result<u64>;
}

#[dbkit::queries(join = [Note])]
impl TagRepository {
    #[query("SELECT t.* FROM tag t JOIN note n ON n.id = t.note_id WHERE n.title = :title")]
    pub async fn of_note(&self, title: &str) -> dbkit::Result<Vec<Tag>>;
}

#[allow(dead_code)]
async fn use_it(db: &Database, manager: &DatabaseManager) -> dbkit::Result<()> {
    db.create_table::<Note>().await?;
    let _drift = db.verify_schema::<Note>().await?;
    let notes = NoteRepository::new(db);
    let note = notes.create(&NewNote { title: "a".into(), body: None }).await?;
    let _ = notes.get(note.id).await?;
    let _ = notes.get_by_title("a").await?;
    let _ = notes.list(Page::default()).await?;
    let _ = notes.count().await?;
    let _ = notes.create_many(&[NewNote { title: "b".into(), body: Some("x".into()) }]).await?;
    let _ = notes.update(note.id, &NotePatch { body: Some(None), ..Default::default() }).await?;
    let _ = notes.delete(note.id).await?;
    let _ = notes.search("a%", 10).await?;
    let _ = notes.count_of(&[1, 2]).await?;
    let _ = notes.clear_body(1).await?;
    let _ = NoteRepository::from_manager(manager)?;
    let tags = TagRepository::from_manager(manager)?;
    let _ = tags.of_note("a").await?;
    Ok(())
}

fn main() {}
