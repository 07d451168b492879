//! SQL for the seat log and the pass-signing key on SQLite.

use evac_model::{HeldSeat, JourneyStatus, PersonStatus, SeatEvent, SeatEventKind};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, params};

use crate::backend;
use crate::rows::{is_unique_violation, trigger_refusal};

/// Refuses the append with [`StoreError::LogMoved`] unless the seat log is as `when` expects
/// ([`AppendIf`]). Runs on the one writer, so nothing can append between this check and the
/// append.
pub(crate) fn check_head(
    c: &Connection,
    when: AppendIf,
    events: &[SeatEvent],
) -> Result<(), StoreError> {
    let head = || -> Result<i64, StoreError> {
        c.prepare_cached("SELECT COALESCE(max(seq), 0) FROM seat_events")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(backend)
    };
    match when {
        AppendIf::Always => Ok(()),
        AppendIf::HeadIs(expected) => StoreError::unless_log_moved("seat log", expected, head()?),
        AppendIf::HeadIsIgnoringScans(expected) => {
            let moved: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM seat_events WHERE seq > ?1 AND kind NOT IN ('checked_in', 'boarded')",
                )
                .and_then(|mut s| s.query_row([expected], |r| r.get(0)))
                .map_err(backend)?;
            let mut scanned_released = false;
            for e in events.iter().filter(|e| e.kind.releases()) {
                scanned_released |= c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM seat_events WHERE person_id = ?1 AND seq > ?2 AND kind IN ('checked_in', 'boarded'))",
                    )
                    .and_then(|mut s| s.query_row(params![e.person.to_string(), expected], |r| r.get::<_, bool>(0)))
                    .map_err(backend)?;
            }
            if moved > 0 || scanned_released {
                StoreError::unless_log_moved("seat log", expected, head()?)
            } else {
                Ok(())
            }
        }
        AppendIf::PairHeadIs(..) => Err(StoreError::Config(
            "the seat log has no pairs: append with HeadIs or HeadIsIgnoringScans".into(),
        )),
    }
}

/// One seat event, the person event it causes and the person's new status.
pub(crate) fn insert_seat_event(c: &Connection, e: &SeatEvent) -> Result<(), StoreError> {
    let (at, actor, person) = (e.at.unix_micros(), e.actor.label(), e.person.to_string());
    let feeder: bool = c
        .prepare_cached(
            "SELECT json_extract(body, '$.feeds') IS NOT NULL FROM transports WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([e.transport.to_string()], |r| r.get(0))
                .optional()
        })
        .map_err(backend)?
        .unwrap_or(false);
    let status = journey_of(c, &person)?
        .apply(e.kind, e.pass, feeder)
        .as_str();
    c.prepare_cached(
        "INSERT INTO seat_events (at, actor, kind, person_id, household, transport_id, class, pass, reason, seat_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            at,
            actor,
            e.kind.as_str(),
            person,
            e.household,
            e.transport.to_string(),
            e.class,
            e.pass.to_string(),
            e.reason,
            e.seat_number
        ])
    })
    .map_err(|err| {
        if let Some(rule) = trigger_refusal(&err) {
            live_seat_refusal(rule, &person, &e.transport.to_string(), &e.pass.to_string())
        } else if is_unique_violation(&err) {
            seat_conflict(e)
        } else {
            backend(err)
        }
    })?;
    c.prepare_cached(
        "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
         SELECT id, ?1, ?2, status, ?3, ?4 FROM persons WHERE id = ?5",
    )
    .and_then(|mut s| s.execute(params![at, actor, status, e.reason, person]))
    .map_err(backend)?;
    c.prepare_cached("UPDATE persons SET status = ?1, status_at = ?2 WHERE id = ?3")
        .and_then(|mut s| s.execute(params![status, at, person]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn record_presence(c: &Connection, p: &Presence) -> Result<(), StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO presences (request_id, hub, at, actor)
             SELECT id, ?2, ?3, ?4 FROM requests WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                p.request.to_string(),
                p.hub,
                p.at.unix_micros(),
                p.actor
            ])
        })
        .map_err(backend)?;
    if inserted == 0 {
        return Err(StoreError::Missing(format!("request {}", p.request)));
    }
    Ok(())
}

