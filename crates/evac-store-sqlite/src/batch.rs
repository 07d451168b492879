//! The writer's batch: its connection, and the dashboard counts its jobs changed.
//!
//! Counting each new request and person with a trigger made every insert a statement that could
//! fail half-way, so SQLite copied each page it touched into a statement journal first, and ran
//! an upsert per row. Jobs now add to counts in memory ([`WriteBatch::count_request`]), and the
//! batch writes the sums once, just before its commit, in the same transaction: the counts are
//! exactly as durable, and as atomic, as the rows they count. (Changes of an existing row's
//! status or town are rare and still counted by triggers: migrations 0009 and 0030.)

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Deref;

use evac_model::PersonStatus;
use evac_store::StoreError;
use rusqlite::{Connection, params};

use crate::backend;

/// Microseconds in an hour: `hour_counts` counts requests per whole hour since the epoch.
const HOUR_MICROS: i64 = 3_600_000_000;

/// What a batch's jobs add to the dashboard's counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CountDeltas {
    by_place: HashMap<i64, i64>,
    by_status: HashMap<&'static str, i64>,
    by_hour: HashMap<i64, i64>,
}

/// The writer's connection during a batch; dereferences to the connection, so a job's SQL
/// reads as on any connection.
pub(crate) struct WriteBatch {
    conn: Connection,
    counts: RefCell<CountDeltas>,
    /// A job of this batch corrected a request (see [`WriteBatch::note_correction`]).
    corrected: Cell<bool>,
}

impl Deref for WriteBatch {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl WriteBatch {
    pub(crate) fn new(conn: Connection) -> Self {
        WriteBatch {
            conn,
            counts: RefCell::default(),
            corrected: Cell::new(false),
        }
    }

    /// Marks the batch as holding a correction, so the writer bumps the keyer's correction
    /// counter once more after the commit (the name_keys module says why).
    pub(crate) fn note_correction(&self) {
        self.corrected.set(true);
    }

    /// Whether the batch held a correction; clears the mark for the next batch.
    pub(crate) fn take_corrected(&self) -> bool {
        self.corrected.replace(false)
    }

    /// Counts a new request received at `received_at` (µs) in the town `place` (a GeoNames
    /// id; 0 or none: no known town), with `people` newly registered persons.
    pub(crate) fn count_request(&self, place: Option<i64>, received_at: i64, people: usize) {
        let mut counts = self.counts.borrow_mut();
        if let Some(place) = place.filter(|&p| p > 0) {
            *counts.by_place.entry(place).or_default() += 1;
        }
        *counts.by_hour.entry(received_at / HOUR_MICROS).or_default() += 1;
        *counts
            .by_status
            .entry(PersonStatus::Registered.as_str())
            .or_default() += people as i64;
    }

    /// Counts `people` persons newly registered in an existing request (a correction that
    /// adds someone to a party).
    pub(crate) fn count_registered(&self, people: usize) {
        *self
            .counts
            .borrow_mut()
            .by_status
            .entry(PersonStatus::Registered.as_str())
            .or_default() += people as i64;
    }

    /// The counts so far (to restore if a job fails in isolation).
    pub(crate) fn counts(&self) -> CountDeltas {
        self.counts.borrow().clone()
    }

    pub(crate) fn restore_counts(&self, counts: CountDeltas) {
        *self.counts.borrow_mut() = counts;
    }

    /// Forgets the counts of a batch that was rolled back.
    pub(crate) fn discard_counts(&self) {
        *self.counts.borrow_mut() = CountDeltas::default();
    }

    /// Writes the batch's counts (inside its transaction) and starts the next batch's from zero.
    pub(crate) fn write_counts(&self) -> Result<(), StoreError> {
        let counts = std::mem::take(&mut *self.counts.borrow_mut());
        add_to_counts(&self.conn, "place_counts", "place_id", counts.by_place)?;
        add_to_counts(&self.conn, "status_counts", "status", counts.by_status)?;
        add_to_counts(&self.conn, "hour_counts", "hour", counts.by_hour)
    }
}

/// Adds each delta to its key's row of a count table (`key`, `n`), creating rows as needed.
fn add_to_counts<K: rusqlite::ToSql>(
    c: &Connection,
    table: &str,
    key: &str,
    deltas: HashMap<K, i64>,
) -> Result<(), StoreError> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut upsert = c
        .prepare_cached(&format!(
            "INSERT INTO {table} ({key}, n) VALUES (?1, ?2) ON CONFLICT ({key}) DO UPDATE SET n = n + excluded.n"
        ))
        .map_err(backend)?;
    for (k, n) in deltas {
        upsert.execute(params![k, n]).map_err(backend)?;
    }
    Ok(())
}
