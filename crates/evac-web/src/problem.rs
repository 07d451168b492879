//! The one place errors become HTTP: RFC 9457 problem details (`application/problem+json`).
//!
//! Validation problems list every invalid field with its JSON path and the reason, so a client
//! can show them all at once. Internal errors say only that something failed and carry the
//! request id for the logs; they never echo stored data.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use evac_app::AppError;
use evac_model::FieldError;
use evac_store::StoreError;

/// How long a client waits before sending again a write the database gave up for another's
/// sake (the other has committed or failed by then).
pub const CONTENDED_RETRY_AFTER_S: u64 = 1;

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// A stable identifier of the kind of problem, e.g. `urn:evac:problem:invalid-request`.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after_s: Option<u64>,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_s: None,
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "urn:evac:problem:invalid-request",
            title: "The request has invalid fields",
            detail,
            errors,
            retry_after_s: None,
        }
    }

    /// The server failed at something that is not the caller's fault; the reason goes to the
    /// log, not to the caller.
    pub fn internal(reason: impl std::fmt::Display) -> Self {
        tracing::error!(%reason, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "urn:evac:problem:internal",
            "Internal error",
            "the server failed; nothing was changed — try again, and report the x-request-id if it persists",
        )
    }

    pub fn bad_request(kind: &'static str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            kind,
            "The request could not be read",
            detail,
        )
    }
}

/// A problem as it is sent: what the OpenAPI document calls `Problem`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct ProblemBody {
    /// A stable identifier of the kind of problem.
    #[serde(rename = "type")]
    #[schema(examples("urn:evac:problem:invalid-request"))]
    pub kind: &'static str,
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong and what to do.
    pub detail: String,
    /// Every invalid field with its path, when the input had invalid fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: self.kind,
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        set_retry_after(&mut response, self.retry_after_s);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"evac\""),
            );
        }
        response
    }
}

/// Says in `Retry-After` when to try again, when `seconds` says it: on the API's problems and
/// on pages alike.
pub(crate) fn set_retry_after(response: &mut Response, seconds: Option<u64>) {
    if let Some(value) = seconds.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => Problem::invalid(errors),
            AppError::NotFound(what) => Problem::new(
                StatusCode::NOT_FOUND,
                "urn:evac:problem:not-found",
                "Not found",
                format!("{what} not found"),
            ),
            AppError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "urn:evac:problem:unauthenticated",
                "Authentication required",
                "send a staff token as 'Authorization: Bearer evac_…' (create one with `evac token create NAME`)",
            ),
            e @ AppError::Forbidden { .. } => Problem::new(
                StatusCode::FORBIDDEN,
                "urn:evac:problem:forbidden",
                "Not allowed for your role",
                e.to_string(),
            ),
            e @ AppError::TooManyAttempts { retry_after_s } => Problem {
                retry_after_s: Some(retry_after_s),
                ..Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "urn:evac:problem:too-many-attempts",
                    "Too many attempts",
                    e.to_string(),
                )
            },
            e @ AppError::IdempotencyConflict => Problem::new(
                StatusCode::CONFLICT,
                "urn:evac:problem:idempotency-conflict",
                "Idempotency-Key reused",
                e.to_string(),
            ),
            AppError::Conflict(refusal) => Problem::new(
                StatusCode::CONFLICT,
                "urn:evac:problem:conflict",
                "Conflict",
                refusal.english,
            ),
            AppError::BadInput(detail) => {
                Problem::bad_request("urn:evac:problem:bad-input", detail)
            }
            AppError::Store(StoreError::Conflict { what } | StoreError::Refused(what)) => {
                Problem::new(
                    StatusCode::CONFLICT,
                    "urn:evac:problem:conflict",
                    "Conflict",
                    what,
                )
            }
            AppError::Store(
                moved @ (StoreError::LogMoved { .. }
                | StoreError::PersonMoved { .. }
                | StoreError::RequestMoved { .. }),
            ) => Problem::new(
                StatusCode::CONFLICT,
                "urn:evac:problem:conflict",
                "Conflict",
                moved.to_string(),
            ),
            AppError::Store(contended @ StoreError::Contended(_)) => {
                tracing::warn!(error = %contended, "a write was given up for another's sake");
                Problem {
                    retry_after_s: Some(CONTENDED_RETRY_AFTER_S),
                    ..Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "urn:evac:problem:contended",
                        "Busy: try again",
                        "another change needed the same records at the same moment; nothing was stored — send the same request again",
                    )
                }
            }
            AppError::Store(StoreError::Unavailable(reason)) => {
                tracing::error!(%reason, "database unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "urn:evac:problem:unavailable",
                    "Temporarily unavailable",
                    "the database is unavailable; nothing was stored — try again shortly",
                )
            }
            AppError::Store(e) => {
                tracing::error!(error = %e, "store error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "urn:evac:problem:internal",
                    "Internal error",
                    "the server failed; nothing was acknowledged — try again, and report the x-request-id if it persists",
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A write the database gave up for another's sake is a "try again" with a wait, not a
    /// server error.
    #[test]
    fn a_contended_write_answers_503_with_retry_after() {
        let problem = Problem::from(AppError::Store(StoreError::Contended(
            "deadlock detected".into(),
        )));
        assert_eq!(problem.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(problem.retry_after_s, Some(CONTENDED_RETRY_AFTER_S));
        assert!(
            problem.detail.contains("nothing was stored"),
            "{}",
            problem.detail
        );
        let response = problem.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
