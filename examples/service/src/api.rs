//! The HTTP API: routes, request and response bodies, and how each failure maps to a status.
//! Handlers only translate; the use cases are in [`crate::services`].

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use dbkit::{DatabaseManager, ErrorCategory, HealthReport};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

use crate::models::{NewUser, User, UserPatch};
use crate::services::{Activity, AnalyticsService, Failure, UserService};

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) manager: Arc<DatabaseManager>,
    pub(crate) users: UserService,
    pub(crate) analytics: AnalyticsService,
    pub(crate) prometheus: PrometheusHandle,
}

type AppStateRef = State<Arc<AppState>>;

/// The application's routes, its OpenAPI document at `/openapi.json` and Swagger UI at `/docs`.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/events", axum::routing::post(record_event))
        .route("/analytics/activity", get(activity))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "dbkit example service", description = "Seed 000's application on dbkit."),
    paths(create_user, get_user, list_users, update_user, delete_user, record_event, activity, health, metrics),
    components(schemas(User, UserCreate, UserUpdate, EventIn, EventAccepted, Activity, ErrorBody))
)]
pub(crate) struct ApiDoc;

/// The body of every error: what went wrong, and the field when one input is at fault. Never SQL,
/// a server's message or a credential.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
}

/// A failure, as HTTP.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u32>,
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>, field: Option<&str>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody { detail: detail.into(), field: field.map(str::to_owned) },
            retry_after: None,
        }
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> ApiError {
        match failure {
            Failure::NotFound(detail) => ApiError::new(StatusCode::NOT_FOUND, detail, None),
            Failure::Conflict(field) => ApiError::new(StatusCode::CONFLICT, format!("{field} is taken"), Some(field)),
            Failure::Invalid { field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{field} {message}"), Some(field))
            }
            Failure::Database(error) => {
                // The category decides; the message stays in the log (it can quote SQL or a value).
                tracing::warn!(error.type = error.category().as_str(), "request failed in the database");
                match error.category() {
                    ErrorCategory::Transient | ErrorCategory::Timeout | ErrorCategory::Connection => ApiError {
                        retry_after: Some(1),
                        ..ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the database is busy or unavailable: retry",
                            None,
                        )
                    },
                    _ if error.is_outcome_unknown() => ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the outcome is unknown: check before retrying",
                        None,
                    ),
                    _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", None),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON body whose rejection is a 422 naming the field (serde's message for dbkit's request
/// bodies names it: "username: invalid type…", "missing field `email`").
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(JsonRejection::JsonDataError(error)) => {
                let detail = error.body_text();
                let field = field_of(&detail);
                Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail, field.as_deref()))
            }
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text(), None)),
        }
    }
}

/// The field a serde message names: "missing field `email`", or the path before the first `:`
/// of axum's "Failed to deserialize the JSON body into the target type: username: …".
fn field_of(detail: &str) -> Option<String> {
    if let Some(rest) = detail.split("missing field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    let rest = detail.strip_prefix("Failed to deserialize the JSON body into the target type: ")?;
    let (field, _) = rest.split_once(": ")?;
    (!field.contains(' ')).then(|| field.to_owned())
}

/// The `{id}` of a path, 422 naming it when it is not a number (as FastAPI answers).
fn path_id(parsed: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    parsed
        .map(|Path(id)| id)
        .map_err(|rejection| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, rejection.body_text(), Some("id")))
}

/// Query parameters, 422 naming the parameter when they do not parse.
fn query<T>(parsed: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    parsed.map(|Query(value)| value).map_err(|rejection| {
        let detail = rejection.body_text();
        let field = ["skip", "limit", "start", "end"].into_iter().find(|f| detail.contains(f));
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail, field)
    })
}

/// Seed 000's `UserCreate`, for the document: the handler reads dbkit's `NewUser`, which has these
/// fields.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct UserCreate {
    username: String,
    email: String,
    full_name: Option<String>,
}

