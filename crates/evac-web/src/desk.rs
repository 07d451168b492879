//! What every desk and public page shares: HTML answers with their Content Security Policy,
//! the page language, the session of a signed-in staff member, the guard against cross-site
//! posts, and error pages. The handlers live with their area (`casework.rs`, `planning.rs`, …),
//! beside the API handlers of the same writes.
//!
//! Sessions are tokens: a login makes one (`App::login`), the browser keeps its secret in an
//! `HttpOnly; SameSite=Strict` cookie, logout revokes it. Cross-site form posts are refused
//! by the browser's `Sec-Fetch-Site` and `Origin` headers in one layer ([`refuse_cross_site`]),
//! so no CSRF token is needed. HTML answers carry their own Content Security Policy: scripts
//! and styles only from `/assets/`, nothing inline.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use evac_app::{AppError, Staff};
use evac_model::Permission;
use evac_ui::{DeskUser, ErrorPage, Lang, Tr, render};

use crate::AppState;
use crate::auth::session_secret;

/// The policy of HTML answers: nothing but evac's own stylesheet, script and images.
pub(crate) const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(HTML_CSP),
    );
    response
}

pub(crate) fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Assets change only with the binary.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", evac_ui::STYLESHEET)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", evac_ui::SCRIPT)
}

/// The page language: `?lang=`, else the browser's, among `offered`.
pub(crate) fn lang(query: &HashMap<String, String>, headers: &HeaderMap, offered: &[Lang]) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(query.get("lang").map(String::as_str), accept, offered)
}

/// Whether a form post comes from evac's own pages: browsers say so in `Sec-Fetch-Site`, and
/// older ones send an `Origin` that must name this host.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        // No browser signal at all: a script or an old client, not a cross-site form.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// The pages' one guard against cross-site form posts: every method but GET and HEAD must
/// come from evac's own pages.
pub async fn refuse_cross_site(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if safe || same_origin(request.headers()) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        "refused: this form was posted from another site",
    )
        .into_response()
}

/// A form body as (name, value) pairs, repeated names kept in order.
pub(crate) fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

pub(crate) fn first(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

pub(crate) fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A signed-in staff member on a desk page; without a valid session, the login page.
pub struct DeskSession {
    pub staff: Staff,
    pub secret: String,
}

impl FromRequestParts<AppState> for DeskSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let secret = session_secret(&parts.headers).ok_or_else(to_login)?;
        let staff = state
            .app
            .authenticate_token(&secret)
            .await
            .map_err(|_| to_login())?;
        Ok(DeskSession { staff, secret })
    }
}

pub(crate) fn desk_user(staff: &Staff) -> DeskUser {
    let may = |p| staff.role.allows(p);
    DeskUser {
        name: staff.name.clone(),
        role: staff.role.as_str().to_string(),
        pages: evac_ui::DeskPages {
            requests: may(Permission::ReadRequests),
            contacts: may(Permission::ReadContacts),
            review: may(Permission::ReviewDuplicates),
            situation: may(Permission::ReadSituation),
            // Field officers read manifests from the planning page; only planners plan.
            planning: may(Permission::ReadManifests),
            check_in: may(Permission::CheckIn),
            users: may(Permission::ManageUsers),
            audit: may(Permission::ReadAudit),
            broadcast: may(Permission::Broadcast),
        },
    }
}

/// A time as the desk shows it: to the minute, in the crisis's time zone with its offset
/// ("2022-01-06 20:05 +06").
pub(crate) fn desk_time(state: &AppState, at: evac_model::Timestamp) -> String {
    state.app.shown_time(at)
}

/// A desk page that could not be shown: the problem's status and words, as a page with a way
/// back (the API answers the same problem as JSON).
pub(crate) fn error_page(lang: Lang, e: AppError) -> Response {
    error_page_on(lang, e, ErrorPage::desk)
}

/// [`error_page`] for the public side: in its languages, leading to the request form.
pub(crate) fn public_error_page(lang: Lang, e: AppError) -> Response {
    error_page_on(lang, e, ErrorPage::public)
}