pub(crate) fn presences_at(
    c: &Connection,
    hub: &str,
    since: evac_model::Timestamp,
) -> Result<Vec<Presence>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT request_id, hub, at, actor FROM presences
             WHERE hub = ?1 AND at >= ?2 ORDER BY at, request_id",
        )
        .map_err(backend)?;
    let rows = s
        .query_map(params![hub, since.unix_micros()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (request, hub, at, actor) = row.map_err(backend)?;
        Ok(Presence {
            request: parse_id("presences.request_id", &request)?,
            hub,
            at: evac_model::Timestamp::from_unix_micros(at),
            actor,
        })
    })
    .collect()
}

/// The person's status and the live seats they hold now, for [`JourneyStatus`] to move.
fn journey_of(c: &Connection, person: &str) -> Result<JourneyStatus, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT p.status, l.pass, l.state, json_extract(t.body, '$.feeds') IS NOT NULL
             FROM persons p
             LEFT JOIN live_seats l ON l.person_id = p.id
             LEFT JOIN transports t ON t.id = l.transport_id
             WHERE p.id = ?1",
        )
        .map_err(backend)?;
    let rows = s
        .query_map([person], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<bool>>(3)?,
            ))
        })
        .map_err(backend)?;
    let mut status = PersonStatus::Verified;
    let mut seats = Vec::new();
    for row in rows {
        let (stored, pass, state, feeder) = row.map_err(backend)?;
        status = PersonStatus::parse(&stored).unwrap_or(PersonStatus::Verified);
        if let (Some(pass), Some(state)) = (pass, state) {
            seats.push(HeldSeat {
                pass: pass
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("live seat pass '{pass}': {e}")))?,
                feeder: feeder.unwrap_or(false),
                state: SeatEventKind::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("live seat state '{state}'")))?,
            });
        }
    }
    Ok(JourneyStatus::new(status, seats))
}

pub(crate) fn seat_events(
    c: &Connection,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<evac_model::StoredSeatEvent>, StoreError> {
    seat_rows(
        c,
        "WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        params![after_seq, limit],
    )
}

pub(crate) fn seat_events_of(
    c: &Connection,
    person: &str,
) -> Result<Vec<evac_model::StoredSeatEvent>, StoreError> {
    seat_rows(c, "WHERE person_id = ?1 ORDER BY seq", params![person])
}

fn seat_rows(
    c: &Connection,
    condition: &str,
    values: impl rusqlite::Params,
) -> Result<Vec<evac_model::StoredSeatEvent>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {SEAT_COLUMNS} FROM seat_events {condition}"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map(values, |r| {
            Ok(SeatRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                kind: r.get(3)?,
                person_id: r.get(4)?,
                household: r.get(5)?,
                transport_id: r.get(6)?,
                class: r.get(7)?,
                pass: r.get(8)?,
                reason: r.get(9)?,
                seat_number: r.get(10)?,
            })
        })
        .map_err(backend)?;
    rows.map(|row| row.map_err(backend)?.into_event()).collect()
}

pub(crate) fn legacy_signing_secret(
    c: &Connection,
    forget: bool,
) -> Result<Option<[u8; 32]>, StoreError> {
    let secret: Option<Vec<u8>> = c
        .prepare_cached("SELECT secret FROM signing_keys WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(backend)?;
    if forget {
        c.execute("DELETE FROM signing_keys", []).map_err(backend)?;
    }
    secret
        .map(|s| {
            s.try_into()
                .map_err(|_| StoreError::Corrupt("signing_keys.secret is not 32 bytes".into()))
        })
        .transpose()
}

pub(crate) fn register_pass_key(
    c: &Connection,
    public_key: &str,
    at_us: i64,
    only_if_none: bool,
) -> Result<bool, StoreError> {
    let sql = if only_if_none {
        "INSERT INTO pass_public_keys (public_key, created_at) SELECT ?1, ?2
         WHERE NOT EXISTS (SELECT 1 FROM pass_public_keys) ON CONFLICT DO NOTHING"
    } else {
        "INSERT INTO pass_public_keys (public_key, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
    };
    c.prepare_cached(sql)
        .and_then(|mut s| s.execute(params![public_key, at_us]))
        .map_err(backend)?;
    let present: Option<i64> = c
        .prepare_cached("SELECT 1 FROM pass_public_keys WHERE public_key = ?1")
        .and_then(|mut s| s.query_row([public_key], |r| r.get(0)).optional())
        .map_err(backend)?;
    Ok(present.is_some())
}
