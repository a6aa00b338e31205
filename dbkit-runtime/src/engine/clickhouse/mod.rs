//! ClickHouse over HTTP, through the `clickhouse` crate.
//!
//! Works with current servers and with the 18.16 release Debian ships, which lacks what the crate
//! uses by default: it has no `RowBinaryWithNamesAndTypes` (so schema validation is turned off and
//! rows are read as plain `RowBinary`, decoded by field order) and it streams an error that happens
//! after the first rows inside a 200 response (so `wait_end_of_query=1` makes the server buffer the
//! result and report such an error with a proper status).
//!
//! The URL selects the server: `http://host:8123/?database=db`, `https://…`, or
//! `clickhouse://user@host:8123/db` (sent over plain HTTP; `clickhouse+https://` is not a thing here —
//! use `https://`). The user comes from the URL, the password is sent in the `X-ClickHouse-Key`
//! header by the crate and never appears in the URL it keeps.
//!
//! The crate pools HTTP connections inside hyper; dbkit does not size that pool, so `pool_size` and
//! friends do not apply, and [`DatabaseInfo`](crate::DatabaseInfo) reports no pool figures (nor
//! the metrics any `db.client.connection.*`: see [`crate::observe`]).

mod inserter;
pub mod row;

pub use self::inserter::{InsertRow, Inserter, InserterOptions};

use clickhouse::Client;

use super::{Engine, ServerInfo};
use crate::config::Target;
use crate::drain::tracker::InFlight;
use crate::{ConfigError, Database, DatabaseConfig, Error, Result};

pub(crate) async fn connect(config: &DatabaseConfig) -> Result<(Engine, ServerInfo)> {
    let client = client(config)?;
    let version: String = client.query("SELECT version()").fetch_one().await?;
    let parameters = config.get_clickhouse_query_parameters().unwrap_or_else(|| has_query_parameters(&version));
    let server = ServerInfo { clickhouse_query_parameters: parameters, ..ServerInfo::plain(version) };
    Ok((Engine::ClickHouse(client), server))
}

/// Whether a server of `version` takes server-side query parameters (`{name:Type}` in the
/// statement, `param_name=` in the request): added in 19.11; 18.16, Debian's, has none.
pub(crate) fn has_query_parameters(version: &str) -> bool {
    let mut numbers = version.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (19, 11)
}

fn client(config: &DatabaseConfig) -> Result<Client, ConfigError> {
    let Target::Server(url) = config.target() else {
        unreachable!("a ClickHouse configuration always has a server target")
    };
    let scheme = if url.scheme() == "https" { "https" } else { "http" };
    // `set_scheme` refuses to turn a non-special scheme (`clickhouse`) into a special one (`http`),
    // so rebuild the URL from its parts.
    // `clickhouse://` has no known default port: use ClickHouse's HTTP port. `http(s)://` keep theirs.
    let port = match url.scheme() {
        "http" | "https" => url.port_or_known_default().unwrap_or(8123),
        _ => url.port().unwrap_or(8123),
    };
    let host = url.host_str().unwrap_or("localhost");
    let database = url
        .query_pairs()
        .find(|(k, _)| k == "database")
        .map(|(_, v)| v.into_owned())
        .or_else(|| Some(url.path().trim_matches('/').to_owned()).filter(|p| !p.is_empty()));
    let user = url
        .query_pairs()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())
        .or_else(|| Some(url.username().to_owned()).filter(|u| !u.is_empty()));
    let http = url::Url::parse(&format!("{scheme}://{host}:{port}/"))
        .map_err(|e| ConfigError::new(format!("invalid ClickHouse URL {}: {e}", config.redacted_url())))?;
    let mut client =
        Client::default().with_url(http.as_str()).with_validation(false).with_setting("wait_end_of_query", "1");
    if let Some(database) = database {
        client = client.with_database(database);
    }
    if let Some(user) = user {
        client = client.with_user(user);
    }
    if let Some(password) = config.password_secret() {
        client = client.with_password(password);
    }
    if let Some(timeout) = config.get_command_timeout() {
        client = client.with_setting("max_execution_time", timeout.as_secs().max(1).to_string());
    }
    Ok(client)
}

/// A ClickHouse client in use, from [`Database::clickhouse`]: counted as in flight until dropped.
/// Dereferences to [`clickhouse::Client`]; [`client`](ClickHouseSession::client) names it.
///
/// This is the way out for what a repository cannot express (a `FINAL` read, a mutation, a
/// query on `system.*`): the client is the `clickhouse` crate's own, of the exact version dbkit
/// is built on, re-exported as `dbkit::clickhouse` (and `dbkit_runtime::clickhouse`), so its
/// `Row` derive and `serde` helpers are the ones that fit. It is configured as dbkit's: the URL,
/// user, password and database of the configuration, schema validation off and
/// `wait_end_of_query=1` (see the module docs for why), `max_execution_time` from the command
/// timeout.
///
/// ```no_run
/// # async fn run(db: &dbkit_runtime::Database) -> dbkit_runtime::Result<()> {
/// use dbkit_runtime::ClickHouseSession;
/// use dbkit_runtime::clickhouse::Row;
///
/// #[derive(Row, serde::Deserialize)]
/// #[clickhouse(crate = "dbkit_runtime::clickhouse")]
/// struct Active {
///     user_id: u64,
///     events: u64,
/// }
///
/// let session: ClickHouseSession = db.clickhouse()?;
/// let client: &dbkit_runtime::clickhouse::Client = session.client();
/// let top: Vec<Active> = client
///     .query("SELECT user_id, count() FROM user_events FINAL GROUP BY user_id ORDER BY count() DESC LIMIT ?")
///     .bind(10)
///     .fetch_all()
///     .await?;
/// # let _ = top; Ok(()) }
/// ```
///
/// *Feature `clickhouse`.*
#[derive(Debug)]
pub struct ClickHouseSession {
    client: Client,
    _in_flight: InFlight,
}

impl ClickHouseSession {
    /// The `clickhouse` crate's client, as dbkit configured it (see above); the same as
    /// dereferencing the session. A clone of it outlives the session but is no longer counted as
    /// in flight, so a drain does not wait for it.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl std::ops::Deref for ClickHouseSession {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Database {
    /// A ClickHouse client for this database, counted as an in-flight session until dropped.
    ///
    /// *Feature `clickhouse`.*
    pub fn clickhouse(&self) -> Result<ClickHouseSession> {
        #[allow(irrefutable_let_patterns)] // the only variant when no other backend is enabled
        let Engine::ClickHouse(client) = self.engine() else {
            return Err(Error::BackendMismatch {
                what: "a ClickHouse session",
                expected: vec![crate::Backend::ClickHouse],
                actual: self.backend(),
                database: self.name().to_owned(),
            });
        };
        let in_flight = self.tracker().enter(self.name())?;
        Ok(ClickHouseSession { client: client.clone(), _in_flight: in_flight })
    }
}

#[cfg(test)]
mod tests {
    use super::has_query_parameters;

    #[test]
    fn query_parameters_from_19_11() {
        assert!(!has_query_parameters("18.16.1"));
        assert!(!has_query_parameters("19.10.1.5"));
        assert!(has_query_parameters("19.11.3.11"));
        assert!(has_query_parameters("26.1.2.1"));
        assert!(!has_query_parameters("unknown"));
    }
}