fn error_page_on(lang: Lang, e: AppError, page: fn(Lang, String, String) -> ErrorPage) -> Response {
    // Bad input and a role that may not are said in the desk's language.
    let refused_or_invalid = match &e {
        AppError::Conflict(_) => Some("refused-title"),
        AppError::Invalid(_) => Some("invalid-title"),
        _ => None,
    };
    let said = match &e {
        AppError::Invalid(errors) => Some(problem_text_in(lang, AppError::Invalid(errors.clone()))),
        AppError::Conflict(refusal) => Some(refusal_text(lang, refusal)),
        &AppError::Forbidden {
            role, permission, ..
        } if lang != Lang::En => Some(forbidden_text(lang, role, permission)),
        // What was looked for keeps its English name and id (an id is an id in any language);
        // the sentence around it is the desk's.
        AppError::NotFound(what) if lang != Lang::En => {
            Some(Tr { lang }.with("not-found-detail", "what", what))
        }
        _ => None,
    };
    let problem = crate::problem::Problem::from(e);
    let t = Tr { lang };
    // The heading says what kind of answer it is: a refusal or a field to fix is the desk
    // working as meant, not "something went wrong".
    let heading = match (refused_or_invalid, problem.status) {
        (Some(key), _) => t.get(key),
        (None, StatusCode::NOT_FOUND) => t.get("not-found"),
        (None, StatusCode::FORBIDDEN) => t.get("forbidden"),
        (None, _) => t.get("error-title"),
    };
    // Field errors are always `said` above; everything else is the problem's own words.
    let detail = said.unwrap_or(problem.detail);
    let retry_after_s = problem.retry_after_s;
    let mut response = html(problem.status, render(&page(lang, heading, detail)));
    crate::problem::set_retry_after(&mut response, retry_after_s);
    response
}

/// An address nothing answers: under `/api/`, the API's problem; under `/desk`, a page saying
/// so in the desk's language with a way back; anywhere else, a page in the requester's
/// language leading to the request form (both answered the API's JSON in English).
pub(crate) async fn no_such_address(
    uri: axum::http::Uri,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::problem::Problem::new(
            StatusCode::NOT_FOUND,
            "urn:evac:problem:not-found",
            "Not found",
            "no such route; see /api/v1/openapi.json",
        )
        .into_response();
    }
    let page = if is_desk_address(&uri) {
        let t = Tr {
            lang: lang(&query, &headers, &Lang::DESK),
        };
        ErrorPage::desk(t.lang, t.get("not-found"), t.get("desk-page-not-found"))
    } else {
        let t = Tr {
            lang: lang(&query, &headers, &Lang::PUBLIC),
        };
        ErrorPage::public(t.lang, t.get("not-found"), t.get("public-page-not-found"))
    };
    html(StatusCode::NOT_FOUND, render(&page))
}

/// An address asked with a method it does not take. A desk form's address opened as a page
/// (a language link or a reload after a refused form, a link copied from the address bar)
/// leads to the page above it, with its query (it answered an empty 405); elsewhere, the
/// API's problem.
pub(crate) async fn not_this_method(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let opened_as_a_page = matches!(method, axum::http::Method::GET | axum::http::Method::HEAD);
    if opened_as_a_page && is_desk_address(&uri) {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        return Redirect::to(&format!("{}{query}", page_of_form(uri.path()))).into_response();
    }
    crate::problem::Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "urn:evac:problem:method-not-allowed",
        "Method not allowed",
        format!("{method} is not taken here; see /api/v1/openapi.json"),
    )
    .into_response()
}

/// The desk page a form's address belongs to: the page whose form posts there.
fn page_of_form(path: &str) -> String {
    /// Forms whose page is not the address above theirs.
    const FORM_PAGES: &[(&str, &str)] = &[
        ("/desk/planning/", "/desk/planning"),
        ("/desk/users/", "/desk/users"),
        ("/desk/links/", "/desk/review"),
        ("/desk/review/", "/desk/review"),
        ("/desk/boarding", "/desk/check-in"),
        ("/desk/presence", "/desk/check-in"),
        ("/desk/reconfirm", "/desk/broadcast"),
        ("/desk/situation/", "/desk/situation"),
    ];
    let path = path.trim_end_matches('/');
    if let Some((_, page)) = FORM_PAGES
        .iter()
        .find(|(form, _)| path.starts_with(form) || path == form.trim_end_matches('/'))
    {
        return (*page).to_string();
    }
    // A request's or a household's forms are under its page ("/desk/requests/{id}/calls").
    match path.rsplit_once('/') {
        Some((above, _)) if above.starts_with("/desk") => above.to_string(),
        _ => "/desk".to_string(),
    }
}

