//! The two doors every write comes through, and what they share: a JSON body (the API) and a
//! form (the desk) both decode into the same draft of `evac-model`, whose `validate` is the
//! one place the input is checked; the answer to a bad input is the same problem either way.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use evac_model::{FieldError, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::Problem;

/// Parses a JSON body, reporting the path of the first offending field.
pub(crate) fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(T, Bytes), Problem> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the body is larger than {} bytes; send one request at a time",
                crate::BODY_BYTES_MAX
            )
        } else {
            rejection.body_text()
        };
        Problem::new(
            status,
            "urn:evac:problem:unreadable-body",
            "The body could not be read",
            detail,
        )
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "urn:evac:problem:unsupported-media-type",
                "JSON expected",
                format!(
                    "send the body as application/json, not {}",
                    evac_model::quoted(ct)
                ),
            ));
        }
    }
    // Most bodies are valid: parse them plainly, and only a body that fails is parsed again
    // with path tracking, to name the field (tracking wraps every value of every parse).
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(&body)) {
        return Ok((value, body));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => Ok((value, body)),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(Problem::bad_request(
                    "urn:evac:problem:malformed-json",
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            let reason = inner.to_string();
            let reason = reason
                .split(" at line ")
                .next()
                .unwrap_or(&reason)
                .to_string();
            let path = if path == "." { String::new() } else { path };
            Err(Problem::invalid(vec![FieldError { path, reason }]))
        }
    }
}

pub(crate) fn field(path: &str, reason: String) -> Problem {
    Problem::invalid(vec![FieldError {
        path: path.into(),
        reason,
    }])
}

/// An id read from a path or a query parameter, or the problem naming its field and what it
/// must be (`what`: "a transport id (a UUID)"), quoting what was given in part.
pub(crate) fn id_in<T: std::str::FromStr>(
    path: &str,
    text: &str,
    what: &str,
) -> Result<T, Problem> {
    text.parse()
        .map_err(|_| field(path, format!("{} is not {what}", evac_model::quoted(text))))
}

pub(crate) fn time_param(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<Timestamp>, Problem> {
    query
        .get(name)
        .map(|v| {
            v.parse().map_err(|_| {
                field(
                    &format!("query.{name}"),
                    format!(
                        "{v} is not an RFC 3339 time like 2022-01-06T12:00:00Z",
                        v = evac_model::quoted(&v)
                    ),
                )
            })
        })
        .transpose()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// The `limit` query parameter: a page size from 1 to the store's page bound, `default` when
/// absent. Anything else is refused naming `query.limit` (a page silently smaller or larger
/// than asked misleads whoever counts on it).
pub(crate) fn limit(
    query: &std::collections::HashMap<String, String>,
    default: u32,
) -> Result<u32, Problem> {
    let Some(v) = query
        .get("limit")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    else {
        return Ok(default);
    };
    v.parse::<u32>()
        .ok()
        .filter(|l| (1..=evac_store::PAGE_ITEMS_MAX).contains(l))
        .ok_or_else(|| {
            Problem::invalid(vec![FieldError {
                path: "query.limit".into(),
                reason: format!(
                    "{v} is not a page size between 1 and {}",
                    evac_store::PAGE_ITEMS_MAX,
                    v = evac_model::quoted(&v)
                ),
            }])
        })
}

/// A JSON body decoded into a draft and checked by `validate`: the typed value, or the problem
/// naming every bad field (a field the draft does not know is named too).
pub(crate) fn json_draft<D: DeserializeOwned, T>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    validate: impl FnOnce(&D) -> Result<T, Vec<FieldError>>,
) -> Result<T, Problem> {
    let (draft, _) = parse_json::<D>(headers, body)?;
    validate(&draft).map_err(Problem::invalid)
}

/// A form's fields decoded into a draft, the same the API decodes its JSON into. Fields named
/// in `beside` (what the desk's page chooses, e.g. which person) are taken out first and
/// returned by name; a field the draft does not know is a problem naming it.
pub(crate) fn form_draft<D: DeserializeOwned>(
    body: &Bytes,
    beside: &[&str],
) -> Result<(D, HashMap<String, String>), Vec<FieldError>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
        vec![FieldError {
            path: String::new(),
            reason: format!("the form could not be read: {e}"),
        }]
    })?;
    let (taken, rest): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(name, _)| beside.contains(&name.as_str()));
    // Fields sent more than once: a one-value field so sent is named (a list field takes them).
    let mut repeated: Vec<&str> = rest
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| rest[..*i].iter().any(|(earlier, _)| earlier == name))
        .map(|(_, (name, _))| name.as_str())
        .collect();
    repeated.sort_unstable();
    repeated.dedup();
    let encoded = serde_urlencoded::to_string(&rest).unwrap_or_default();
    let draft = serde_html_form::from_str(&encoded).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("unknown field"))
            .unwrap_or_default();
        if field.is_empty() && !repeated.is_empty() {
            return repeated
                .iter()
                .map(|name| FieldError {
                    path: name.to_string(),
                    reason: "given more than once; give it once".into(),
                })
                .collect();
        }
        // An unknown field is named as the API names it; anything else is the form's fault.
        let reason = if field.is_empty() {
            format!("the form could not be read: {text}")
        } else {
            text.clone()
        };
        vec![FieldError {
            path: field.to_string(),
            reason,
        }]
    })?;
    Ok((draft, taken.into_iter().collect()))
}

/// The query's parameters a read does not know (its own `known`, and those its caller
/// allows beside them), each named with the ones it does.
pub(crate) fn unknown_parameters(
    query: &HashMap<String, String>,
    known: &[&str],
    extra_allowed: &[&str],
) -> Vec<FieldError> {
    let known: Vec<&str> = known.iter().chain(extra_allowed).copied().collect();
    let mut unknown: Vec<FieldError> = query
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| FieldError {
            path: format!("query.{k}"),
            reason: format!("unknown parameter; use {}", known.join(", ")),
        })
        .collect();
    unknown.sort_by(|a, b| a.path.cmp(&b.path));
    unknown
}
