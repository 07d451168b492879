//! Group commit of intake on PostgreSQL (issue 24, item 3).
//!
//! Each request used to be its own transaction: a round trip, a plan and a WAL flush per
//! request, about 2,500 requests/s on one node where SQLite's group commit took 12,000. Now
//! [`INTAKE_WRITERS`] writers per node each take what has queued while they were busy (at most
//! [`INTAKE_BATCH_REQUESTS_MAX`]) and store it as one transaction of one statement per table,
//! arrays unnested; each request is answered only after that commit. A lone request goes as
//! before (one statement, no BEGIN/COMMIT), so a quiet node answers as fast as it did.
//!
//! Idempotency holds across nodes as before: a batch first claims its requests' keys (`ON
//! CONFLICT DO NOTHING`, which waits for another transaction holding the same key); a request
//! whose key another request holds is left out of the batch and answered after the commit by
//! the one-request path, which finds the first answer. When the batch's statement fails (a
//! reference code drawn twice, rarely), the whole batch is rolled back and each request goes
//! through the one-request path, which names its own outcome.

use std::sync::Arc;

use evac_model::PersonStatus;
use evac_store::{InsertOutcome, RequestInsert, StoreError, request_search_keys};
use sqlx::postgres::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Requests one intake transaction stores at most. `EVAC_PG_INTAKE_BATCH_MAX` lowers it (1 turns
/// group commit off: the benchmark's baseline).
pub const INTAKE_BATCH_REQUESTS_MAX: usize = 128;
/// Intake transactions a node has in flight at once, each on a connection of the pool.
pub const INTAKE_WRITERS: usize = 4;
/// Requests waiting for a writer, per node, beyond which submitting waits (back-pressure).
const INTAKE_QUEUE_REQUESTS_MAX: usize = 4_096;

type Answer = oneshot::Sender<Result<InsertOutcome, StoreError>>;
type Job = (RequestInsert, Answer);

/// The node's intake writers and their queue; the writers stop when this is dropped.
pub(crate) struct GroupCommit {
    /// `None` when group commit is off: each request is its own statement on the pool.
    queue: Option<mpsc::Sender<Job>>,
    pool: PgPool,
    /// Batches of two or more requests stored in one transaction so far (for tests).
    pub(crate) batches_committed: Arc<std::sync::atomic::AtomicU64>,
}

impl GroupCommit {
    /// Starts the writers on the current Tokio runtime.
    pub(crate) fn start(pool: PgPool) -> Self {
        let batch_max = std::env::var("EVAC_PG_INTAKE_BATCH_MAX")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(INTAKE_BATCH_REQUESTS_MAX, |n| {
                n.clamp(1, INTAKE_BATCH_REQUESTS_MAX)
            });
        let batches_committed = Arc::new(std::sync::atomic::AtomicU64::new(0));
        if batch_max == 1 {
            return GroupCommit {
                queue: None,
                pool,
                batches_committed,
            };
        }
        let (queue, jobs) = mpsc::channel(INTAKE_QUEUE_REQUESTS_MAX);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..INTAKE_WRITERS {
            let (jobs, pool, committed) = (jobs.clone(), pool.clone(), batches_committed.clone());
            tokio::spawn(async move {
                while let Some(batch) = next_batch(&jobs, batch_max).await {
                    if commit(&pool, batch).await {
                        committed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        GroupCommit {
            queue: Some(queue),
            pool,
            batches_committed,
        }
    }

    /// Stores one request with whatever else is queued; answers after the commit.
    pub(crate) async fn insert(&self, insert: RequestInsert) -> Result<InsertOutcome, StoreError> {
        let Some(queue) = &self.queue else {
            return crate::insert_one(&self.pool, &insert).await;
        };
        let (answer, answered) = oneshot::channel();
        queue
            .send((insert, answer))
            .await
            .map_err(|_| StoreError::Unavailable("the intake writers stopped".into()))?;
        answered.await.map_err(|_| {
            StoreError::Unavailable("an intake writer stopped before answering".into())
        })?
    }
}

/// Waits for a request, then takes what else is queued (up to the batch's bound). One writer
/// waits at a time; the others are committing meanwhile, which is what lets requests queue.
async fn next_batch(jobs: &Mutex<mpsc::Receiver<Job>>, batch_max: usize) -> Option<Vec<Job>> {
    let mut jobs = jobs.lock().await;
    let first = jobs.recv().await?;
    let mut batch = vec![first];
    while batch.len() < batch_max {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Stores a batch and answers each request; the answer is whether two or more were stored in
/// one transaction.
async fn commit(pool: &PgPool, mut batch: Vec<Job>) -> bool {
    if batch.len() == 1 {
        let (insert, answer) = batch.pop().expect("one job");
        let _ = answer.send(crate::insert_one(pool, &insert).await);
        return false;
    }
    let inserts: Vec<&RequestInsert> = batch.iter().map(|(insert, _)| insert).collect();
    match store_batch(pool, &inserts).await {
        Ok(claimed) => {
            for ((insert, answer), stored) in batch.into_iter().zip(claimed) {
                let outcome = if stored {
                    Ok(InsertOutcome::Inserted)
                } else {
                    // Its key is another request's: the one-request path reads that answer.
                    crate::insert_one(pool, &insert).await
                };
                let _ = answer.send(outcome);
            }
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, requests = batch.len(), "an intake batch failed; storing its requests one by one");
            for (insert, answer) in batch {
                let _ = answer.send(crate::insert_one(pool, &insert).await);
            }
            false
        }
    }
}

/// Stores the batch in one transaction; the answer says, per request, whether it was stored
/// (`false`: its idempotency key is another request's).
async fn store_batch(pool: &PgPool, batch: &[&RequestInsert]) -> Result<Vec<bool>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut stored = vec![true; batch.len()];
    // In key order: two batches claiming the same keys on two nodes take them in one order,
    // so neither waits for the other in a cycle (a deadlock PostgreSQL breaks only after
    // `deadlock_timeout`).
    let mut claiming: Vec<usize> = (0..batch.len())
        .filter(|&i| batch[i].idempotency.is_some())
        .collect();
    claiming.sort_by(|&a, &b| {
        let key = |i: usize| batch[i].idempotency.as_ref().map(|c| c.key.as_str());
        key(a).cmp(&key(b))
    });
    if !claiming.is_empty() {
        let claim = |i: &usize| batch[*i].idempotency.as_ref().expect("claiming");
        let keys: Vec<String> = claiming.iter().map(|i| claim(i).key.clone()).collect();
        let digests: Vec<Vec<u8>> = claiming
            .iter()
            .map(|i| claim(i).body_sha256.to_vec())
            .collect();
        let ids: Vec<String> = claiming
            .iter()
            .map(|&i| batch[i].request.id.to_string())
            .collect();
        let at: Vec<i64> = claiming
            .iter()
            .map(|&i| batch[i].request.received_at.unix_micros())
            .collect();
        // A key another transaction holds makes this wait until it ends, then skips the key.
        let won: Vec<String> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (key, body_sha256, request_id, created_at)
             SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::text[], $4::bigint[])
             ON CONFLICT (key) DO NOTHING RETURNING request_id",
        )
        .bind(keys)
        .bind(digests)
        .bind(ids)
        .bind(at)
        .fetch_all(&mut *tx)
        .await?;
        for &i in &claiming {
            stored[i] = won.contains(&batch[i].request.id.to_string());
        }
    }
    let storing: Vec<&RequestInsert> = batch
        .iter()
        .zip(&stored)
        .filter_map(|(insert, &s)| s.then_some(*insert))
        .collect();
    if !storing.is_empty() {
        batch_statement(&storing)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(stored)
}

/// The requests, their people, search keys, due marks and audit events as one
/// statement of data-modifying CTEs over arrays: one round trip and one plan for the batch.
fn batch_statement(
    batch: &[&RequestInsert],
) -> Result<sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>, StoreError> {
    let mut requests = RequestColumns::default();
    let mut people = PersonColumns::default();
    let (mut keys, mut keyed) = (Vec::new(), Vec::new());
    let mut acknowledged = Vec::new();
    let mut audit = AuditColumns::default();
    for insert in batch {
        let r = &insert.request;
        let id = r.id.to_string();
        requests.id.push(id.clone());
        requests.reference.push(r.reference.compact().to_string());
        requests.received_at.push(r.received_at.unix_micros());
        requests.channel.push(r.body.channel.as_str().to_string());
        requests
            .location_latin
            .push(evac_model::to_icao_latin(&r.body.location.text));
        requests
            .country
            .push(r.body.location.country.map(|c| c.to_string()));
        requests
            .place_id
            // Read at intake: 0 is "no known place", NULL is "never read" (catch_up_places).
            .push(Some(r.body.location.place_id.unwrap_or(0) as i64));
        requests.has_minors.push(insert.has_minors);
        requests.party_size.push(r.body.party.len() as i32);
        let (citizenships, needs) = evac_store::party_tags(&r.body);
        requests.citizenships.push(citizenships);
        requests.needs.push(needs);
        requests
            .body
            .push(serde_json::to_string(&r.body).map_err(|e| StoreError::Backend(e.to_string()))?);
        for (ordinal, p) in r.body.party.iter().enumerate() {
            people.id.push(p.id.to_string());
            people.request_id.push(id.clone());
            people.ordinal.push(ordinal as i32);
            people
                .surname
                .push(p.surname.as_ref().map(|n| n.latin.clone()));
            people
                .given
                .push(p.given_names.as_ref().map(|n| n.latin.clone()));
            people.birth.push(match p.birth {
                Some(evac_model::Birth::Date(d)) => Some(d.to_string()),
                _ => None,
            });
            people.status_at.push(r.received_at.unix_micros());
        }
        for key in request_search_keys(&r.body) {
            keys.push(key);
            keyed.push(id.clone());
        }
        if insert.acknowledge {
            acknowledged.push(id.clone());
        }
        let a = &insert.audit;
        audit.at.push(a.at.unix_micros());
        audit.actor.push(a.actor.label());
        audit.action.push(a.action.clone());
        audit.subject.push(a.subject.clone());
        audit.detail.push(a.detail.to_string());
    }
    Ok(sqlx::query(
        "WITH request AS (
             INSERT INTO requests (id, reference, received_at, channel, location_latin, country, place_id, has_minors, party_size, body, citizenships, needs)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::boolean[], $9::int[], $10::text[], $27::text[], $28::text[])
         ), people AS (
             INSERT INTO persons (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
             SELECT p.id, p.request_id, p.ordinal, p.surname, p.given, p.birth, $17, p.status_at
             FROM UNNEST($11::text[], $12::text[], $13::int[], $14::text[], $15::text[], $16::text[], $18::bigint[])
                  AS p (id, request_id, ordinal, surname, given, birth, status_at)
         ), keys AS (
             INSERT INTO name_keys (key, request_id) SELECT * FROM UNNEST($19::text[], $20::text[])
         ), ack AS (
             INSERT INTO acks_due (request_id) SELECT * FROM UNNEST($21::text[])
         ), link AS (
             INSERT INTO links_due (request_id) SELECT * FROM UNNEST($1::text[])
         )
         INSERT INTO audit_events (at, actor, action, subject, detail)
         SELECT * FROM UNNEST($22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[])",
    )
    .bind(requests.id)
    .bind(requests.reference)
    .bind(requests.received_at)
    .bind(requests.channel)
    .bind(requests.location_latin)
    .bind(requests.country)
    .bind(requests.place_id)
    .bind(requests.has_minors)
    .bind(requests.party_size)
    .bind(requests.body)
    .bind(people.id)
    .bind(people.request_id)
    .bind(people.ordinal)
    .bind(people.surname)
    .bind(people.given)
    .bind(people.birth)
    .bind(PersonStatus::Registered.as_str())
    .bind(people.status_at)
    .bind(keys)
    .bind(keyed)
    .bind(acknowledged)
    .bind(audit.at)
    .bind(audit.actor)
    .bind(audit.action)
    .bind(audit.subject)
    .bind(audit.detail)
    .bind(requests.citizenships)
    .bind(requests.needs))
}

#[derive(Default)]
struct RequestColumns {
    id: Vec<String>,
    reference: Vec<String>,
    received_at: Vec<i64>,
    channel: Vec<String>,
    location_latin: Vec<String>,
    country: Vec<Option<String>>,
    place_id: Vec<Option<i64>>,
    has_minors: Vec<bool>,
    party_size: Vec<i32>,
    body: Vec<String>,
    citizenships: Vec<String>,
    needs: Vec<String>,
}

#[derive(Default)]
struct PersonColumns {
    id: Vec<String>,
    request_id: Vec<String>,
    ordinal: Vec<i32>,
    surname: Vec<Option<String>>,
    given: Vec<Option<String>>,
    birth: Vec<Option<String>>,
    status_at: Vec<i64>,
}

#[derive(Default)]
struct AuditColumns {
    at: Vec<i64>,
    actor: Vec<String>,
    action: Vec<String>,
    subject: Vec<Option<String>>,
    detail: Vec<String>,
}
