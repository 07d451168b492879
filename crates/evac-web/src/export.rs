//! Bulk exports over HTTP, streamed page by page so memory stays flat.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use evac_app::ExportActor;
use evac_exchange::export::{Exporter, Format};
use evac_model::FieldError;

use crate::auth::Authenticated;
use crate::intake::parse_filter;
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.add("get", "/api/v1/exports/requests", get(requests))
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

/// `GET /api/v1/exports/requests?format=csv|jsonl|xlsx&hxl=true&…filters`
pub async fn requests(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let filter = parse_filter(&state, &query, &["format", "hxl"], &staff).await?;
    let format_text = query.get("format").map(String::as_str).unwrap_or("csv");
    let format = Format::parse(format_text).ok_or_else(|| {
        Problem::invalid(vec![FieldError {
            path: "query.format".into(),
            reason: format!("'{format_text}' is not one of: csv, jsonl, xlsx"),
        }])
    })?;
    let hxl = query.get("hxl").is_some_and(|v| v == "true" || v == "1");
    let mut cursor = state
        .app
        .begin_export(ExportActor::Staff(&staff), filter, format.extension())
        .await?;

    let (tx, rx) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(EXPORT_CHUNKS_IN_FLIGHT_MAX);
    tokio::spawn(async move {
        let buffer = SharedBuffer::default();
        let result: Result<(), String> = async {
            let mut exporter =
                Exporter::new(format, buffer.clone(), hxl).map_err(|e| e.to_string())?;
            while let Some(page) = cursor.next_page().await.map_err(|e| e.to_string())? {
                for stored in &page {
                    exporter
                        .write_request(&stored.request, &stored.statuses)
                        .map_err(|e| e.to_string())?;
                }
                let chunk = buffer.take();
                if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
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
                tracing::error!(error = %e, "export failed mid-stream");
                let _ = tx.send(Err(std::io::Error::other(e))).await;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let filename = format!("evac-requests.{}", format.extension());
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
    Ok(response)
}
