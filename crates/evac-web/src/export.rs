//! Bulk exports over HTTP, streamed page by page so memory stays flat.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use evac_app::ExportActor;
use evac_exchange::export::{Exporter, Format, person_rows};
use evac_model::FieldError;

use crate::auth::Authenticated;
use crate::intake::parse_filter;
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(requests)).routes(routes!(cases))
}

/// Chunks buffered between the exporter and the socket.
const EXPORT_CHUNKS_IN_FLIGHT_MAX: usize = 8;

/// A `Write` whose bytes are taken out after each page and sent down the response.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(&mut *self.0.lock().expect("buffer lock")))
    }
}

/// The `format` parameter of an export: csv (the default), jsonl or xlsx.
fn export_format(query: &HashMap<String, String>) -> Result<Format, Problem> {
    let text = query.get("format").map(String::as_str).unwrap_or("csv");
    Format::parse(text).ok_or_else(|| {
        Problem::invalid(vec![FieldError {
            path: "query.format".into(),
            reason: format!(
                "{text} is not one of: csv, jsonl, xlsx",
                text = evac_model::quoted(&text)
            ),
        }])
    })
}

/// A chunk of an export's rows, a value per column; an error ends the export.
type RowChunks = futures_util::stream::BoxStream<'static, Result<Vec<Vec<String>>, String>>;

/// A streamed download named `evac-{what}.{extension}`: a task writes each chunk of `rows`
/// with `exporter` and sends it before reading the next, so memory stays flat; a failure
/// mid-stream ends the body with an error (the client sees a cut download, not a short file).
fn download(
    what: &'static str,
    format: Format,
    mut exporter: Exporter<SharedBuffer>,
    buffer: SharedBuffer,
    mut rows: RowChunks,
) -> Response {
    use futures_util::StreamExt;
    let (tx, rx) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(EXPORT_CHUNKS_IN_FLIGHT_MAX);
    tokio::spawn(async move {
        let result: Result<(), String> = async {
            while let Some(chunk) = rows.next().await {
                for row in chunk? {
                    exporter.write_row(row).map_err(|e| e.to_string())?;
                }
                let bytes = buffer.take();
                if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                    return Ok(()); // the client went away
                }
            }
            exporter.finish().map_err(|e| e.to_string())?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                let rest = buffer.take();
                if !rest.is_empty() {
                    let _ = tx.send(Ok(rest)).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, export = what, "export failed mid-stream");
                let _ = tx.send(Err(std::io::Error::other(e))).await;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let filename = format!("evac-{what}.{}", format.extension());
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
            .expect("ASCII file name"),
    );
    response
}

/// `GET /api/v1/exports/cases?format=csv|jsonl|xlsx&hxl=true&class=&mark=&mine=`: the case
/// list's view, a row per household in the order triage serves them (its rank, class, people,
/// marks, requests' references, place), streamed a chunk of households at a time.
#[utoipa::path(
    get,
    path = "/api/v1/exports/cases",
    tag = "export",
    summary = "Export the case list's view: a row per household, in the order triage serves them (rank, class and its name, people, marks, its requests' references, place, first received), filtered as the case list is; streamed with flat memory; audited",
    params(
        ("format" = Option<String>, Query, description = "one of: csv, jsonl, xlsx"),
        ("hxl" = Option<bool>, Query, description = "a row of HXL hashtags under the header"),
        ("class" = Option<i64>, Query, description = "households of this priority class (1 is served first)"),
        ("mark" = Option<String>, Query, description = "one of: medical_emergency, unaccompanied_minor, high_threat"),
        ("mine" = Option<bool>, Query, description = "households one of whose requests the caller holds"),
    ),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 403, description = "role may not export"),
        (status = 409, description = "the households are being ranked; try again in a moment"),
        (status = 422, description = "a parameter it cannot read, named"),
    ),
)]
pub async fn cases(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let unknown = crate::doors::unknown_parameters(
        &query,
        &["format", "hxl", "class", "mark", "mine", "lang"],
        &[],
    );
    if !unknown.is_empty() {
        return Err(Problem::invalid(unknown));
    }
    let filter = crate::triage::case_filter(&query).map_err(Problem::invalid)?;
    let format = export_format(&query)?;
    let hxl = query.get("hxl").is_some_and(|v| v == "true" || v == "1");
    let export = state
        .app
        .begin_case_export(&staff, filter, format.extension())
        .await?;
    let buffer = SharedBuffer::default();
    let exporter = Exporter::table(
        format,
        buffer.clone(),
        "cases",
        &evac_app::CASE_EXPORT_COLUMNS,
        hxl,
    )
    .map_err(|e| Problem::internal(e.to_string()))?;
    let rows = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(rows)) => Some((Ok(rows), export)),
            Ok(None) => None,
            Err(e) => Some((Err(e.to_string()), export)),
        }
    });
    Ok(download("cases", format, exporter, buffer, Box::pin(rows)))
}

/// `GET /api/v1/exports/requests?format=csv|jsonl|xlsx&hxl=true&…filters`
#[utoipa::path(
    get,
    path = "/api/v1/exports/requests",
    tag = "export",
    summary = "Export requests (one row per person), streamed",
    params(
        crate::intake::RequestFilterParams,
        ("format" = Option<String>, Query, description = "one of: csv, jsonl, xlsx"),
        ("hxl" = Option<bool>, Query, description = "add the HXL hashtag row"),
    ),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 403, description = "role may not export"),
    ),
)]
pub async fn requests(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let filter = parse_filter(&state, &query, &["format", "hxl"], &staff).await?;
    let format = export_format(&query)?;
    let hxl = query.get("hxl").is_some_and(|v| v == "true" || v == "1");
    let cursor = state
        .app
        .begin_export(ExportActor::Staff(&staff), filter, format.extension())
        .await?;
    let buffer = SharedBuffer::default();
    let exporter =
        Exporter::new(format, buffer.clone(), hxl).map_err(|e| Problem::internal(e.to_string()))?;
    // A row per person of each request.
    let rows = futures_util::stream::unfold(cursor, |mut cursor| async move {
        match cursor.next_page().await {
            Ok(Some(page)) => {
                let rows = page
                    .iter()
                    .flat_map(|stored| person_rows(&stored.request, &stored.statuses))
                    .map(Vec::from)
                    .collect();
                Some((Ok(rows), cursor))
            }
            Ok(None) => None,
            Err(e) => Some((Err(e.to_string()), cursor)),
        }
    });
    Ok(download(
        "requests",
        format,
        exporter,
        buffer,
        Box::pin(rows),
    ))
}
