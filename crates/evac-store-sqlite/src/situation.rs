//! SQL for hubs, hub statuses and reports on SQLite.

use evac_model::{Hub, HubStatusChange, Report};
use evac_store::*;
use rusqlite::{Connection, params};

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

pub(crate) fn append_hub_status(c: &Connection, h: &HubStatusChange) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO hub_statuses (hub, status, from_at, until, note) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            h.hub,
            h.status.as_str(),
            h.from.unix_micros(),
            h.until.map(|u| u.unix_micros()),
            h.note
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn hub_statuses(c: &Connection) -> Result<Vec<HubStatusChange>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT hub, status, from_at, until, note FROM hub_statuses ORDER BY hub, from_at, seq",
        )
        .map_err(backend)?;
    let rows = s
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (hub, status, from, until, note) = row.map_err(backend)?;
        hub_status_from_columns(hub, &status, from, until, note)
    })
    .collect()
}

pub(crate) fn insert_report(c: &Connection, r: &Report) -> Result<(), StoreError> {
    c.prepare_cached("INSERT INTO reports (id, received_at, source, grade, language, text, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .and_then(|mut s| {
            s.execute(params![
                r.id.to_string(),
                r.received_at.unix_micros(),
                r.source,
                r.grade.map(|g| g.to_string()),
                r.language,
                r.text,
                r.state.as_str()
            ])
        })
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn reports(c: &Connection, limit: u32) -> Result<Vec<Report>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT id, received_at, source, grade, language, text, state FROM reports ORDER BY received_at DESC, id DESC LIMIT ?1")
        .map_err(backend)?;
    let rows = s
        .query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, received_at, source, grade, language, text, state) = row.map_err(backend)?;
        report_from_columns(&id, received_at, source, grade, language, text, &state)
    })
    .collect()
}
