//! Accounts: who the caller is, staff login and logout, and the supervisor's user page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, Staff};
use evac_model::{Permission, UserDraft};
use evac_ui::{Lang, LoginPage, Tr, UsersPage, render};

use crate::answers::Me;
use crate::auth::{Authenticated, SESSION_COOKIE};
use crate::desk::{
    DeskSession, desk_time, desk_user, error_page, first, form_pairs, html, lang, problem_text_in,
};
use crate::doors::form_draft;
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(me))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout_post))
        .route("/desk/users", get(users_page).post(user_post))
        .route(
            "/desk/users/{name}/enabled",
            axum::routing::post(user_enabled_post),
        )
        .route(
            "/desk/users/{name}/password",
            axum::routing::post(user_password_post),
        )
        .route(
            "/desk/users/{name}/tokens/{id}/revoke",
            axum::routing::post(token_revoke_post),
        )
}

/// `GET /api/v1/me`: who the caller is.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    summary = "Who the token belongs to",
    responses(
        (status = 200, description = "name and role", body = crate::answers::Me),
        (status = 401, description = "no or invalid token"),
    ),
)]
pub async fn me(Authenticated(staff): Authenticated) -> Json<Me> {
    Json(Me {
        id: staff.user_id.to_string(),
        name: staff.name,
        role: staff.role,
    })
}

/// A session lasts a working shift and a half.
const SESSION_SECONDS_MAX: i64 = evac_app::SESSION_S_MAX;

/// `GET /login`
pub async fn login_page(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    html(
        StatusCode::OK,
        render(&LoginPage::new(lang, false, String::new())),
    )
}

/// `POST /login`: a session cookie and the desk, or the form again.
pub async fn login_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    crate::auth::ClientAddress(from): crate::auth::ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let name = first(&pairs, "name");
    match state
        .app
        .login(&name, &first(&pairs, "password"), from)
        .await
    {
        Ok(token) => {
            // Each role lands where its work is: auditors read only the trail, field officers
            // work at the gate.
            let landing = match state.app.authenticate_token(&token.secret).await {
                Ok(staff) if !staff.role.allows(Permission::ReadRequests) => "/desk/audit",
                Ok(staff) if staff.role == evac_model::Role::FieldOfficer => "/desk/check-in",
                _ => "/desk",
            };
            let mut response =
                Redirect::to(&format!("{landing}?lang={}", lang.code())).into_response();
            // Secure wherever evac is served over HTTPS (the demo on 127.0.0.1 is not).
            let secure = if state
                .app
                .settings()
                .messaging
                .public_url
                .starts_with("https://")
            {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECONDS_MAX}{secure}",
                token.secret
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(AppError::Unauthenticated) => html(
            StatusCode::UNAUTHORIZED,
            render(&LoginPage::new(lang, true, name)),
        ),
        // A locked account's page says when to try again (Retry-After), as every error page.
        Err(e) => error_page(lang, e),
    }
}

/// `POST /logout`: revokes the session and forgets the cookie.
pub async fn logout_post(State(state): State<AppState>, session: DeskSession) -> Response {
    if let Err(e) = state.app.logout(&session.staff, &session.secret).await {
        return error_page(Lang::En, e);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("evac_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

/// After a change on the users page: back to the page, or the page again with why not.
async fn after_change<T>(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    done: Result<T, AppError>,
) -> Response {
    match done {
        Ok(_) => Redirect::to(&format!("/desk/users?lang={}", lang.code())).into_response(),
        Err(e) => render_users(state, lang, staff, Some(problem_text_in(lang, e))).await,
    }
}

async fn render_users(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    problem: Option<String>,
) -> Response {
    let users = match state.app.users(staff).await {
        Ok(users) => users,
        Err(e) => return error_page(lang, e),
    };
    let mut lines = Vec::new();
    for u in users {
        let tokens = match state.app.tokens(Some(staff), &u.name).await {
            Ok(tokens) => tokens,
            Err(e) => return error_page(lang, e),
        };
        lines.push(evac_ui::UserLine {
            name: u.name,
            role: u.role.as_str().to_string(),
            created: desk_time(state, u.created_at),
            disabled: u.disabled,
            tokens: tokens
                .into_iter()
                .map(|t| (t.id, t.label, desk_time(state, t.created_at)))
                .collect(),
        });
    }
    let page = UsersPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        users: lines,
        roles: evac_model::Role::ALL
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/users`: staff accounts, for supervisors.
pub async fn users_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    render_users(&state, lang, &session.staff, None).await
}

/// `POST /desk/users`: a supervisor adds an account.
pub async fn user_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let draft = match form_draft::<UserDraft>(&body, &[]) {
        Ok((draft, _)) => draft,
        Err(errors) => {
            let problem = problem_text_in(lang, AppError::Invalid(errors));
            return render_users(&state, lang, &session.staff, Some(problem)).await;
        }
    };
    let done = state.app.add_account(Some(&session.staff), &draft).await;
    after_change(&state, lang, &session.staff, done).await
}

/// `POST /desk/users/{name}/enabled` with `enabled=yes|no`: a supervisor disables or enables
/// an account; disabling ends its open sessions at once.
pub async fn user_enabled_post(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let enabled = match first(&pairs, "enabled").as_str() {
        "yes" => true,
        "no" => false,
        other => {
            let problem = format!(
                "enabled: {other} is not yes or no",
                other = evac_model::quoted(&other)
            );
            return render_users(&state, lang, &session.staff, Some(problem)).await;
        }
    };
    let done = state
        .app
        .set_account_enabled(Some(&session.staff), &name, enabled)
        .await;
    after_change(&state, lang, &session.staff, done).await
}

/// `POST /desk/users/{name}/password` with `password`: a supervisor resets an account's
/// password (or staff set their own); its sessions end at once.
pub async fn user_password_post(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let pairs = form_pairs(&body);
    let done = state
        .app
        .set_password(Some(&session.staff), &name, &first(&pairs, "password"))
        .await;
    after_change(&state, lang, &session.staff, done).await
}

/// `POST /desk/users/{name}/tokens/{id}/revoke`: a supervisor revokes one token or session
/// of an account (a lost laptop, a shared one); it stops working at once.
pub async fn token_revoke_post(
    State(state): State<AppState>,
    axum::extract::Path((name, id)): axum::extract::Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let done = state
        .app
        .revoke_token(Some(&session.staff), &name, &id)
        .await;
    after_change(&state, lang, &session.staff, done).await
}
