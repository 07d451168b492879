//! Who is calling: the bearer-token extractors. Role checks do not live here — they live in
//! the app layer's `Staff::require`, so every door enforces the same table.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use evac_app::{AppError, Staff};

use crate::AppState;
use crate::problem::Problem;

/// A caller that presented a valid staff token.
pub struct Authenticated(pub Staff);

/// A caller that may be anonymous; a token, if sent, must be valid (never silently ignored).
pub struct MaybeAuthenticated(pub Option<Staff>);

fn bearer(parts: &Parts) -> Result<Option<&str>, Problem> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| Problem::from(AppError::Unauthenticated))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(Problem::from(AppError::Unauthenticated)),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.ok_or(AppError::Unauthenticated)?;
        Ok(Authenticated(state.app.authenticate_token(token).await?))
    }
}

impl FromRequestParts<AppState> for MaybeAuthenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            None => Ok(MaybeAuthenticated(None)),
            Some(token) => Ok(MaybeAuthenticated(Some(
                state.app.authenticate_token(token).await?,
            ))),
        }
    }
}