/// Seed 000's `UserUpdate` (`exclude_unset`): a field left out is not changed, `null` clears a
/// nullable one. The handler reads dbkit's `UserPatch`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct UserUpdate {
    username: Option<String>,
    email: Option<String>,
    full_name: Option<String>,
}

#[utoipa::path(post, path = "/users", request_body = UserCreate, responses(
    (status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    (status = 503, body = ErrorBody)))]
async fn create_user(State(app): AppStateRef, Body(new): Body<NewUser>) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((StatusCode::CREATED, Json(app.users.create_user(new).await?)))
}

#[utoipa::path(get, path = "/users/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn get_user(State(app): AppStateRef, id: Result<Path<i64>, PathRejection>) -> Result<Json<User>, ApiError> {
    Ok(Json(app.users.get_user(path_id(id)?).await?))
}

/// `?skip=&limit=`, as in seed 000.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Paging {
    #[serde(default)]
    skip: u64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

#[utoipa::path(get, path = "/users", params(Paging), responses(
    (status = 200, body = [User]), (status = 422, body = ErrorBody)))]
async fn list_users(
    State(app): AppStateRef,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Vec<User>>, ApiError> {
    let Paging { skip, limit } = query(paging)?;
    Ok(Json(app.users.list_users(skip, limit).await?))
}

#[utoipa::path(patch, path = "/users/{id}", params(("id" = i64, Path)), request_body = UserUpdate, responses(
    (status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
async fn update_user(
    State(app): AppStateRef,
    id: Result<Path<i64>, PathRejection>,
    Body(patch): Body<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(app.users.update_user(path_id(id)?, patch).await?))
}

#[utoipa::path(delete, path = "/users/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = User), (status = 404, body = ErrorBody)))]
async fn delete_user(State(app): AppStateRef, id: Result<Path<i64>, PathRejection>) -> Result<Json<User>, ApiError> {
    Ok(Json(app.users.delete_user(path_id(id)?).await?))
}

/// Seed 000's `insert_user_event`.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct EventIn {
    user_id: i64,
    event_type: String,
    #[serde(default)]
    event_data: serde_json::Value,
}

/// An event taken: `stored` when it is in the database, else queued for the next batch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventAccepted {
    stored: bool,
}

#[utoipa::path(post, path = "/events", request_body = EventIn, responses(
    (status = 201, body = EventAccepted, description = "stored"),
    (status = 202, body = EventAccepted, description = "queued: written to ClickHouse within a second, and on shutdown"),
    (status = 422, body = ErrorBody)))]
async fn record_event(
    State(app): AppStateRef,
    Body(event): Body<EventIn>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let stored = app.analytics.record(event.user_id, event.event_type, event.event_data).await?;
    let status = if stored { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(EventAccepted { stored })))
}

/// `?start=&end=`, RFC 3339 instants.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Range {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[utoipa::path(get, path = "/analytics/activity", params(Range), responses(
    (status = 200, body = [Activity]), (status = 422, body = ErrorBody)))]
async fn activity(
    State(app): AppStateRef,
    range: Result<Query<Range>, QueryRejection>,
) -> Result<Json<Vec<Activity>>, ApiError> {
    let Range { start, end } = query(range)?;
    Ok(Json(app.analytics.activity(start, end).await?))
}

#[utoipa::path(get, path = "/health", responses(
    (status = 200, description = "every database and cache is up"),
    (status = 503, description = "one is down, or the service is draining")))]
async fn health(State(app): AppStateRef) -> (StatusCode, Json<HealthReport>) {
    let report = app.manager.health().await;
    let status = if report.is_healthy() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report))
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format")))]
async fn metrics(State(app): AppStateRef) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.prometheus.render())
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn names_the_field_of_a_body_error() {
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 20"
            )
            .as_deref(),
            Some("email")
        );
        assert_eq!(
            field_of("Failed to deserialize the JSON body into the target type: username: invalid type: integer `5`, expected a string at line 1 column 15").as_deref(),
            Some("username")
        );
        assert_eq!(
            field_of("Failed to deserialize the JSON body into the target type: expected value at line 1 column 2"),
            None
        );
    }
}
