//! The use cases, between the API and the repositories: what a user can do, in which unit of
//! work, and what each failure means. No SQL, no HTTP.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use dbkit::retry::RetryPolicy;
use dbkit::{Database, DatabaseManager, Error, Inserter, InserterOptions, Page};
use serde::Serialize;
use utoipa::ToSchema;

use crate::models::{
    LocalEventRepository, NewLocalEvent, NewUser, NewUserEvent, User, UserEventRepository, UserPatch, UserRepository,
};

/// Why a use case did not happen, in the service's terms; the API maps each to a status.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No such user.
    NotFound(String),
    /// A unique value is taken: the field.
    Conflict(&'static str),
    /// The input is not acceptable: the field, and why.
    Invalid { field: &'static str, message: String },
    /// The database failed: the API decides from its category.
    Database(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        match error.unique_violation() {
            Some("username") => Failure::Conflict("username"),
            _ => Failure::Database(error),
        }
    }
}

/// Users: seed 000's `UserServiceV1`.
#[derive(Clone)]
pub(crate) struct UserService {
    db: Database,
    users: UserRepository,
    /// The unit of work of `create_user`, run again whole on a deadlock or a serialization
    /// failure.
    retry: RetryPolicy,
}

impl UserService {
    /// The service on the manager's users' database, with the manager's cache attached when one is
    /// registered.
    pub(crate) fn new(manager: &DatabaseManager, db: Database) -> dbkit::Result<UserService> {
        let users = match manager.cache_names().first() {
            Some(name) => UserRepository::new(&db).with_cache(manager.cache(name)?),
            None => UserRepository::new(&db),
        };
        Ok(UserService { db, users, retry: RetryPolicy::default() })
    }

    /// Creates a user whose username is free. The check and the insert are one unit of work; two
    /// requests racing for one name both pass the check, and the database's unique key turns
    /// the second insert into the same `Conflict`.
    ///
    /// The closure owns a clone of the repository (`async move`): a unit of work in a future that
    /// must be `Send` (an axum handler, `tokio::spawn`) cannot capture references today, because
    /// rustc cannot prove `Send` for a borrow under an async closure's higher-ranked lifetime
    /// ("implementation of `Send` is not general enough"). Repositories are cheap to clone.
    pub(crate) async fn create_user(&self, new: NewUser) -> Result<User, Failure> {
        validate_username(&new.username)?;
        validate_email(&new.email)?;
        let users = self.users.clone();
        let created = self
            .db
            .transaction_with(&self.retry, async move |tx| {
                let mut users = users.in_transaction(tx);
                if users.get_by_username(&new.username).await?.is_some() {
                    return Ok(None);
                }
                users.create(&new).await.map(Some)
            })
            .await?;
        created.ok_or(Failure::Conflict("username"))
    }

    /// The user `id` (through the cache when one is attached).
    pub(crate) async fn get_user(&self, id: i64) -> Result<User, Failure> {
        self.users.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// A page of at most `limit` (1 to 1 000) users in key order, after the first `skip`.
    pub(crate) async fn list_users(&self, skip: u64, limit: u64) -> Result<Vec<User>, Failure> {
        if !(1..=1000).contains(&limit) {
            return Err(Failure::Invalid { field: "limit", message: "must be between 1 and 1000".to_owned() });
        }
        Ok(self.users.list(Page::new(skip, limit)).await?)
    }

    /// Changes the fields `patch` sets (a `null` clears a nullable one).
    pub(crate) async fn update_user(&self, id: i64, patch: UserPatch) -> Result<User, Failure> {
        if let Some(username) = &patch.username {
            validate_username(username)?;
        }
        if let Some(email) = &patch.email {
            validate_email(email)?;
        }
        self.users.update(id, &patch).await?.ok_or_else(|| not_found(id))
    }

    /// Deletes the user `id` and returns it as it was: read under a row lock and deleted in one
    /// unit of work.
    pub(crate) async fn delete_user(&self, id: i64) -> Result<User, Failure> {
        let users = self.users.clone();
        let deleted = self
            .db
            .transaction_with(&self.retry, async move |tx| {
                let mut users = users.in_transaction(tx);
                let Some(user) = users.get_for_update(id).await? else { return Ok(None) };
                users.delete(id).await?;
                Ok(Some(user))
            })
            .await?;
        deleted.ok_or_else(|| not_found(id))
    }
}

fn not_found(id: i64) -> Failure {
    Failure::NotFound(format!("user {id} does not exist"))
}

/// Where validation plugs in: dbkit checks types and presence; rules like these are the
/// application's. The lengths are the columns' (`VARCHAR(255)` for a unique text on MySQL), so a
/// value the database would refuse is a 422 naming the field, not a database error.
fn validate_username(username: &str) -> Result<(), Failure> {
    match username.chars().count() {
        0 => Err(Failure::Invalid { field: "username", message: "must not be empty".to_owned() }),
        1..=255 => Ok(()),
        _ => Err(Failure::Invalid { field: "username", message: "is longer than 255 characters".to_owned() }),
    }
}

fn validate_email(email: &str) -> Result<(), Failure> {
    if email.chars().count() > 255 {
        return Err(Failure::Invalid { field: "email", message: "is longer than 255 characters".to_owned() });
    }
    match email.split_once('@') {
        Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(()),
        _ => Err(Failure::Invalid { field: "email", message: "not an email address".to_owned() }),
    }
}

/// One row of the activity report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct Activity {
    pub(crate) user_id: i64,
    pub(crate) date: NaiveDate,
    pub(crate) activity_count: u64,
}

/// Analytics: seed 000's `AnalyticsRepository`, on ClickHouse when it is configured, else on the
/// users' database.
#[derive(Clone)]
pub(crate) enum AnalyticsService {
    ClickHouse { events: UserEventRepository, inserter: Inserter<NewUserEvent> },
    Local { events: LocalEventRepository },
}

impl AnalyticsService {
    /// Events batched into ClickHouse (written within `period`, flushed on a drain).
    pub(crate) fn clickhouse(db: &Database, period: Duration) -> dbkit::Result<AnalyticsService> {
        let events = UserEventRepository::new(db);
        let inserter = events.inserter(InserterOptions::new().period(period))?;
        Ok(AnalyticsService::ClickHouse { events, inserter })
    }

    /// Events in the users' database, one `INSERT` each.
    pub(crate) fn local(db: &Database) -> AnalyticsService {
        AnalyticsService::Local { events: LocalEventRepository::new(db) }
    }

    /// Records an event; `true` when it is stored, `false` when it is queued for the next batch
    /// (ClickHouse: it is written within the inserter's period, and on shutdown).
    pub(crate) async fn record(
        &self,
        user_id: i64,
        event_type: String,
        event_data: serde_json::Value,
    ) -> Result<bool, Failure> {
        if event_type.is_empty() {
            return Err(Failure::Invalid { field: "event_type", message: "must not be empty".to_owned() });
        }
        let event_time = Utc::now();
        match self {
            AnalyticsService::ClickHouse { inserter, .. } => {
                let id = uuid::Uuid::new_v4().as_u64_pair().0;
                inserter.send(NewUserEvent { id, user_id, event_type, event_data, event_time }).await?;
                Ok(false)
            }
            AnalyticsService::Local { events } => {
                events.create(&NewLocalEvent { user_id, event_type, event_data, event_time }).await?;
                Ok(true)
            }
        }
    }

    /// Events per user per day between `start` and `end`.
    pub(crate) async fn activity(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<Activity>, Failure> {
        if end < start {
            return Err(Failure::Invalid { field: "end", message: "is before start".to_owned() });
        }
        let rows = match self {
            AnalyticsService::ClickHouse { events, .. } => events.activity(start, end).await?,
            AnalyticsService::Local { events } => events
                .activity(start, end)
                .await?
                .into_iter()
                .map(|(user, day, count)| (user, day, count.unsigned_abs()))
                .collect(),
        };
        Ok(rows.into_iter().map(|(user_id, date, activity_count)| Activity { user_id, date, activity_count }).collect())
    }
}
