//! The audit chain on SQLite: one writer, so events commit in `seq` order and a seal job sees
//! every event before the ones it seals.

use evac_store::StoreError;
use evac_store::audit_chain::{AuditColumns, ChainLink, ChainRow, seal};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

fn hash_of(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("audit_chain.hash is not 32 bytes".into()))
}

fn columns(r: &Row, first: usize) -> rusqlite::Result<Option<AuditColumns>> {
    let Some(seq) = r.get::<_, Option<i64>>(first)? else {
        return Ok(None);
    };
    Ok(Some(AuditColumns {
        seq,
        at: r.get(first + 1)?,
        actor: r.get(first + 2)?,
        action: r.get(first + 3)?,
        subject: r.get(first + 4)?,
        detail: r.get(first + 5)?,
    }))
}

pub(crate) fn head(c: &Connection) -> Result<Option<ChainLink>, StoreError> {
    let row = c
        .prepare_cached("SELECT pos, seq, hash FROM audit_chain ORDER BY pos DESC LIMIT 1")
        .map_err(backend)?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .optional()
        .map_err(backend)?;
    row.map(|(pos, seq, hash)| {
        Ok(ChainLink {
            pos,
            seq,
            hash: hash_of(hash)?,
        })
    })
    .transpose()
}

pub(crate) fn seal_audit(c: &Connection, limit: u32) -> Result<u32, StoreError> {
    let head = head(c)?;
    let events = c
        .prepare_cached(
            "SELECT seq, at, actor, action, subject, detail FROM audit_events
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![head.map_or(0, |h| h.seq), limit], |r| {
            columns(r, 0).map(|c| c.expect("seq is never null"))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let mut insert = c
        .prepare_cached("INSERT INTO audit_chain (pos, seq, hash) VALUES (?1, ?2, ?3)")
        .map_err(backend)?;
    for link in seal(head, &events) {
        insert
            .execute(params![link.pos, link.seq, link.hash.as_slice()])
            .map_err(backend)?;
    }
    Ok(events.len() as u32)
}

pub(crate) fn audit_chain(
    c: &Connection,
    after_pos: i64,
    limit: u32,
) -> Result<Vec<ChainRow>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT c.pos, c.seq, c.hash, e.seq, e.at, e.actor, e.action, e.subject, e.detail
             FROM audit_chain c LEFT JOIN audit_events e ON e.seq = c.seq
             WHERE c.pos > ?1 ORDER BY c.pos LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = s
        .query_map(params![after_pos, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                columns(r, 3)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (pos, seq, hash, event) = row.map_err(backend)?;
        Ok(ChainRow {
            link: ChainLink {
                pos,
                seq,
                hash: hash_of(hash)?,
            },
            event,
        })
    })
    .collect()
}

pub(crate) fn audit_unsealed(
    c: &Connection,
    up_to_seq: i64,
    limit: u32,
) -> Result<(Vec<i64>, u64), StoreError> {
    let inside = c
        .prepare_cached(
            "SELECT e.seq FROM audit_events e
             WHERE e.seq <= ?1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = e.seq)
             ORDER BY e.seq LIMIT ?2",
        )
        .map_err(backend)?
        .query_map(params![up_to_seq, limit], |r| r.get(0))
        .map_err(backend)?
        .collect::<Result<Vec<i64>, _>>()
        .map_err(backend)?;
    let after: i64 = c
        .prepare_cached("SELECT count(*) FROM audit_events WHERE seq > ?1")
        .map_err(backend)?
        .query_row([up_to_seq], |r| r.get(0))
        .map_err(backend)?;
    Ok((inside, after as u64))
}