fn is_desk_address(uri: &axum::http::Uri) -> bool {
    let path = uri.path();
    path == "/desk" || path.starts_with("/desk/")
}

/// A list's filter as a desk reads it: the filter, or (when a parameter could not be read) the
/// unfiltered list with the problems to show beside the form.
pub(crate) fn filter_or_problems<F: Default>(
    lang: Lang,
    read: Result<F, Vec<evac_model::FieldError>>,
) -> (F, Vec<String>) {
    match read {
        Ok(filter) => (filter, Vec::new()),
        Err(errors) => (F::default(), filter_problem_lines(lang, &errors)),
    }
}

/// A list filter's problems as a desk shows them: each "parameter: what to do", in the desk's
/// language. English keeps the validation's own reason, which names the value given; another
/// language says what the parameter takes (`filter-problem-{parameter}`).
fn filter_problem_lines(lang: Lang, errors: &[evac_model::FieldError]) -> Vec<String> {
    let t = Tr { lang };
    errors
        .iter()
        .map(|e| {
            let parameter = e.path.trim_start_matches("query.");
            let key = format!("filter-problem-{parameter}");
            let advice = if lang == Lang::En {
                e.reason.clone()
            } else if let Some(said) = text_problem(t, &e.reason) {
                said
            } else if e.reason.starts_with("unknown parameter") {
                t.get("filter-problem-unknown")
            } else if t.has(&key) {
                t.get(&key)
            } else {
                e.reason.clone()
            };
            format!("{parameter}: {advice}")
        })
        .collect()
}

/// A field error as a form shows it beside its input, with the problem every text field
/// shares found in its reason ([`evac_model::TextProblem`]) for the form to say in its language.
pub(crate) fn form_problem(e: evac_model::FieldError) -> evac_ui::FieldProblem {
    let common = evac_model::TextProblem::of(&e.reason).map(evac_model::TextProblem::message);
    evac_ui::FieldProblem {
        path: e.path,
        reason: e.reason,
        common,
    }
}

/// A problem every text field shares, in this language, if the reason names one.
fn text_problem(t: Tr, reason: &str) -> Option<String> {
    let (key, args) = evac_model::TextProblem::of(reason)?.message();
    Some(t.with_args(key, &args))
}

