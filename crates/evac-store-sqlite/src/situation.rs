//! SQL for hubs, routes and zones, reports with their statements, and policy versions on
//! SQLite.

use evac_model::{Claim, Feature, Grade, Hub, Report, ReportId, ReportState, Statement};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, params};

use crate::backend;

pub(crate) fn upsert_hub(c: &Connection, h: &Hub) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO hubs (code, kind, name, country, municipality, lat, lon, iata, icao) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, country = excluded.country,
           municipality = excluded.municipality, lat = excluded.lat, lon = excluded.lon, iata = excluded.iata, icao = excluded.icao",
    )
    .and_then(|mut s| s.execute(params![h.code, h.kind.as_str(), h.name, h.country.as_str(), h.municipality, h.lat, h.lon, h.iata, h.icao]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn hubs(c: &Connection) -> Result<Vec<Hub>, StoreError> {
    let mut s = c.prepare_cached("SELECT code, kind, name, country, municipality, lat, lon, iata, icao FROM hubs ORDER BY code").map_err(backend)?;
    let rows = s
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (code, kind, name, country, municipality, lat, lon, iata, icao) =
            row.map_err(backend)?;
        hub_from_columns(
            code,
            &kind,
            name,
            &country,
            municipality,
            lat,
            lon,
            iata,
            icao,
        )
    })
    .collect()
}

pub(crate) fn upsert_feature(c: &Connection, feature: &Feature) -> Result<(), StoreError> {
    let body = serde_json::to_string(feature).map_err(|e| StoreError::Backend(e.to_string()))?;
    c.prepare_cached(
        "INSERT INTO features (subject, body) VALUES (?1, ?2) ON CONFLICT (subject) DO UPDATE SET body = excluded.body",
    )
    .and_then(|mut s| s.execute(params![feature.subject().to_string(), body]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn features(c: &Connection) -> Result<Vec<Feature>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT subject, body FROM features ORDER BY subject")
        .map_err(backend)?;
    let rows = s
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(backend)?;
    rows.map(|row| {
        let (subject, body) = row.map_err(backend)?;
        serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("feature {subject}: {e}")))
    })
    .collect()
}

/// Inserts the report unless its external id is stored; the id stored and whether it is new.
pub(crate) fn insert_report(
    c: &Connection,
    r: &Report,
    statements: &[Statement],
) -> Result<(ReportId, bool), StoreError> {
    if let Some(external) = &r.external_id {
        let existing: Option<String> = c
            .prepare_cached("SELECT id FROM reports WHERE external_id = ?1")
            .and_then(|mut s| s.query_row([external], |row| row.get(0)).optional())
            .map_err(backend)?;
        if let Some(id) = existing {
            return Ok((parse_id("reports.id", &id)?, false));
        }
    }
    let mentions =
        serde_json::to_string(&r.mentions).map_err(|e| StoreError::Backend(e.to_string()))?;
    c.prepare_cached("INSERT INTO reports (id, received_at, source, grade, language, text, state, mentions, external_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .and_then(|mut s| {
            s.execute(params![
                r.id.to_string(),
                r.received_at.unix_micros(),
                r.source,
                r.grade.map(|g| g.to_string()),
                r.language,
                r.text,
                r.state.as_str(),
                mentions,
                r.external_id,
            ])
        })
        .map_err(backend)?;
    insert_statements(c, r.id, statements)?;
    Ok((r.id, true))
}

pub(crate) fn insert_statements(
    c: &Connection,
    report: ReportId,
    statements: &[Statement],
) -> Result<(), StoreError> {
    let mut insert = c
        .prepare_cached("INSERT INTO statements (report, subject, effect, from_at, until, capacity_per_day, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .map_err(backend)?;
    for st in statements {
        insert
            .execute(params![
                report.to_string(),
                st.subject.to_string(),
                st.effect.to_string(),
                st.from.unix_micros(),
                st.until.map(|u| u.unix_micros()),
                st.capacity_per_day,
                st.note,
            ])
            .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn report_exists(c: &Connection, id: ReportId) -> Result<bool, StoreError> {
    c.prepare_cached("SELECT 1 FROM reports WHERE id = ?1")
        .and_then(|mut s| s.exists([id.to_string()]))
        .map_err(backend)
}

pub(crate) fn update_report(
    c: &Connection,
    id: ReportId,
    grade: Option<Grade>,
    state: ReportState,
) -> Result<bool, StoreError> {
    let changed = c
        .prepare_cached("UPDATE reports SET grade = ?2, state = ?3 WHERE id = ?1")
        .and_then(|mut s| {
            s.execute(params![
                id.to_string(),
                grade.map(|g| g.to_string()),
                state.as_str()
            ])
        })
        .map_err(backend)?;
    Ok(changed == 1)
}

fn report_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok(ReportRow {
        id: r.get(0)?,
        received_at: r.get(1)?,
        source: r.get(2)?,
        grade: r.get(3)?,
        language: r.get(4)?,
        text: r.get(5)?,
        state: r.get(6)?,
        mentions: r.get(7)?,
        external_id: r.get(8)?,
    })
}

pub(crate) fn report(c: &Connection, id: ReportId) -> Result<Option<Report>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row([id.to_string()], report_row).optional())
    .map_err(backend)?
    .map(ReportRow::into_report)
    .transpose()
}

pub(crate) fn reports(c: &Connection, limit: u32) -> Result<Vec<Report>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports ORDER BY received_at DESC, id DESC LIMIT ?1"
        ))
        .map_err(backend)?;
    let rows = s.query_map([limit], report_row).map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_report())
        .collect()
}

pub(crate) fn claims(c: &Connection) -> Result<Vec<Claim>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {CLAIM_COLUMNS} FROM statements s JOIN reports r ON r.id = s.report ORDER BY s.seq"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map([], |r| {
            Ok(ClaimRow {
                seq: r.get(0)?,
                report: r.get(1)?,
                subject: r.get(2)?,
                effect: r.get(3)?,
                from_at: r.get(4)?,
                until: r.get(5)?,
                capacity_per_day: r.get(6)?,
                note: r.get(7)?,
                source: r.get(8)?,
                grade: r.get(9)?,
                state: r.get(10)?,
                received_at: r.get(11)?,
            })
        })
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_claim()).collect()
}

pub(crate) fn insert_policy(
    c: &Connection,
    toml: &str,
    at: evac_model::Timestamp,
    author: &str,
) -> Result<i64, StoreError> {
    c.prepare_cached("INSERT INTO triage_policies (toml, created_at, author) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![toml, at.unix_micros(), author]))
        .map_err(backend)?;
    Ok(c.last_insert_rowid())
}

/// A version (the newest when `version` is `None`), or every version without text.
pub(crate) fn policies(
    c: &Connection,
    version: Option<i64>,
    with_text: bool,
) -> Result<Vec<StoredPolicy>, StoreError> {
    let text = if with_text { "toml" } else { "''" };
    let filter = match version {
        Some(_) => "WHERE version = ?1",
        None if with_text => "WHERE ?1 IS NULL ORDER BY version DESC LIMIT 1",
        None => "WHERE ?1 IS NULL ORDER BY version DESC",
    };
    let mut s = c
        .prepare_cached(&format!(
            "SELECT version, {text}, created_at, author FROM triage_policies {filter}"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map([version], |r| {
            Ok(StoredPolicy {
                version: r.get(0)?,
                toml: r.get(1)?,
                created_at: evac_model::Timestamp::from_unix_micros(r.get(2)?),
                author: r.get(3)?,
            })
        })
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)).collect()
}