/// A refusal as a desk page shows it, in the desk's language: an invalid input names each
/// field by its path and says what the field takes (English keeps the validation's own reason,
/// which names the value given; a field with no advice of its own keeps it too).
pub(crate) fn problem_text_in(lang: Lang, e: AppError) -> String {
    match e {
        AppError::Forbidden {
            role, permission, ..
        } if lang != Lang::En => forbidden_text(lang, role, permission),
        AppError::Invalid(errors) if lang != Lang::En => {
            let t = Tr { lang };
            errors
                .iter()
                .map(|e| {
                    // `party[2].birth_date` and `needs[1]` are the birth date and the needs.
                    let field = e
                        .path
                        .rsplit('.')
                        .next()
                        .unwrap_or("")
                        .split('[')
                        .next()
                        .unwrap_or("");
                    let key = format!("desk-fix-{field}");
                    let advice = if let Some(said) = text_problem(t, &e.reason) {
                        // As the desk's other advice reads: a clause after the field, joined
                        // with others by "; ".
                        let said = said.trim_end_matches('.');
                        let mut letters = said.chars();
                        letters
                            .next()
                            .map(|first| first.to_lowercase().chain(letters).collect())
                            .unwrap_or_default()
                    } else if let Some(refused) = evac_model::PassError::of(&e.reason) {
                        // What is wrong with the pass, not how to fill the field in.
                        t.get(refused.key())
                    } else if t.has(&key) {
                        t.get(&key)
                    } else {
                        e.reason.clone()
                    };
                    format!("{}: {advice}", e.path)
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        AppError::Conflict(refusal) => refusal_text(lang, &refusal),
        other => problem_text(other),
    }
}

/// A refusal in the desk's language: its message (`refusal-{kind}`) with its values named as
/// the desk names them (statuses in words; times come shown in the crisis's zone); a kind the desk has no
/// message for keeps the app's English words.
pub(crate) fn refusal_text(lang: Lang, refusal: &evac_app::Refusal) -> String {
    use evac_app::RefusalArg;
    let t = Tr { lang };
    let key = format!("refusal-{}", refusal.kind.key());
    if !t.has(&key) {
        return refusal.english.clone();
    }
    let args: Vec<(&'static str, String)> = refusal
        .args
        .iter()
        .map(|(name, value)| {
            let said = match value {
                RefusalArg::Text(text) => text.clone(),
                RefusalArg::Count(n) => n.to_string(),
                RefusalArg::PersonStatus(status) => t.status_name(status.as_str()),
                RefusalArg::TransportStatus(status) => t.transport_status_name(status.as_str()),
                RefusalArg::LinkDecision(kind) => {
                    t.get_or(&format!("link-decision-{}", kind.as_str()), kind.as_str())
                }
                RefusalArg::LinkEvent(kind) => {
                    t.get_or(&format!("link-event-{}", kind.as_str()), kind.as_str())
                }
            };
            (*name, said)
        })
        .collect();
    t.with_args(&key, &args)
}

/// "Your role (field officer) may not export requests", in the desk's language.
fn forbidden_text(
    lang: Lang,
    role: evac_model::Role,
    permission: evac_model::Permission,
) -> String {
    let t = Tr { lang };
    // `ExportRequests` is `may-export-requests`.
    let mut key = String::from("may");
    for c in format!("{permission:?}").chars() {
        if c.is_ascii_uppercase() {
            key.push('-');
        }
        key.push(c.to_ascii_lowercase());
    }
    t.with_args(
        "forbidden-detail",
        &[
            ("role", t.role_name(role.as_str())),
            ("action", t.get(&key)),
        ],
    )
}

fn problem_text(e: AppError) -> String {
    match e {
        AppError::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

pub async fn home() -> Redirect {
    Redirect::to("/request")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field a desk form or the API can refuse is advised in Russian (`desk-fix-{field}`):
    /// the fields come from each draft's own schema (the request's fields, which have none,
    /// are advised since the public form's first day), so a field added later must be advised
    /// too (the situation forms' `carries_citizens_of`, `feeds_hub` and `arrives_at` kept their
    /// English reasons on the Russian desk).
    #[test]
    fn every_field_of_every_draft_is_advised_on_the_russian_desk() {
        use utoipa::PartialSchema;
        fn fields<T: PartialSchema>() -> Vec<String> {
            let schema = serde_json::to_value(T::schema()).unwrap();
            schema["properties"]
                .as_object()
                .unwrap()
                .iter()
                // A box that is ticked or not cannot be filled wrongly.
                .filter(|(_, property)| property["type"] != "boolean")
                .map(|(field, _)| field.clone())
                .collect()
        }
        use evac_model::*;
        let every_field = [
            fields::<TransportDraft>(),
            fields::<TransportStatusDraft>(),
            fields::<HubDraft>(),
            fields::<RouteDraft>(),
            fields::<ZoneDraft>(),
            fields::<StatementDraft>(),
            fields::<ReportDraft>(),
            fields::<JudgementDraft>(),
            fields::<PolicyDraft>(),
            fields::<PersonEventDraft>(),
            fields::<BulkStatusDraft>(),
            fields::<AssignmentDraft>(),
            fields::<HandlingDraft>(),
            fields::<PresenceDraft>(),
            fields::<BroadcastDraft>(),
            fields::<ReconfirmDraft>(),
            fields::<UserDraft>(),
            fields::<PlanDraft>(),
            fields::<ScanDraft>(),
            fields::<DecisionDraft>(),
            fields::<CallDraft>(),
        ]
        .concat();
        let ru = Tr { lang: Lang::Ru };
        let mut unadvised: Vec<&String> = every_field
            .iter()
            .filter(|field| !ru.has(&format!("desk-fix-{field}")))
            .collect();
        unadvised.sort();
        unadvised.dedup();
        assert!(unadvised.is_empty(), "no Russian advice for {unadvised:?}");
    }

    /// A text every field checks alike (too long, a hidden character, a line break) is said as
    /// it is in every language, on the desk and on the public form, not as the field's usual
    /// advice (a walk's over-long surname read "without digits or signs" in Russian).
    #[test]
    fn a_text_too_long_is_said_too_long_whatever_the_field() {
        use evac_model::{FieldError, TextProblem};
        let problems = [
            TextProblem::TooLong { chars_max: 200 },
            TextProblem::HiddenCharacter { code: 0x202E },
            TextProblem::LineBreak { code: 0x0A },
        ];
        for problem in problems {
            assert_eq!(TextProblem::of(&problem.reason()), Some(problem));
        }
        assert_eq!(TextProblem::of("is required; say where you are"), None);
        let invalid = |problem: TextProblem| {
            AppError::Invalid(vec![FieldError {
                path: "party[0].surname".into(),
                reason: problem.reason(),
            }])
        };
        let said = problem_text_in(Lang::Ru, invalid(problems[0]));
        assert_eq!(said, "party[0].surname: сократите до 200 знаков");
        let said = problem_text_in(Lang::Ru, invalid(problems[1]));
        assert!(
            said.contains("(U+202E)") && said.contains("уберите"),
            "{said}"
        );
        let said = problem_text_in(Lang::Ru, invalid(problems[2]));
        assert!(said.ends_with("напишите в одну строку"), "{said}");
        // The field's own advice stays for what is the field's own.
        let said = problem_text_in(
            Lang::Ru,
            AppError::Invalid(vec![FieldError {
                path: "party[0].surname".into(),
                reason: "holds digits".into(),
            }]),
        );
        assert!(said.contains("без цифр"), "{said}");
        for lang in [Lang::Ru, Lang::Kk, Lang::It] {
            let shown = evac_ui::FormProblems::new(
                lang,
                &[form_problem(FieldError {
                    path: "party[0].surname".into(),
                    reason: problems[0].reason(),
                })],
            );
            let advice = &shown.shown[0].advice;
            assert!(advice.contains("200"), "{lang:?}: {advice}");
        }
    }

    /// Issue 27, item 8: every refusal because of how things stand has its words on the
    /// Russian desk (and the English, whose files are kept alike).
    #[test]
    fn every_refusal_is_worded_on_the_russian_desk() {
        for lang in Lang::DESK {
            let t = Tr { lang };
            for kind in evac_app::RefusalKind::ALL {
                let key = format!("refusal-{}", kind.key());
                assert!(t.has(&key), "no {key} in the {lang:?} desk");
            }
        }
        let refusal = evac_app::Refusal::other("link event 7 is already undone");
        assert_eq!(
            refusal_text(Lang::Ru, &refusal),
            "Отклонено: link event 7 is already undone"
        );
        assert_eq!(
            refusal_text(Lang::En, &refusal),
            "link event 7 is already undone"
        );
        let moved = evac_app::Refusal::new(evac_app::RefusalKind::PersonMoved, "english")
            .with(
                "now",
                evac_app::RefusalArg::PersonStatus(evac_model::PersonStatus::Boarded),
            )
            .with(
                "seen",
                evac_app::RefusalArg::PersonStatus(evac_model::PersonStatus::Verified),
            );
        let said = refusal_text(Lang::Ru, &moved);
        assert!(
            said.contains("«на борту»") && said.contains("«проверен»"),
            "{said}"
        );
        // Two officers at once: the store's refusal of the second is said in Russian too (it
        // was "Отклонено: person … is boarded now, no longer verified: …").
        let raced = evac_app::refused_by_store(evac_store::StoreError::PersonMoved {
            person: "p1".into(),
            now: "boarded".into(),
            expected: evac_model::PersonStatus::Verified,
        });
        let AppError::Conflict(raced) = raced else {
            panic!("{raced:?}")
        };
        let said = refusal_text(Lang::Ru, &raced);
        assert!(
            said.starts_with("Статус человека изменили") && said.contains("«на борту»"),
            "{said}"
        );
        // A pair decided already names the decision in words (it read "distinct").
        let decided = evac_app::Refusal::new(evac_app::RefusalKind::PairDecided, "english")
            .with(
                "decision",
                evac_app::RefusalArg::LinkDecision(evac_model::LinkEventKind::Distinct),
            )
            .text("by", "user:aigerim")
            .text("at", "2022-01-06 20:05 +06")
            .text("seq", 7);
        let said = refusal_text(Lang::Ru, &decided);
        assert!(
            said.contains("признаны разными людьми") && !said.contains("distinct"),
            "{said}"
        );
    }
}
