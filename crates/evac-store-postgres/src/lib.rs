//! evac on PostgreSQL, for ministries that run several stateless app nodes behind a load
//! balancer. Each request is its own transaction; PostgreSQL's own commit machinery makes it
//! durable (`synchronous_commit = on`) and groups concurrent commits.

mod calls;
mod intake;
mod link_keys;
mod outbox;
pub mod scratch;

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use evac_model::{
    Actor, Claim, Feature, Grade, HeldSeat, Hub, InboundId, JourneyStatus, LinkEvent,
    LinkEventKind, MessageId, PersonId, PersonStatus, ReferenceCode, Report, ReportId, ReportState,
    RequestId, SeatEvent, SeatEventKind, Statement, StoredLinkEvent, StoredSeatEvent, Timestamp,
    Transport,
};
use evac_store::*;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};

/// Connections per app node.
pub const POOL_CONNECTIONS_MAX: u32 = 16;
const ACQUIRE_TIMEOUT_MS: u64 = 10_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct PgStore {
    pool: PgPool,
    intake_load: IntakeLoad,
    /// This node's intake writers (group commit).
    intake: intake::GroupCommit,
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e.to_string())
        }
        other if is_contention(&other) => StoreError::Contended(other.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// Whether PostgreSQL gave a transaction up for another's sake: `deadlock_detected` (40P01,
/// two writers waiting on each other's rows: the writers lock persons in id order, so this
/// should not happen, but a missed order must not end as a server error) or
/// `serialization_failure` (40001).
fn is_contention(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| matches!(code.as_ref(), "40P01" | "40001"))
}

fn unique_violation_on(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    (db.code().as_deref() == Some("23505")).then(|| db.constraint().unwrap_or("").to_string())
}

/// The live-seat rule the seat log's trigger refused an event by, and the event's "person
/// transport pass" (migration 0012).
fn live_seat_rule_on(e: &sqlx::Error) -> Option<(String, String)> {
    let db = e.as_database_error()?;
    let rule = db.constraint().filter(|c| LIVE_SEAT_RULES.contains(c))?;
    let detail = db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|pg| pg.detail())
        .unwrap_or_default();
    Some((rule.to_string(), detail.to_string()))
}

/// Advisory-lock keys of the logs ('evacseat', 'evaclink' as big-endian integers). Every append
/// to a log holds its lock until the transaction ends: appends are serial across nodes, an
/// expected head is checked under it, and sequence numbers commit in order, so a reader paging
/// by `seq > last` never skips a row that committed late. The seat log's trigger takes the
/// same lock (migration 0012).
const SEAT_LOG_LOCK: i64 = 7_311_138_124_848_259_444;
const LINK_LOG_LOCK: i64 = 7_311_138_124_731_084_395;
/// 'evacaudt': audit events take it shared as they are numbered (migration 0017), the sealer
/// alone.
const AUDIT_CHAIN_LOCK: i64 = 7_311_138_124_547_318_900;

/// Locks the persons' rows in id order. Every writer of several persons takes this before it
/// changes them (a seat append, the outbox, a bulk change, a presence), so none waits on
/// another in a cycle (PostgreSQL would abort one with a deadlock).
pub(crate) async fn lock_persons(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT 1 FROM persons WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

async fn lock_log(tx: &mut sqlx::Transaction<'_, Postgres>, key: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

impl PgStore {
    /// Connects to `url` (`postgres://…`). Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(format!(
                "'{url}' is not a PostgreSQL URL (postgres://user@host/db)"
            )));
        }
        let options: sqlx::postgres::PgConnectOptions = url
            .parse()
            // Not the URL itself: it may hold a password.
            .map_err(|e| StoreError::Config(format!("the PostgreSQL URL cannot be read: {e}")))?;
        // No JIT: evac's statements are short, and where the planner's estimate is off (a
        // table not analysed since a bulk load) PostgreSQL compiled a 1 ms statement for 60 ms.
        let options = options.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(std::time::Duration::from_millis(ACQUIRE_TIMEOUT_MS))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgStore {
            intake: intake::GroupCommit::start(pool.clone()),
            pool,
            intake_load: IntakeLoad::default(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// How many batches of two or more requests intake has stored in one transaction (group
    /// commit at work; for tests).
    pub fn intake_batches_committed(&self) -> u64 {
        self.intake
            .batches_committed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether every migration this build knows is applied, unchanged: then a node needs no
    /// DDL at start, so it may run as an application role without the right to create tables
    /// ([`PgStore::grant_app_role`]).
    async fn migrations_current(&self) -> Result<bool, StoreError> {
        let known: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        if known.is_none() {
            return Ok(false);
        }
        let applied: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        // Every known one applied unchanged, and none this build does not know (a newer
        // schema: the migrator refuses to run an older build on it, and so must this).
        let known = |v: i64| MIGRATOR.iter().any(|m| m.version == v);
        Ok(applied.iter().all(|(version, _)| known(*version))
            && MIGRATOR.iter().all(|m| {
                applied.iter().any(|(version, checksum)| {
                    *version == m.version && checksum.as_slice() == &*m.checksum
                })
            }))
    }

    /// The name of the database this store is connected to (as the server says, not as a URL
    /// spells it), and whether a database named `other` exists on the server.
    pub async fn database_and(&self, other: &str) -> Result<(String, bool), StoreError> {
        sqlx::query_as(
            "SELECT current_database()::text, EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
        )
        .bind(other)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
    }

    /// Gives `role` (an existing PostgreSQL role) what a running evac needs and no more: read
    /// and write the crisis, append to the audit trail and its chain but never update, delete
    /// or truncate them, read (not change) which migrations ran; no DDL. Run it as the owner
    /// after `evac migrate`, and again after each upgrade's migrations (new tables).
    pub async fn grant_app_role(&self, role: &str) -> Result<(), StoreError> {
        let valid = role
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && role.len() <= 63
            && role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        // PUBLIC (every role), the session's own role and the server's roles are never ones
        // to grant a crisis to.
        let reserved = [
            "public",
            "current_user",
            "session_user",
            "current_role",
            "postgres",
        ];
        if !valid || reserved.contains(&role) || role.starts_with("pg_") {
            return Err(StoreError::Config(format!(
                "'{role}' is not a role name evac grants to: an application role of its own (lower-case letters, digits and _, at most 63), not PUBLIC, the owner or a pg_ role"
            )));
        }
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let (exists, owner): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), $1 = current_user",
        )
        .bind(role)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if !exists {
            return Err(StoreError::Config(format!(
                "there is no role '{role}': create it first (CREATE ROLE {role} LOGIN PASSWORD '…')"
            )));
        }
        if owner {
            return Err(StoreError::Config(format!(
                "'{role}' is the role running this command (the owner): create an application role of its own"
            )));
        }
        // Quoted: the name is checked above, and a quoted identifier is never a keyword.
        let quoted = format!("\"{role}\"");
        let role = quoted.as_str();
        for statement in [
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            ),
            format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
            format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_chain FROM {role}"),
            format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}

fn stored_request(
    row: &PgRow,
    statuses: Vec<(evac_model::PersonId, PersonStatus)>,
) -> Result<StoredRequest, StoreError> {
    let get = |i: usize| row.try_get::<String, _>(i).map_err(backend);
    let request = request_from_columns(
        &get(0)?,
        &get(1)?,
        row.try_get::<i64, _>(2).map_err(backend)?,
        &get(3)?,
    )?;
    Ok(StoredRequest { request, statuses })
}

impl PgStore {
    async fn statuses(
        &self,
        request_ids: &[String],
    ) -> Result<Vec<(String, evac_model::PersonId, PersonStatus)>, StoreError> {
        let rows = sqlx::query("SELECT request_id, id, status FROM persons WHERE request_id = ANY($1) ORDER BY request_id, ordinal")
            .bind(request_ids)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let request_id: String = r.try_get(0).map_err(backend)?;
                let id: String = r.try_get(1).map_err(backend)?;
                let status: String = r.try_get(2).map_err(backend)?;
                Ok((
                    request_id,
                    parse_id("persons.id", &id)?,
                    status_from_text(&status)?,
                ))
            })
            .collect()
    }

    async fn with_statuses(&self, rows: Vec<PgRow>) -> Result<Vec<StoredRequest>, StoreError> {
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0).map_err(backend))
            .collect::<Result<_, _>>()?;
        let mut by_request: std::collections::HashMap<
            String,
            Vec<(evac_model::PersonId, PersonStatus)>,
        > = std::collections::HashMap::with_capacity(ids.len());
        for (request_id, person, status) in self.statuses(&ids).await? {
            by_request
                .entry(request_id)
                .or_default()
                .push((person, status));
        }
        rows.iter()
            .zip(&ids)
            .map(|(row, id)| stored_request(row, by_request.remove(id).unwrap_or_default()))
            .collect()
    }

    async fn request_where(
        &self,
        sql: &'static str,
        value: String,
    ) -> Result<Option<StoredRequest>, StoreError> {
        let row = sqlx::query(sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(self.with_statuses(row.into_iter().collect()).await?.pop())
    }
}

pub(crate) async fn insert_audit<'c, E: sqlx::Executor<'c, Database = Postgres>>(
    exec: E,
    e: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(e.at.unix_micros())
    .bind(e.actor.label())
    .bind(&e.action)
    .bind(&e.subject)
    .bind(e.detail.to_string())
    .execute(exec)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The audit chain's last link.
async fn chain_head<'c, E: sqlx::Executor<'c, Database = Postgres>>(
    exec: E,
) -> Result<Option<audit_chain::ChainLink>, StoreError> {
    sqlx::query("SELECT pos, seq, hash FROM audit_chain ORDER BY pos DESC LIMIT 1")
        .fetch_optional(exec)
        .await
        .map_err(backend)?
        .map(|r| chain_link(&r, 0))
        .transpose()
}

/// A chain link from the columns (pos, seq, hash) starting at `first`.
fn chain_link(r: &PgRow, first: usize) -> Result<audit_chain::ChainLink, StoreError> {
    let hash: Vec<u8> = r.try_get(first + 2).map_err(backend)?;
    Ok(audit_chain::ChainLink {
        pos: r.try_get(first).map_err(backend)?,
        seq: r.try_get(first + 1).map_err(backend)?,
        hash: hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("audit_chain.hash is not 32 bytes".into()))?,
    })
}

/// An audit event's stored columns (seq, at, actor, action, subject, detail) starting at
/// `first`; `None` where a join found no event.
fn audit_columns(r: &PgRow, first: usize) -> Result<Option<audit_chain::AuditColumns>, StoreError> {
    let Some(seq) = r.try_get::<Option<i64>, _>(first).map_err(backend)? else {
        return Ok(None);
    };
    Ok(Some(audit_chain::AuditColumns {
        seq,
        at: r.try_get(first + 1).map_err(backend)?,
        actor: r.try_get(first + 2).map_err(backend)?,
        action: r.try_get(first + 3).map_err(backend)?,
        subject: r.try_get(first + 4).map_err(backend)?,
        detail: r.try_get(first + 5).map_err(backend)?,
    }))
}

/// A failed insert of a request: a taken reference is an outcome (draw another), anything else an error.
fn reference_taken_or(e: sqlx::Error) -> Result<InsertOutcome, StoreError> {
    match unique_violation_on(&e) {
        Some(constraint) if constraint.contains("reference") => Ok(InsertOutcome::ReferenceTaken),
        _ => Err(backend(e)),
    }
}

/// A queue of requests owed background work, written with each request: an acknowledgement
/// (`acks_due`), linking (`links_due`).
#[derive(Clone, Copy)]
enum DueQueue {
    Acks,
    Links,
}

impl DueQueue {
    fn select(self) -> &'static str {
        match self {
            DueQueue::Acks => "SELECT request_id FROM acks_due ORDER BY request_id LIMIT $1",
            DueQueue::Links => "SELECT request_id FROM links_due ORDER BY request_id LIMIT $1",
        }
    }

    fn delete(self) -> &'static str {
        match self {
            DueQueue::Acks => "DELETE FROM acks_due WHERE request_id = ANY($1)",
            DueQueue::Links => "DELETE FROM links_due WHERE request_id = ANY($1)",
        }
    }
}

/// The requests a queue holds, oldest id first, at most `limit`.
async fn requests_due(
    pool: &PgPool,
    queue: DueQueue,
    limit: u32,
) -> Result<Vec<RequestId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(queue.select())
        .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    ids.iter().map(|id| parse_id("request_id", id)).collect()
}

/// Takes requests off a queue, in the transaction that did their work.
async fn clear_due(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    queue: DueQueue,
    requests: &[RequestId],
) -> Result<(), StoreError> {
    let ids: Vec<String> = requests.iter().map(ToString::to_string).collect();
    sqlx::query(queue.delete())
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Appends link events in a transaction that holds the link log's lock; a proposal of a pair
/// the log has is skipped (link_events_proposed_once). The answer is how many were appended.
async fn insert_link_events(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    events: &[LinkEvent],
) -> Result<usize, StoreError> {
    let mut appended = 0;
    for e in events {
        let proposal = matches!(e.kind, LinkEventKind::AutoMerge | LinkEventKind::Review);
        // A proposal of a pair the log has is skipped (link_events_proposed_once).
        let sql = if proposal {
            "INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (LEAST(person_a, person_b), GREATEST(person_a, person_b))
             WHERE kind IN ('auto_merge', 'review') DO NOTHING"
        } else {
            "INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        };
        appended += sqlx::query(sql)
            .bind(e.at.unix_micros())
            .bind(e.actor.label())
            .bind(e.kind.as_str())
            .bind(e.person_a.to_string())
            .bind(e.person_b.to_string())
            .bind(e.match_probability)
            .bind(&e.explanation)
            .bind(e.refers_to)
            .execute(&mut **tx)
            .await
            .map_err(|err| match (unique_violation_on(&err), e.refers_to) {
                (Some(_), Some(undone)) => {
                    StoreError::Refused(format!("link event {undone} is already undone"))
                }
                _ => backend(err),
            })?
            .rows_affected() as usize;
    }
    Ok(appended)
}

/// Stores one request in a transaction of its own (one statement when it has no idempotency
/// key): for a request alone, and for those a batch could not store ([`intake`]).
pub(crate) async fn insert_one(
    pool: &PgPool,
    insert: &RequestInsert,
) -> Result<InsertOutcome, StoreError> {
    let row_statement = whole_request_statement(insert)?;
    let Some(claim) = &insert.idempotency else {
        // One statement is atomic on its own: one round trip, no BEGIN/COMMIT.
        return match row_statement.execute(pool).await {
            Ok(_) => Ok(InsertOutcome::Inserted),
            Err(e) => reference_taken_or(e),
        };
    };
    let r = &insert.request;
    let mut tx = pool.begin().await.map_err(backend)?;
    // Claim the key first: a concurrent retry with the same key (on any node) waits here
    // until this transaction ends, then sees the committed answer.
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (key, body_sha256, request_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&claim.key)
    .bind(claim.body_sha256.as_slice())
    .bind(r.id.to_string())
    .bind(r.received_at.unix_micros())
    .execute(&mut *tx)
    .await
    .map_err(backend)?
    .rows_affected();
    if claimed == 0 {
        tx.rollback().await.map_err(backend)?;
        let row = sqlx::query(
            "SELECT k.body_sha256, q.id, q.reference FROM idempotency_keys k JOIN requests q ON q.id = k.request_id WHERE k.key = $1",
        )
        .bind(&claim.key)
        .fetch_one(pool)
        .await
        .map_err(backend)?;
        let digest: Vec<u8> = row.try_get(0).map_err(backend)?;
        if digest_from_bytes(&digest)? != claim.body_sha256 {
            return Ok(InsertOutcome::IdempotencyConflict);
        }
        let first_id: String = row.try_get(1).map_err(backend)?;
        let first_reference: String = row.try_get(2).map_err(backend)?;
        return Ok(InsertOutcome::Replayed {
            id: parse_id("requests.id", &first_id)?,
            reference: first_reference
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("requests.reference: {e}")))?,
        });
    }
    if let Err(e) = row_statement.execute(&mut *tx).await {
        tx.rollback().await.map_err(backend)?;
        return reference_taken_or(e);
    }
    tx.commit().await.map_err(backend)?;
    Ok(InsertOutcome::Inserted)
}

/// The request, its people and its audit event as one statement of data-modifying
/// CTEs: atomic by itself, and one round trip instead of one per row. Foreign keys are checked
/// at the end of the statement, when the request row exists.
fn whole_request_statement(
    insert: &RequestInsert,
) -> Result<sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments>, StoreError> {
    let r = &insert.request;
    let body = serde_json::to_string(&r.body).map_err(|e| StoreError::Backend(e.to_string()))?;
    let party = &r.body.party;
    let (citizenships, needs) = party_tags(&r.body);
    let person_ids: Vec<String> = party.iter().map(|p| p.id.to_string()).collect();
    let ordinals: Vec<i32> = (0..party.len() as i32).collect();
    let surnames: Vec<Option<String>> = party
        .iter()
        .map(|p| p.surname.as_ref().map(|n| n.latin.clone()))
        .collect();
    let givens: Vec<Option<String>> = party
        .iter()
        .map(|p| p.given_names.as_ref().map(|n| n.latin.clone()))
        .collect();
    let births: Vec<Option<String>> = party
        .iter()
        .map(|p| match p.birth {
            Some(evac_model::Birth::Date(d)) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    let a = &insert.audit;
    Ok(sqlx::query(
        "WITH request AS (
             INSERT INTO requests (id, reference, received_at, channel, location_latin, country, place_id, has_minors, party_size, body, citizenships, needs)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $24, $25)
         ), people AS (
             INSERT INTO persons (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
             SELECT p.id, $1, p.ordinal, p.surname, p.given, p.birth, $21, $3
             FROM UNNEST($11::text[], $12::int[], $13::text[], $14::text[], $15::text[]) AS p (id, ordinal, surname, given, birth)
         ), keys AS (
             INSERT INTO name_keys (key, request_id) SELECT k, $1 FROM UNNEST($22::text[]) AS k
         ), ack AS (
             INSERT INTO acks_due (request_id) SELECT $1 WHERE $23
         ), link AS (
             INSERT INTO links_due (request_id) VALUES ($1)
         )
         INSERT INTO audit_events (at, actor, action, subject, detail) VALUES ($16, $17, $18, $19, $20)",
    )
    .bind(r.id.to_string())
    .bind(r.reference.compact().to_string())
    .bind(r.received_at.unix_micros())
    .bind(r.body.channel.as_str())
    .bind(evac_model::to_icao_latin(&r.body.location.text))
    .bind(r.body.location.country.map(|c| c.to_string()))
    // Read at intake: 0 is "no known place", NULL is "never read" (catch_up_places).
    .bind(r.body.location.place_id.unwrap_or(0) as i64)
    .bind(insert.has_minors)
    .bind(party.len() as i32)
    .bind(body)
    .bind(person_ids)
    .bind(ordinals)
    .bind(surnames)
    .bind(givens)
    .bind(births)
    .bind(a.at.unix_micros())
    .bind(a.actor.label())
    .bind(a.action.clone())
    .bind(a.subject.clone())
    .bind(a.detail.to_string())
    .bind(PersonStatus::Registered.as_str())
    .bind(request_search_keys(&r.body))
    .bind(insert.acknowledge)
    .bind(citizenships)
    .bind(needs))
}

/// One staff change (or note): the person event from the current status and, for a change,
/// the person's new status.
async fn change_person(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    change: &PersonChange,
) -> Result<(), StoreError> {
    let person = change.person.to_string();
    let to = change.to.map(|s| s.as_str());
    if let (Some(to), Some(expected)) = (to, change.expected) {
        // Decided on `expected`: the conditional update waits for a concurrent change of the
        // row and then checks the status again (read committed re-evaluates its condition), so
        // of two changes decided on one status the second finds it moved.
        let moved = sqlx::query(
            "UPDATE persons SET status = $1, status_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to)
        .bind(change.at.unix_micros())
        .bind(&person)
        .bind(expected.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
        if moved.rows_affected() == 0 {
            let now: Option<String> =
                sqlx::query_scalar("SELECT status FROM persons WHERE id = $1")
                    .bind(&person)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(backend)?;
            return Err(match now {
                None => StoreError::Missing(format!("person {person}")),
                Some(now) => StoreError::PersonMoved {
                    person: person.clone(),
                    now,
                    expected,
                },
            });
        }
        sqlx::query(
            "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&person)
        .bind(change.at.unix_micros())
        .bind(change.actor.label())
        .bind(expected.as_str())
        .bind(to)
        .bind(&change.reason)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
        return Ok(());
    }
    let written = sqlx::query(
        "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
             SELECT id, $1, $2, status, COALESCE($3, status), $4 FROM persons WHERE id = $5",
    )
    .bind(change.at.unix_micros())
    .bind(change.actor.label())
    .bind(to)
    .bind(&change.reason)
    .bind(&person)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    if written.rows_affected() == 0 {
        return Err(StoreError::Missing(format!("person {person}")));
    }
    if let Some(to) = to {
        sqlx::query("UPDATE persons SET status = $1, status_at = $2 WHERE id = $3")
            .bind(to)
            .bind(change.at.unix_micros())
            .bind(&person)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Requests keyed per page by the backfill of migration 0008.
const BACKFILL_PAGE_ITEMS: i64 = 5_000;

/// Keys the requests stored before migration 0008, if that is still due. Idempotent (keys
/// already there are kept), so a node that stops half-way, or two nodes at once, do no harm.
async fn backfill_name_keys(pool: &PgPool) -> Result<(), StoreError> {
    let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM name_keys_backfill")
        .fetch_one(pool)
        .await
        .map_err(backend)?;
    if due == 0 {
        return Ok(());
    }
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT id, reference, received_at, body FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(BACKFILL_PAGE_ITEMS)
        .fetch_all(pool)
        .await
        .map_err(backend)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for (id, reference, received_at, body) in &rows {
            let request = request_from_columns(id, reference, *received_at, body)?;
            for key in request_search_keys(&request.body) {
                keys.push(key);
                ids.push(id.clone());
            }
        }
        sqlx::query(
            "INSERT INTO name_keys (key, request_id) SELECT * FROM UNNEST($1::text[], $2::text[])
             ON CONFLICT DO NOTHING",
        )
        .bind(&keys)
        .bind(&ids)
        .execute(pool)
        .await
        .map_err(backend)?;
    }
    sqlx::query("DELETE FROM name_keys_backfill")
        .execute(pool)
        .await
        .map_err(backend)?;
    Ok(())
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled";

fn user_from_row(row: &PgRow) -> Result<User, StoreError> {
    let id: String = row.try_get(0).map_err(backend)?;
    let role: String = row.try_get(2).map_err(backend)?;
    Ok(User {
        id: parse_id("users.id", &id)?,
        name: row.try_get(1).map_err(backend)?,
        role: role_from_text(&role)?,
        password_hash: row.try_get(3).map_err(backend)?,
        created_at: Timestamp::from_unix_micros(row.try_get(4).map_err(backend)?),
        disabled: row.try_get(5).map_err(backend)?,
    })
}

#[async_trait]
impl Store for PgStore {
    fn intake_load(&self) -> &IntakeLoad {
        &self.intake_load
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        if !self.migrations_current().await? {
            MIGRATOR
                .run(&self.pool)
                .await
                .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        }
        backfill_name_keys(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_request(&self, insert: &RequestInsert) -> Result<InsertOutcome, StoreError> {
        self.intake.insert(insert.clone()).await
    }

    async fn request(&self, id: RequestId) -> Result<Option<StoredRequest>, StoreError> {
        self.request_where(
            "SELECT id, reference, received_at, body FROM requests WHERE id = $1",
            id.to_string(),
        )
        .await
    }

    async fn request_by_reference(
        &self,
        reference: &ReferenceCode,
    ) -> Result<Option<StoredRequest>, StoreError> {
        self.request_where(
            "SELECT id, reference, received_at, body FROM requests WHERE reference = $1",
            reference.compact().to_string(),
        )
        .await
    }

    async fn list_requests(
        &self,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Page, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT r.id, r.reference, r.received_at, r.body FROM requests r WHERE TRUE",
        );
        let (compare, direction) = match page.order {
            ListOrder::NewestFirst => (" AND r.id < ", " ORDER BY r.id DESC"),
            ListOrder::OldestFirst => (" AND r.id > ", " ORDER BY r.id ASC"),
        };
        if let Some(after) = page.after {
            q.push(compare).push_bind(after.to_string());
        }
        push_request_filter(&mut q, filter);
        let limit = page.limit.clamp(1, PAGE_ITEMS_MAX);
        q.push(direction)
            .push(" LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let mut rows = q.build().fetch_all(&self.pool).await.map_err(backend)?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let items = self.with_statuses(rows).await?;
        let next = if more {
            items.last().map(|r| r.request.id)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn count_requests(&self, filter: &RequestFilter, cap: u64) -> Result<u64, StoreError> {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM requests r WHERE TRUE");
        push_request_filter(&mut q, filter);
        q.push(" LIMIT ")
            .push_bind(i64::try_from(cap).unwrap_or(i64::MAX))
            .push(") AS matching");
        let n: i64 = q
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn intake_counts(&self) -> Result<IntakeCounts, StoreError> {
        let row =
            sqlx::query("SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM persons)")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        Ok(IntakeCounts {
            requests: row.try_get::<i64, _>(0).map_err(backend)? as u64,
            persons: row.try_get::<i64, _>(1).map_err(backend)? as u64,
        })
    }

    async fn insert_user(&self, user: &User, audit: AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let result = sqlx::query(
            "INSERT INTO users (id, name, role, password_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id.to_string())
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.created_at.unix_micros())
        .bind(user.disabled)
        .execute(&mut *tx)
        .await;
        if let Err(e) = result {
            return match unique_violation_on(&e) {
                Some(_) => Err(StoreError::Conflict {
                    what: format!("a user named '{}'", user.name),
                }),
                None => Err(backend(e)),
            };
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn insert_token(&self, token: &ApiToken, audit: AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO api_tokens (token_sha256, user_id, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token.token_sha256.as_slice())
            .bind(token.user_id.to_string())
            .bind(&token.label)
            .bind(token.created_at.unix_micros())
            .bind(token.expires_at.map(|t| t.unix_micros()))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn user_by_token(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_sha256 = $1 AND NOT u.disabled AND (t.expires_at IS NULL OR t.expires_at > $2)"
        )))
        .bind(token_sha256.as_slice())
        .bind(now.unix_micros())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn update_user(
        &self,
        name: &str,
        change: UserChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some(id) = id else {
            return Err(StoreError::Missing(format!("the account {name}")));
        };
        match &change {
            UserChange::Disable | UserChange::Enable => {
                sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                    .bind(&id)
                    .bind(matches!(change, UserChange::Disable))
                    .execute(&mut *tx)
                    .await
            }
            UserChange::Password(hash) => {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(&id)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
            }
        }
        .map_err(backend)?;
        if change.ends_sessions() {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for e in &events {
            insert_audit(&mut *tx, e).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn seal_audit(&self, limit: u32) -> Result<u32, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Waits until every event numbered so far has committed or rolled back.
        lock_log(&mut tx, AUDIT_CHAIN_LOCK).await?;
        let head = chain_head(&mut *tx).await?;
        let events = sqlx::query(
            "SELECT seq, at, actor, action, subject, detail FROM audit_events
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(head.map_or(0, |h| h.seq))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| audit_columns(r, 0))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        let links = audit_chain::seal(head, &events);
        if !links.is_empty() {
            sqlx::query(
                "INSERT INTO audit_chain (pos, seq, hash)
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bytea[])",
            )
            .bind(links.iter().map(|l| l.pos).collect::<Vec<_>>())
            .bind(links.iter().map(|l| l.seq).collect::<Vec<_>>())
            .bind(links.iter().map(|l| l.hash.to_vec()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(links.len() as u32)
    }

    async fn audit_chain_head(&self) -> Result<Option<audit_chain::ChainLink>, StoreError> {
        chain_head(&self.pool).await
    }

    async fn audit_chain(
        &self,
        after_pos: i64,
        limit: u32,
    ) -> Result<Vec<audit_chain::ChainRow>, StoreError> {
        sqlx::query(
            "SELECT c.pos, c.seq, c.hash, e.seq, e.at, e.actor, e.action, e.subject, e.detail
             FROM audit_chain c LEFT JOIN audit_events e ON e.seq = c.seq
             WHERE c.pos > $1 ORDER BY c.pos LIMIT $2",
        )
        .bind(after_pos)
        .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| {
            Ok(audit_chain::ChainRow {
                link: chain_link(r, 0)?,
                event: audit_columns(r, 3)?,
            })
        })
        .collect()
    }

    async fn audit_unsealed(
        &self,
        up_to_seq: i64,
        limit: u32,
    ) -> Result<(Vec<i64>, u64), StoreError> {
        let inside: Vec<i64> = sqlx::query_scalar(
            "SELECT e.seq FROM audit_events e
             WHERE e.seq <= $1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.seq = e.seq)
             ORDER BY e.seq LIMIT $2",
        )
        .bind(up_to_seq)
        .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE seq > $1")
            .bind(up_to_seq)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok((inside, after as u64))
    }

    async fn audit_trail(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, actor, action, subject, detail FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let actor: String = r.try_get(2).map_err(backend)?;
                let detail: String = r.try_get(5).map_err(backend)?;
                audit_record_from_columns(
                    r.try_get(0).map_err(backend)?,
                    r.try_get(1).map_err(backend)?,
                    &actor,
                    r.try_get(3).map_err(backend)?,
                    r.try_get(4).map_err(backend)?,
                    &detail,
                )
            })
            .collect()
    }

    async fn upsert_hub(&self, h: &Hub) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO hubs (code, kind, name, country, municipality, lat, lon, iata, icao) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, country = excluded.country,
               municipality = excluded.municipality, lat = excluded.lat, lon = excluded.lon, iata = excluded.iata, icao = excluded.icao",
        )
        .bind(&h.code)
        .bind(h.kind.as_str())
        .bind(&h.name)
        .bind(h.country.as_str())
        .bind(&h.municipality)
        .bind(h.lat)
        .bind(h.lon)
        .bind(&h.iata)
        .bind(&h.icao)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn hubs(&self) -> Result<Vec<Hub>, StoreError> {
        let rows = sqlx::query("SELECT code, kind, name, country, municipality, lat, lon, iata, icao FROM hubs ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(1).map_err(backend)?;
                let country: String = r.try_get(3).map_err(backend)?;
                hub_from_columns(
                    r.try_get(0).map_err(backend)?,
                    &kind,
                    r.try_get(2).map_err(backend)?,
                    &country,
                    r.try_get(4).map_err(backend)?,
                    r.try_get(5).map_err(backend)?,
                    r.try_get(6).map_err(backend)?,
                    r.try_get(7).map_err(backend)?,
                    r.try_get(8).map_err(backend)?,
                )
            })
            .collect()
    }

    async fn upsert_feature(&self, feature: &Feature, audit: AuditEvent) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(feature).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO features (subject, body) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET body = excluded.body")
            .bind(feature.subject().to_string())
            .bind(body)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn features(&self) -> Result<Vec<Feature>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT subject, body FROM features ORDER BY subject")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter()
            .map(|(subject, body)| {
                serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("feature {subject}: {e}")))
            })
            .collect()
    }

    async fn insert_report(
        &self,
        r: &Report,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<(ReportId, bool), StoreError> {
        let mentions =
            serde_json::to_string(&r.mentions).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The unique external id decides: a concurrent second insert waits for the first and
        // then finds its row.
        let inserted = sqlx::query("INSERT INTO reports (id, received_at, source, grade, language, text, state, mentions, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (external_id) DO NOTHING")
            .bind(r.id.to_string())
            .bind(r.received_at.unix_micros())
            .bind(&r.source)
            .bind(r.grade.map(|g| g.to_string()))
            .bind(&r.language)
            .bind(&r.text)
            .bind(r.state.as_str())
            .bind(mentions)
            .bind(&r.external_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if inserted == 0 {
            let id: String = sqlx::query_scalar("SELECT id FROM reports WHERE external_id = $1")
                .bind(&r.external_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            return Ok((parse_id("reports.id", &id)?, false));
        }
        insert_statements(&mut tx, r.id, statements).await?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)?;
        Ok((r.id, true))
    }

    async fn report(&self, id: ReportId) -> Result<Option<Report>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .map(|r| report_row(&r)?.into_report())
        .transpose()
    }

    async fn reports(&self, limit: u32) -> Result<Vec<Report>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REPORT_COLUMNS} FROM reports ORDER BY received_at DESC, id DESC LIMIT $1"
        )))
        .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| report_row(r)?.into_report())
        .collect()
    }

    async fn update_report(
        &self,
        id: ReportId,
        grade: Option<Grade>,
        state: ReportState,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed = sqlx::query("UPDATE reports SET grade = $2, state = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(grade.map(|g| g.to_string()))
            .bind(state.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn add_statements(
        &self,
        report: ReportId,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Locks the report, so it cannot vanish between the check and the insert.
        let found = sqlx::query("SELECT 1 FROM reports WHERE id = $1 FOR SHARE")
            .bind(report.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .is_some();
        if !found {
            return Ok(false);
        }
        insert_statements(&mut tx, report, statements).await?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn claims(&self) -> Result<Vec<Claim>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLAIM_COLUMNS} FROM statements s JOIN reports r ON r.id = s.report ORDER BY s.seq"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(|r| {
            ClaimRow {
                seq: r.try_get(0).map_err(backend)?,
                report: r.try_get(1).map_err(backend)?,
                subject: r.try_get(2).map_err(backend)?,
                effect: r.try_get(3).map_err(backend)?,
                from_at: r.try_get(4).map_err(backend)?,
                until: r.try_get(5).map_err(backend)?,
                capacity_per_day: r.try_get(6).map_err(backend)?,
                note: r.try_get(7).map_err(backend)?,
                source: r.try_get(8).map_err(backend)?,
                grade: r.try_get(9).map_err(backend)?,
                state: r.try_get(10).map_err(backend)?,
                received_at: r.try_get(11).map_err(backend)?,
            }
            .into_claim()
        })
        .collect()
    }

    async fn upsert_transport(
        &self,
        transport: &Transport,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO transports (id, departs_at, body) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET departs_at = excluded.departs_at, body = excluded.body",
        )
        .bind(transport.id.to_string())
        .bind(transport.departs_at.unix_micros())
        .bind(transport_body(transport)?)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn transports(&self) -> Result<Vec<Transport>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, body FROM transports ORDER BY departs_at, id")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter()
            .map(|(id, body)| transport_from_body(id, body))
            .collect()
    }

    async fn insert_policy(
        &self,
        toml: &str,
        at: Timestamp,
        author: &Actor,
        audit: AuditEvent,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO triage_policies (toml, created_at, author) VALUES ($1, $2, $3) RETURNING version",
        )
        .bind(toml)
        .bind(at.unix_micros())
        .bind(author.label())
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(version)
    }

    async fn policy(&self, version: Option<i64>) -> Result<Option<StoredPolicy>, StoreError> {
        let row: Option<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT version, toml, created_at, author FROM triage_policies
             WHERE $1::BIGINT IS NULL OR version = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(stored_policy))
    }

    async fn policy_versions(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT version, '', created_at, author FROM triage_policies ORDER BY version DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(stored_policy).collect())
    }

    async fn request_id_of_person(
        &self,
        person: PersonId,
    ) -> Result<Option<RequestId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar("SELECT request_id FROM persons WHERE id = $1")
            .bind(person.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        id.map(|id| parse_id("persons.request_id", &id)).transpose()
    }

    async fn append_link_events(
        &self,
        events: Vec<LinkEvent>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_log(&mut tx, LINK_LOG_LOCK).await?;
        let head: Option<(i64, i64)> = match when {
            AppendIf::Always => None,
            AppendIf::HeadIsIgnoringScans(_) => {
                return Err(StoreError::Config(
                    "the link log has no scans: append with HeadIs or PairHeadIs".into(),
                ));
            }
            AppendIf::HeadIs(expected) => Some((
                sqlx::query_scalar("SELECT COALESCE(max(seq), 0) FROM link_events")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?,
                expected,
            )),
            AppendIf::PairHeadIs(a, b, expected) => {
                let (a, b) = (a.to_string(), b.to_string());
                Some((
                    // The same expressions as the index link_events_pair, so it is used.
                    sqlx::query_scalar(
                        "SELECT COALESCE(max(seq), 0) FROM link_events
                         WHERE LEAST(person_a, person_b) = LEAST($1, $2)
                           AND GREATEST(person_a, person_b) = GREATEST($1, $2)",
                    )
                    .bind(a)
                    .bind(b)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?,
                    expected,
                ))
            }
        };
        if let Some((head, expected)) = head {
            StoreError::unless_log_moved("link log", expected, head)?;
        }
        let appended = insert_link_events(&mut tx, &events).await?;
        for a in &audit {
            insert_audit(&mut *tx, a).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(appended)
    }

    async fn links_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        requests_due(&self.pool, DueQueue::Links, limit).await
    }

    async fn links_due_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM links_due")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn settle_links(
        &self,
        events: Vec<LinkEvent>,
        keyed: Vec<KeyedPerson>,
        requests: Vec<RequestId>,
        fence: LeaseFence,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        let (mut events, mut keyed, mut requests) = (events, keyed, requests);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // FOR SHARE: a node taking the lease over (an UPDATE of this row) waits until this
        // transaction ends, so the two never write at once.
        let live: Option<String> = sqlx::query_scalar(
            "SELECT holder FROM leases WHERE name = $1 AND until_us >= $2 FOR SHARE",
        )
        .bind(&fence.lease)
        .bind(fence.at.unix_micros())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        fence.admits(live.as_deref())?;
        let forgotten = link_keys::forgotten_since(&mut tx, read_at).await?;
        let their_people = link_keys::people_of_requests(&mut tx, &forgotten).await?;
        leave_out_forgotten(
            &forgotten,
            &their_people,
            &mut events,
            &mut keyed,
            &mut requests,
        );
        lock_log(&mut tx, LINK_LOG_LOCK).await?;
        let appended = insert_link_events(&mut tx, &events).await?;
        link_keys::key_persons(&mut tx, &keyed, &forgotten).await?;
        clear_due(&mut tx, DueQueue::Links, &requests).await?;
        tx.commit().await.map_err(backend)?;
        Ok(appended)
    }

    async fn key_persons(
        &self,
        keyed: Vec<KeyedPerson>,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let forgotten = link_keys::forgotten_since(&mut tx, read_at).await?;
        let added = link_keys::key_persons(&mut tx, &keyed, &forgotten).await?;
        tx.commit().await.map_err(backend)?;
        Ok(added)
    }

    async fn keep_link_people(
        &self,
        keyed: Vec<KeyedPerson>,
        read_at: i64,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let forgotten = link_keys::forgotten_since(&mut tx, read_at).await?;
        let nums = link_keys::keep_link_people(&mut tx, &keyed, &forgotten).await?;
        tx.commit().await.map_err(backend)?;
        Ok(nums)
    }

    async fn index_link_keys(&self, rows: Vec<(u64, i64)>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        link_keys::index_link_keys(&mut tx, &rows).await?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn append_relinked_pairs(
        &self,
        events: Vec<LinkEvent>,
        read_at: i64,
    ) -> Result<usize, StoreError> {
        let mut events = events;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Holds the generation's row FOR SHARE: a correction (which updates it first) waits
        // for this append, or this one for it.
        let forgotten = link_keys::forgotten_since(&mut tx, read_at).await?;
        let their_people = link_keys::people_of_requests(&mut tx, &forgotten).await?;
        leave_out_events_about(&their_people, &mut events);
        lock_log(&mut tx, LINK_LOG_LOCK).await?;
        let appended = insert_link_events(&mut tx, &events).await?;
        tx.commit().await.map_err(backend)?;
        Ok(appended)
    }

    async fn keyed_persons(&self, persons: &[PersonId]) -> Result<Vec<PersonId>, StoreError> {
        link_keys::keyed_persons(&self.pool, persons).await
    }

    async fn keyed_person_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM link_people")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn requests_with_unkeyed_persons(
        &self,
        requests: &[RequestId],
    ) -> Result<Vec<RequestId>, StoreError> {
        let requests: Vec<String> = requests.iter().map(ToString::to_string).collect();
        let ids: Vec<String> = sqlx::query_scalar(
            // Request by request through the indexes (LIMIT keeps the planner from turning it
            // into one anti-join over every person and every kept person: 17 ms a batch of 200
            // at 55,000 people, where this takes under 1 ms).
            "SELECT q.id FROM UNNEST($1::text[]) AS q (id)
             CROSS JOIN LATERAL (
                 SELECT 1 FROM persons AS p
                 WHERE p.request_id = q.id
                   AND NOT EXISTS (SELECT 1 FROM link_people AS k WHERE k.person_id = p.id)
                 LIMIT 1
             ) AS unkeyed",
        )
        .bind(&requests)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        ids.iter()
            .map(|id| parse_id("persons.request_id", id))
            .collect()
    }

    async fn link_postings(
        &self,
        keys: &[u64],
        per_key_max: u32,
    ) -> Result<Vec<Posting>, StoreError> {
        link_keys::link_postings(&self.pool, keys, per_key_max).await
    }

    async fn link_model(&self) -> Result<Option<StoredLinkModel>, StoreError> {
        link_keys::link_model(&self.pool).await
    }

    async fn save_link_model(&self, model: StoredLinkModel) -> Result<(), StoreError> {
        link_keys::save_link_model(&self.pool, &model).await
    }

    async fn forget_link_keys(&self) -> Result<(), StoreError> {
        // DELETE, not TRUNCATE: the app's role may delete rows, not truncate tables. Locked
        // first, so no settlement commits between the deletes (keys without their people).
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("LOCK TABLE link_people, link_keys IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for table in ["link_keys", "link_people", "link_model"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, until_us) VALUES ($1, $2, $4)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
             WHERE leases.holder = excluded.holder OR leases.until_us < $3",
        )
        .bind(name)
        .bind(holder)
        .bind(now.unix_micros())
        .bind(until.unix_micros())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(taken.rows_affected() == 1)
    }

    async fn lease(&self, name: &str) -> Result<Option<(String, Timestamp)>, StoreError> {
        let held: Option<(String, i64)> =
            sqlx::query_as("SELECT holder, until_us FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(held.map(|(holder, until)| (holder, Timestamp::from_unix_micros(until))))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn generation(&self, name: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE((SELECT value FROM generations WHERE name = $1), 0)")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn bump_generation(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO generations (name, value) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET value = generations.value + 1",
        )
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn link_events_of(
        &self,
        persons: &[PersonId],
    ) -> Result<Vec<StoredLinkEvent>, StoreError> {
        let persons: Vec<String> = persons.iter().map(ToString::to_string).collect();
        let rows = sqlx::query(
            "SELECT seq, at, actor, kind, person_a, person_b, match_probability, explanation, refers_to FROM link_events
             WHERE LEAST(person_a, person_b) = ANY($1) OR GREATEST(person_a, person_b) = ANY($1)
             ORDER BY seq",
        )
        .bind(persons)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        link_events_of_rows(&rows)
    }

    async fn link_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredLinkEvent>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, actor, kind, person_a, person_b, match_probability, explanation, refers_to FROM link_events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(i64::from(limit.min(PAGE_ITEMS_MAX)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        link_events_of_rows(&rows)
    }

    async fn append_seat_events_telling(
        &self,
        events: Vec<SeatEvent>,
        status_changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
        notices: Vec<NewMessage>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_log(&mut tx, SEAT_LOG_LOCK).await?;
        let head = async |tx: &mut sqlx::Transaction<'_, Postgres>| -> Result<i64, StoreError> {
            sqlx::query_scalar("SELECT COALESCE(max(seq), 0) FROM seat_events")
                .fetch_one(&mut **tx)
                .await
                .map_err(backend)
        };
        match when {
            AppendIf::Always => {}
            AppendIf::HeadIs(expected) => {
                StoreError::unless_log_moved("seat log", expected, head(&mut tx).await?)?;
            }
            AppendIf::HeadIsIgnoringScans(expected) => {
                let released: Vec<String> = events
                    .iter()
                    .filter(|e| e.kind.releases())
                    .map(|e| e.person.to_string())
                    .collect();
                let moved: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM seat_events WHERE seq > $1
                                    AND (kind NOT IN ('checked_in', 'boarded') OR person_id = ANY($2)))",
                )
                .bind(expected)
                .bind(&released)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
                if moved {
                    StoreError::unless_log_moved("seat log", expected, head(&mut tx).await?)?;
                }
            }
            AppendIf::PairHeadIs(..) => {
                return Err(StoreError::Config(
                    "the seat log has no pairs: append with HeadIs or HeadIsIgnoringScans".into(),
                ));
            }
        }
        for chunk in events.chunks(SEAT_EVENTS_PER_STATEMENT_MAX) {
            insert_seat_events(&mut tx, chunk).await?;
        }
        for change in &status_changes {
            change_person(&mut tx, change).await?;
        }
        for notice in &notices {
            outbox::enqueue(&mut tx, notice).await?;
        }
        for a in &audit {
            insert_audit(&mut *tx, a).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn seat_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredSeatEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SEAT_COLUMNS} FROM seat_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after_seq)
        .bind(i64::from(limit.min(LOG_PAGE_ITEMS_MAX)))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(seat_event_from_row).collect()
    }

    async fn seat_events_of(&self, person: PersonId) -> Result<Vec<StoredSeatEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SEAT_COLUMNS} FROM seat_events WHERE person_id = $1 ORDER BY seq"
        )))
        .bind(person.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(seat_event_from_row).collect()
    }

    async fn change_persons(
        &self,
        changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        if changes.len() > 1 {
            let ids: Vec<String> = changes.iter().map(|c| c.person.to_string()).collect();
            lock_persons(&mut tx, &ids).await?;
        }
        for change in &changes {
            change_person(&mut tx, change).await?;
        }
        for event in &audit {
            insert_audit(&mut *tx, event).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn correct_request(
        &self,
        id: RequestId,
        seen: &evac_model::NewRequest,
        body: &evac_model::NewRequest,
        has_minors: bool,
        notes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        keeps_every_person(seen, body)?;
        let json = serde_json::to_string(body).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let forgotten_at = link_keys::begin_forgetting(&mut tx).await?;
        // The body the correction was decided on must still be the stored one; the row stays
        // locked until the commit, so a second correction waits here and then sees this one.
        let stored: Option<String> =
            sqlx::query_scalar("SELECT body FROM requests WHERE id = $1 FOR UPDATE")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let stored = stored.ok_or_else(|| StoreError::Missing(format!("request {id}")))?;
        let stored: evac_model::NewRequest =
            serde_json::from_str(&stored).map_err(|e| StoreError::Backend(e.to_string()))?;
        if &stored != seen {
            return Err(changed_meanwhile(&id.to_string()));
        }
        // Its people's rows, in id order, as every writer of several persons locks them (a seat
        // append, the outbox): no two of them wait on each other in a cycle.
        sqlx::query("SELECT 1 FROM persons WHERE request_id = $1 ORDER BY id FOR UPDATE")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let (citizenships, needs) = party_tags(body);
        sqlx::query(
            // A body without its place (one stored before places were kept, read later by
            // catch_up_places) keeps the place read, unless its location changed.
            "UPDATE requests SET body = $1, location_latin = $2, country = $3,
             place_id = COALESCE($4, CASE WHEN location_latin = $2 AND country IS NOT DISTINCT FROM $3 THEN place_id END),
             has_minors = $5, party_size = $6, citizenships = $8, needs = $9 WHERE id = $7",
        )
        .bind(json)
        .bind(evac_model::to_icao_latin(&body.location.text))
        .bind(body.location.country.map(|c| c.to_string()))
        .bind(body.location.place_id.map(|p| p as i64))
        .bind(has_minors)
        .bind(body.party.len() as i32)
        .bind(id.to_string())
        .bind(citizenships)
        .bind(needs)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // Its people are matched and keyed again as they read now (a new name or date keys
        // them anew; the people added, whose status count follows by its trigger, are matched
        // as a new request's are).
        link_keys::forget_request_keys(&mut tx, &id.to_string(), forgotten_at).await?;
        for (ordinal, p) in body.party.iter().enumerate().skip(seen.party.len()) {
            sqlx::query(
                "INSERT INTO persons (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
                 VALUES ($1, $2, $3, NULL, NULL, NULL, $4, $5)",
            )
            .bind(p.id.to_string())
            .bind(id.to_string())
            .bind(ordinal as i32)
            .bind(PersonStatus::Registered.as_str())
            .bind(audit.at.unix_micros())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        // What is kept beside the body: the people's search columns and the name keys.
        for p in &body.party {
            sqlx::query(
                "UPDATE persons SET surname_latin = $1, given_latin = $2, birth_date = $3
                 WHERE id = $4 AND request_id = $5",
            )
            .bind(p.surname.as_ref().map(|n| n.latin.clone()))
            .bind(p.given_names.as_ref().map(|n| n.latin.clone()))
            .bind(match p.birth {
                Some(evac_model::Birth::Date(d)) => Some(d.to_string()),
                _ => None,
            })
            .bind(p.id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        sqlx::query("DELETE FROM name_keys WHERE request_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO name_keys (key, request_id) SELECT k, $2 FROM UNNEST($1::text[]) AS k",
        )
        .bind(request_search_keys(body))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        for note in &notes {
            change_person(&mut tx, note).await?;
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn person_events_of_request(
        &self,
        request: RequestId,
    ) -> Result<Vec<StoredPersonEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_EVENT_COLUMNS} FROM persons p
             JOIN person_events e ON e.person_id = p.id
             WHERE p.request_id = $1 ORDER BY e.seq"
        )))
        .bind(request.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                person_event_from_columns(
                    r.try_get(0).map_err(backend)?,
                    r.try_get::<&str, _>(1).map_err(backend)?,
                    r.try_get(2).map_err(backend)?,
                    r.try_get::<&str, _>(3).map_err(backend)?,
                    r.try_get::<Option<&str>, _>(4).map_err(backend)?,
                    r.try_get::<&str, _>(5).map_err(backend)?,
                    r.try_get(6).map_err(backend)?,
                )
            })
            .collect()
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn dashboard_counts(&self) -> Result<DashboardCounts, StoreError> {
        let by_status: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, SUM(n)::bigint AS total FROM status_counts GROUP BY status HAVING SUM(n) > 0",
        )
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let by_place: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT place_id, SUM(n)::bigint AS total FROM place_counts GROUP BY place_id HAVING SUM(n) > 0 ORDER BY total DESC, place_id LIMIT {}",
            evac_store::DASHBOARD_PLACES_MAX
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut by_hour: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT hour, SUM(n)::bigint AS total FROM hour_counts GROUP BY hour ORDER BY hour DESC LIMIT {DASHBOARD_HOURS_MAX}"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        by_hour.reverse();
        Ok(DashboardCounts {
            by_hour: by_hour.into_iter().map(|(h, n)| (h, n as u64)).collect(),
            by_status: by_status
                .into_iter()
                .map(|(s, n)| Ok((status_from_text(&s)?, n as u64)))
                .collect::<Result<_, StoreError>>()?,
            by_place: by_place
                .into_iter()
                .map(|(p, n)| (p as u64, n as u64))
                .collect(),
        })
    }

    async fn requests_without_place(
        &self,
        limit: u32,
    ) -> Result<Vec<(RequestId, evac_model::Location)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, body FROM requests WHERE place_id IS NULL ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(id, body)| {
                let body: evac_model::NewRequest =
                    serde_json::from_str(&body).map_err(|e| StoreError::Backend(e.to_string()))?;
                let id = id
                    .parse()
                    .map_err(|e| StoreError::Backend(format!("{e}")))?;
                Ok((id, body.location))
            })
            .collect()
    }

    async fn set_request_places(&self, places: &[(RequestId, u64)]) -> Result<(), StoreError> {
        let ids: Vec<String> = places.iter().map(|(id, _)| id.to_string()).collect();
        let place_ids: Vec<i64> = places.iter().map(|(_, p)| *p as i64).collect();
        sqlx::query(
            "UPDATE requests r SET place_id = p.place_id
             FROM UNNEST($1::text[], $2::bigint[]) AS p(id, place_id)
             WHERE r.id = p.id AND r.place_id IS NULL",
        )
        .bind(ids)
        .bind(place_ids)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn tokens_of(
        &self,
        user: evac_model::UserId,
        now: Timestamp,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<(Vec<u8>, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT token_sha256, user_id, label, created_at, expires_at FROM api_tokens WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC",
        )
        .bind(user.to_string())
        .bind(now.unix_micros())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(digest, user, label, created, expires)| {
                token_from_columns(digest, &user, label, created, expires)
            })
            .collect()
    }

    async fn delete_token(
        &self,
        token_sha256: &[u8; 32],
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM api_tokens WHERE token_sha256 = $1")
            .bind(token_sha256.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn release_claims(
        &self,
        channel: &str,
        node: &str,
        due_at: Timestamp,
    ) -> Result<usize, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_until = $3, next_at = 0 WHERE state = 'sending' AND claimed_by = $1 AND channel = $2",
        )
        .bind(node)
        .bind(channel)
        .bind(due_at.unix_micros())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() as usize)
    }

    async fn acks_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        requests_due(&self.pool, DueQueue::Acks, limit).await
    }

    async fn settle_acks(
        &self,
        messages: Vec<NewMessage>,
        requests: Vec<RequestId>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let mut queued = 0;
        for m in &messages {
            queued += outbox::enqueue(&mut tx, m).await?;
        }
        clear_due(&mut tx, DueQueue::Acks, &requests).await?;
        tx.commit().await.map_err(backend)?;
        Ok(queued)
    }

    async fn enqueue_messages(
        &self,
        messages: Vec<NewMessage>,
        audit: Vec<AuditEvent>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let mut queued = 0;
        for m in &messages {
            queued += outbox::enqueue(&mut tx, m).await?;
        }
        for a in &audit {
            insert_audit(&mut *tx, a).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(queued)
    }

    async fn claim_messages(
        &self,
        channel: &str,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        outbox::claim(
            &self.pool,
            channel,
            node,
            now,
            lease_until,
            limit.min(PAGE_ITEMS_MAX),
        )
        .await
    }

    async fn finish_message(
        &self,
        id: MessageId,
        node: &str,
        at: Timestamp,
        outcome: SendOutcome,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let done = outbox::finish(&mut tx, id, node, at, &outcome).await?;
        tx.commit().await.map_err(backend)?;
        Ok(done)
    }

    async fn record_delivery(
        &self,
        id: MessageId,
        at: Timestamp,
        report: DeliveryReport,
        detail: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let done = outbox::delivery(&mut tx, id, at, report, detail).await?;
        tx.commit().await.map_err(backend)?;
        Ok(done)
    }

    async fn messages(
        &self,
        filter: &MessageFilter,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        outbox::messages(&self.pool, filter, limit.min(PAGE_ITEMS_MAX)).await
    }

    async fn message_counts(&self) -> Result<Vec<(MessageState, u64)>, StoreError> {
        outbox::counts(&self.pool).await
    }

    async fn store_inbound(
        &self,
        message: NewInbound,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let stored = outbox::store_inbound(&mut tx, &message).await?;
        if stored {
            insert_audit(&mut *tx, &audit).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn inbound(
        &self,
        states: &[&str],
        request: Option<RequestId>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>, StoreError> {
        outbox::inbound(&self.pool, states, request, limit.min(PAGE_ITEMS_MAX)).await
    }

    async fn handle_inbound(
        &self,
        id: InboundId,
        request: Option<RequestId>,
        state: &str,
        by: &Actor,
        at: Timestamp,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        outbox::handle_inbound(&mut tx, id, request, state, by, at).await?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn inbox_waiting(&self) -> Result<InboxWaiting, StoreError> {
        outbox::waiting(&self.pool).await
    }

    async fn link_chat(&self, chat: MessengerChat, audit: AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        calls::link_chat(&mut tx, &chat).await?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn chat_phone(&self, channel: &str, chat: &str) -> Result<Option<String>, StoreError> {
        calls::chat_phone(&self.pool, channel, chat).await
    }

    async fn chats_of_phones(
        &self,
        channel: &str,
        phones: &[String],
    ) -> Result<Vec<MessengerChat>, StoreError> {
        calls::chats_of_phones(&self.pool, channel, phones).await
    }

    async fn log_call(
        &self,
        call: Call,
        callback: CallbackChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        calls::log_call(&mut tx, &call, &callback).await?;
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn calls_of_request(&self, request: RequestId) -> Result<Vec<Call>, StoreError> {
        calls::calls_of_request(&self.pool, request).await
    }

    async fn record_presence(
        &self,
        presence: Presence,
        changes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let inserted = sqlx::query(
            "INSERT INTO presences (request_id, hub, at, actor)
             SELECT id, $2, $3, $4 FROM requests WHERE id = $1",
        )
        .bind(presence.request.to_string())
        .bind(&presence.hub)
        .bind(presence.at.unix_micros())
        .bind(&presence.actor)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Missing(format!("request {}", presence.request)));
        }
        let ids: Vec<String> = changes.iter().map(|c| c.person.to_string()).collect();
        lock_persons(&mut tx, &ids).await?;
        for change in &changes {
            change_person(&mut tx, change).await?;
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn presences_at(&self, hub: &str, since: Timestamp) -> Result<Vec<Presence>, StoreError> {
        let rows = sqlx::query(
            "SELECT request_id, hub, at, actor FROM presences
             WHERE hub = $1 AND at >= $2 ORDER BY at, request_id",
        )
        .bind(hub)
        .bind(since.unix_micros())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let request: String = r.try_get(0).map_err(backend)?;
                Ok(Presence {
                    request: parse_id("presences.request_id", &request)?,
                    hub: r.try_get(1).map_err(backend)?,
                    at: Timestamp::from_unix_micros(r.try_get(2).map_err(backend)?),
                    actor: r.try_get(3).map_err(backend)?,
                })
            })
            .collect()
    }

    async fn queue_callbacks(
        &self,
        callbacks: Vec<(RequestId, Timestamp, String)>,
    ) -> Result<usize, StoreError> {
        calls::queue_callbacks(&self.pool, &callbacks).await
    }

    async fn settle_callbacks(&self, requests: Vec<RequestId>) -> Result<usize, StoreError> {
        let ids: Vec<String> = requests.iter().map(ToString::to_string).collect();
        let done = sqlx::query("DELETE FROM callbacks WHERE request_id = ANY($1)")
            .bind(&ids)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() as usize)
    }

    async fn callbacks(&self, limit: u32) -> Result<Vec<Callback>, StoreError> {
        calls::callbacks(&self.pool, limit.min(PAGE_ITEMS_MAX)).await
    }

    async fn callback_of(&self, request: RequestId) -> Result<Option<Callback>, StoreError> {
        calls::callback_of(&self.pool, request).await
    }

    async fn take_callback(
        &self,
        operator: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Callback>, StoreError> {
        calls::take_callback(&self.pool, operator, now, lease_until).await
    }

    async fn assign_requests(
        &self,
        change: AssignmentChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Each request's row is locked (or, for one nobody holds, inserted) before it is
        // checked: a second officer's change waits for the first and then sees its holder.
        for request in &change.requests {
            let id = request.to_string();
            if change.if_held_by == Some(None) {
                // Taking a request nobody holds: the insert is the check (a concurrent insert
                // of the same request makes this one wait, then do nothing).
                let taken = sqlx::query(
                    "INSERT INTO assignments (request_id, officer, assigned_by, assigned_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
                )
                .bind(&id)
                .bind(change.officer.as_deref().unwrap_or(""))
                .bind(&change.by)
                .bind(change.at.unix_micros())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                if taken.rows_affected() == 0 {
                    let holder: Option<String> =
                        sqlx::query_scalar("SELECT officer FROM assignments WHERE request_id = $1")
                            .bind(&id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(backend)?;
                    return Err(held_by_another(*request, holder.as_deref()));
                }
                if change.officer.is_none() {
                    sqlx::query("DELETE FROM assignments WHERE request_id = $1")
                        .bind(&id)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                }
                continue;
            }
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT officer FROM assignments WHERE request_id = $1 FOR UPDATE",
            )
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            if let Some(expected) = &change.if_held_by
                && holder != *expected
            {
                return Err(held_by_another(*request, holder.as_deref()));
            }
            match &change.officer {
                Some(officer) => sqlx::query(
                    "INSERT INTO assignments (request_id, officer, assigned_by, assigned_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (request_id) DO UPDATE SET officer = excluded.officer,
                         assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
                )
                .bind(&id)
                .bind(officer)
                .bind(&change.by)
                .bind(change.at.unix_micros()),
                None => sqlx::query("DELETE FROM assignments WHERE request_id = $1").bind(&id),
            }
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        insert_audit(&mut *tx, &audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn assignments_of(&self, requests: &[RequestId]) -> Result<Vec<Assignment>, StoreError> {
        let ids: Vec<String> = requests.iter().map(ToString::to_string).collect();
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT request_id, officer, assigned_by, assigned_at FROM assignments
             WHERE request_id = ANY($1) ORDER BY request_id",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(request, officer, assigned_by, at)| {
                Ok(Assignment {
                    request: parse_id("assignments.request_id", &request)?,
                    officer,
                    assigned_by,
                    assigned_at: Timestamp::from_unix_micros(at),
                })
            })
            .collect()
    }

    async fn assigned_to(&self, officer: &str, limit: u32) -> Result<Vec<RequestId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT request_id FROM assignments WHERE officer = $1
             ORDER BY assigned_at DESC, request_id LIMIT $2",
        )
        .bind(officer)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        ids.iter()
            .map(|id| parse_id("assignments.request_id", id))
            .collect()
    }

    async fn legacy_signing_secret(&self, forget: bool) -> Result<Option<[u8; 32]>, StoreError> {
        let secret: Option<Vec<u8>> = if forget {
            sqlx::query_scalar("DELETE FROM signing_keys WHERE id = 1 RETURNING secret")
        } else {
            sqlx::query_scalar("SELECT secret FROM signing_keys WHERE id = 1")
        }
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        secret
            .map(|s| {
                s.try_into()
                    .map_err(|_| StoreError::Corrupt("signing_keys.secret is not 32 bytes".into()))
            })
            .transpose()
    }

    async fn pass_public_keys(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT public_key FROM pass_public_keys ORDER BY created_at, public_key",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn register_pass_key(
        &self,
        public_key: &str,
        at: Timestamp,
        only_if_none: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Two nodes starting on an empty database: one key wins, the other node is told.
        sqlx::query("LOCK TABLE pass_public_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let none: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM pass_public_keys)")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        if none || !only_if_none {
            sqlx::query(
                "INSERT INTO pass_public_keys (public_key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(public_key)
            .bind(at.unix_micros())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        let present: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pass_public_keys WHERE public_key = $1)",
        )
        .bind(public_key)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(present)
    }

    async fn erase_contacts(
        &self,
        request: RequestId,
        addresses: &[String],
    ) -> Result<u64, StoreError> {
        let chats = "SELECT chat FROM messenger_chats WHERE phone = ANY($2)";
        let statements = [
            format!(
                "UPDATE outbox SET state = CASE WHEN state IN ('queued', 'sending') THEN 'given_up' ELSE state END,
                     last_error = CASE WHEN state IN ('queued', 'sending') THEN 'the recipient''s data was erased' ELSE last_error END,
                     recipient = $3, body = $3
                 WHERE request_id = $1 AND (recipient = ANY($2) OR recipient IN ({chats}))"
            ),
            format!(
                "UPDATE inbox SET sender = $3, text = $3
                 WHERE request_id = $1 AND (sender = ANY($2) OR sender IN ({chats}))"
            ),
            "UPDATE calls SET phone = NULL, note = $3 WHERE request_id = $1 AND phone = ANY($2)"
                .to_string(),
        ];
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let forgotten_at = link_keys::begin_forgetting(&mut tx).await?;
        let mut erased = 0;
        for sql in &statements {
            erased += sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(request.to_string())
                .bind(addresses)
                .bind(ERASED)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        }
        // Last: the updates above find messenger messages through these chats.
        erased += sqlx::query("DELETE FROM messenger_chats WHERE phone = ANY($1)")
            .bind(addresses)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        link_keys::forget_request_keys(&mut tx, &request.to_string(), forgotten_at).await?;
        tx.commit().await.map_err(backend)?;
        Ok(erased)
    }

    async fn exercise(&self) -> Result<Option<(String, Timestamp)>, StoreError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT copied_from, made_at FROM exercise")
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(|(from, at)| (from, Timestamp::from_unix_micros(at))))
    }

    async fn record_login_failure(
        &self,
        keys: &[String],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before.unix_micros())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("INSERT INTO login_failures (key, at) SELECT unnest($1::text[]), $2")
            .bind(keys)
            .bind(at.unix_micros())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn login_failures(&self, key: &str, limit: u32) -> Result<Vec<Timestamp>, StoreError> {
        let times: Vec<i64> = sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE key = $1 ORDER BY at DESC LIMIT $2",
        )
        .bind(key)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(times.into_iter().map(Timestamp::from_unix_micros).collect())
    }

    async fn forget_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn mark_exercise(&self, copied_from: &str, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO exercise (id, copied_from, made_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(copied_from)
        .bind(at.unix_micros())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("DELETE FROM pass_public_keys")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn unregister_pass_key(&self, public_key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pass_public_keys WHERE public_key = $1")
            .bind(public_key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn report_row(r: &PgRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: r.try_get(0).map_err(backend)?,
        received_at: r.try_get(1).map_err(backend)?,
        source: r.try_get(2).map_err(backend)?,
        grade: r.try_get(3).map_err(backend)?,
        language: r.try_get(4).map_err(backend)?,
        text: r.try_get(5).map_err(backend)?,
        state: r.try_get(6).map_err(backend)?,
        mentions: r.try_get(7).map_err(backend)?,
        external_id: r.try_get(8).map_err(backend)?,
    })
}

async fn insert_statements(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    report: ReportId,
    statements: &[Statement],
) -> Result<(), StoreError> {
    for st in statements {
        sqlx::query("INSERT INTO statements (report, subject, effect, from_at, until, capacity_per_day, note) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(report.to_string())
            .bind(st.subject.to_string())
            .bind(st.effect.to_string())
            .bind(st.from.unix_micros())
            .bind(st.until.map(|u| u.unix_micros()))
            .bind(st.capacity_per_day.map(i64::from))
            .bind(&st.note)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

fn stored_policy((version, toml, created_at, author): (i64, String, i64, String)) -> StoredPolicy {
    StoredPolicy {
        version,
        toml,
        created_at: Timestamp::from_unix_micros(created_at),
        author,
    }
}

/// Seat events go to the server as arrays, this many per statement (a published plan is
/// hundreds of thousands of people; one round trip per row would take minutes).
const SEAT_EVENTS_PER_STATEMENT_MAX: usize = 10_000;

/// Each event's person status, folded with [`JourneyStatus`] from the person's stored status and
/// the live seats they hold before the batch. The seats are read under the seat log's lock (no
/// other append moves them meanwhile) and the persons' rows locked first, in id order, so the
/// outbox cannot move a person to `notified` between this read and the status written back.
async fn journey_statuses(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    events: &[SeatEvent],
) -> Result<Vec<String>, StoreError> {
    let persons: Vec<String> = events.iter().map(|e| e.person.to_string()).collect();
    let transports: Vec<String> = events.iter().map(|e| e.transport.to_string()).collect();
    lock_persons(tx, &persons).await?;
    let feeders: HashSet<String> = sqlx::query_scalar(
        "SELECT id FROM transports WHERE id = ANY($1) AND body::jsonb -> 'feeds' IS NOT NULL",
    )
    .bind(&transports)
    .fetch_all(&mut **tx)
    .await
    .map_err(backend)?
    .into_iter()
    .collect();
    let rows = sqlx::query(
        "SELECT p.id, p.status, l.pass, l.state, t.body::jsonb -> 'feeds' IS NOT NULL
         FROM persons p
         LEFT JOIN live_seats l ON l.person_id = p.id
         LEFT JOIN transports t ON t.id = l.transport_id
         WHERE p.id = ANY($1)",
    )
    .bind(&persons)
    .fetch_all(&mut **tx)
    .await
    .map_err(backend)?;
    let mut journeys: HashMap<String, (PersonStatus, Vec<HeldSeat>)> = HashMap::new();
    for r in &rows {
        let id: String = r.try_get(0).map_err(backend)?;
        let status: String = r.try_get(1).map_err(backend)?;
        let journey = journeys.entry(id).or_insert_with(|| {
            (
                PersonStatus::parse(&status).unwrap_or(PersonStatus::Verified),
                Vec::new(),
            )
        });
        let pass: Option<String> = r.try_get(2).map_err(backend)?;
        let state: Option<String> = r.try_get(3).map_err(backend)?;
        if let (Some(pass), Some(state)) = (pass, state) {
            journey.1.push(HeldSeat {
                pass: pass
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("live seat pass '{pass}': {e}")))?,
                feeder: r
                    .try_get::<Option<bool>, _>(4)
                    .map_err(backend)?
                    .unwrap_or(false),
                state: SeatEventKind::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("live seat state '{state}'")))?,
            });
        }
    }
    let mut journeys: HashMap<String, JourneyStatus> = journeys
        .into_iter()
        .map(|(id, (status, seats))| (id, JourneyStatus::new(status, seats)))
        .collect();
    Ok(events
        .iter()
        .map(|e| {
            let feeder = feeders.contains(&e.transport.to_string());
            journeys
                .entry(e.person.to_string())
                .or_insert_with(|| JourneyStatus::new(PersonStatus::Verified, vec![]))
                .apply(e.kind, e.pass, feeder)
                .as_str()
                .to_string()
        })
        .collect())
}

/// Inserts seat events, the person events they cause (each from the status before it, even
/// when one person has two events in the batch) and the persons' last status.
async fn insert_seat_events(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    events: &[SeatEvent],
) -> Result<(), StoreError> {
    let column = |f: &dyn Fn(&SeatEvent) -> String| events.iter().map(f).collect::<Vec<String>>();
    let at: Vec<i64> = events.iter().map(|e| e.at.unix_micros()).collect();
    let actor = column(&|e| e.actor.label());
    let kind = column(&|e| e.kind.as_str().to_string());
    let person = column(&|e| e.person.to_string());
    let household = column(&|e| e.household.clone());
    let transport = column(&|e| e.transport.to_string());
    let class: Vec<i32> = events.iter().map(|e| i32::from(e.class)).collect();
    let pass = column(&|e| e.pass.to_string());
    let reason = column(&|e| e.reason.clone());
    let seat_number: Vec<Option<i32>> = events
        .iter()
        .map(|e| e.seat_number.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
        .collect();
    let status = journey_statuses(tx, events).await?;
    sqlx::query(
        "INSERT INTO seat_events (at, actor, kind, person_id, household, transport_id, class, pass, reason, seat_number)
         SELECT at, actor, kind, person_id, household, transport_id, class, pass, reason, seat_number
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::int[])
              WITH ORDINALITY AS e(at, actor, kind, person_id, household, transport_id, class, pass, reason, seat_number, ord)
         ORDER BY ord",
    )
    .bind(&at)
    .bind(&actor)
    .bind(&kind)
    .bind(&person)
    .bind(&household)
    .bind(&transport)
    .bind(&class)
    .bind(&pass)
    .bind(&reason)
    .bind(&seat_number)
    .execute(&mut **tx)
    .await
    .map_err(|e| match (live_seat_rule_on(&e), unique_violation_on(&e)) {
        (Some((rule, detail)), _) => {
            let mut ids = detail.splitn(3, ' ');
            let mut id = || ids.next().unwrap_or("?").to_string();
            let (person, transport, pass) = (id(), id(), id());
            live_seat_refusal(&rule, &person, &transport, &pass)
        }
        (None, Some(constraint)) if constraint.starts_with("seat_events_") => seat_conflict(
            events
                .iter()
                .find(|e| matches!(e.kind, SeatEventKind::CheckedIn | SeatEventKind::Boarded))
                .unwrap_or(&events[0]),
        ),
        (None, _) => backend(e),
    })?;
    sqlx::query(
        "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
         SELECT e.person_id, e.at, e.actor,
                COALESCE(LAG(e.status) OVER (PARTITION BY e.person_id ORDER BY e.ord), p.status),
                e.status, e.reason
         FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
              WITH ORDINALITY AS e(person_id, at, actor, status, reason, ord)
         JOIN persons p ON p.id = e.person_id
         ORDER BY e.ord",
    )
    .bind(&person)
    .bind(&at)
    .bind(&actor)
    .bind(&status)
    .bind(&reason)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    sqlx::query(
        "UPDATE persons p SET status = l.status, status_at = l.at
         FROM (SELECT DISTINCT ON (person_id) person_id, status, at
               FROM UNNEST($1::text[], $2::text[], $3::bigint[])
                    WITH ORDINALITY AS e(person_id, status, at, ord)
               ORDER BY person_id, ord DESC) l
         WHERE p.id = l.person_id",
    )
    .bind(&person)
    .bind(&status)
    .bind(&at)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

fn seat_event_from_row(r: &PgRow) -> Result<StoredSeatEvent, StoreError> {
    let get = |i: usize| r.try_get::<String, _>(i).map_err(backend);
    SeatRow {
        seq: r.try_get(0).map_err(backend)?,
        at: r.try_get(1).map_err(backend)?,
        actor: get(2)?,
        kind: get(3)?,
        person_id: get(4)?,
        household: get(5)?,
        transport_id: get(6)?,
        class: r.try_get::<i32, _>(7).map_err(backend)?.into(),
        pass: get(8)?,
        reason: get(9)?,
        seat_number: r
            .try_get::<Option<i32>, _>(10)
            .map_err(backend)?
            .map(i64::from),
    }
    .into_event()
}

/// The conditions a request filter puts on `requests r` (after a `WHERE TRUE`), the list's and
/// the count's alike.
fn push_request_filter(q: &mut QueryBuilder<Postgres>, filter: &RequestFilter) {
    if let Some(status) = filter.status {
        q.push(" AND EXISTS (SELECT 1 FROM persons p WHERE p.request_id = r.id AND p.status = ")
            .push_bind(status.as_str())
            .push(")");
    }
    if let Some(place) = &filter.place {
        let pattern = format!(
            "%{}%",
            evac_model::to_icao_latin(place).replace(['%', '_'], "")
        );
        q.push(" AND r.location_latin LIKE ").push_bind(pattern);
    }
    if filter.name.is_some() || filter.phone.is_some() {
        // A name's words and a phone number are search keys alike: all must be there.
        let mut keys = filter
            .name
            .as_deref()
            .map(query_name_keys)
            .unwrap_or_default();
        if filter.name.is_some() && keys.is_empty() {
            // No word of a name in it: the empty key, which nobody has.
            keys.push(String::new());
        }
        keys.extend(filter.phone.as_deref().map(phone_search_key));
        for key in keys {
            q.push(" AND r.id IN (SELECT request_id FROM name_keys WHERE key = ")
                .push_bind(key)
                .push(")");
        }
    }
    if let Some(channel) = filter.channel {
        q.push(" AND r.channel = ").push_bind(channel.as_str());
    }
    if let Some(from) = filter.received_from {
        q.push(" AND r.received_at >= ")
            .push_bind(from.unix_micros());
    }
    if let Some(until) = filter.received_until {
        q.push(" AND r.received_at < ")
            .push_bind(until.unix_micros());
    }
    if let Some(minors) = filter.has_minors {
        q.push(" AND r.has_minors = ").push_bind(minors);
    }
    if let Some(town) = filter.town {
        q.push(" AND r.place_id = ").push_bind(town as i64);
    }
    if let Some(officer) = &filter.assignee {
        q.push(" AND r.id IN (SELECT request_id FROM assignments WHERE officer = ")
            .push_bind(officer.clone())
            .push(")");
    }
    if let Some(country) = filter.citizenship {
        q.push(" AND r.citizenships LIKE ")
            .push_bind(tag_pattern(country.as_str()));
    }
    if let Some(need) = filter.need {
        q.push(" AND r.needs LIKE ")
            .push_bind(tag_pattern(need.as_str()));
    }
    if let Some(among) = &filter.among {
        q.push(" AND r.id = ANY(")
            .push_bind(among.iter().map(ToString::to_string).collect::<Vec<_>>())
            .push(")");
    }
}

/// Link events from rows of `seq, at, actor, kind, person_a, person_b, match_probability,
/// explanation, refers_to`.
fn link_events_of_rows(rows: &[PgRow]) -> Result<Vec<StoredLinkEvent>, StoreError> {
    rows.iter()
        .map(|r| {
            let actor: String = r.try_get(2).map_err(backend)?;
            let kind: String = r.try_get(3).map_err(backend)?;
            let a: String = r.try_get(4).map_err(backend)?;
            let b: String = r.try_get(5).map_err(backend)?;
            link_event_from_columns(
                r.try_get(0).map_err(backend)?,
                r.try_get(1).map_err(backend)?,
                &actor,
                &kind,
                &a,
                &b,
                r.try_get(6).map_err(backend)?,
                r.try_get(7).map_err(backend)?,
                r.try_get(8).map_err(backend)?,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::{ScratchDatabase, test_server_url};

    /// Takes row `first` of `rows_to_lock`, waits until the other side holds its first row,
    /// then takes `second`; rolls back at once when refused (an aborted transaction keeps its
    /// locks until it ends).
    async fn lock_in_order(
        pool: sqlx::PgPool,
        first: i32,
        second: i32,
        both_hold_one: std::sync::Arc<tokio::sync::Barrier>,
    ) -> Result<(), sqlx::Error> {
        let lock = "SELECT id FROM rows_to_lock WHERE id = $1 FOR UPDATE";
        let mut tx = pool.begin().await?;
        sqlx::query(lock).bind(first).execute(&mut *tx).await?;
        both_hold_one.wait().await;
        match sqlx::query(lock).bind(second).execute(&mut *tx).await {
            Ok(_) => tx.commit().await,
            Err(e) => {
                tx.rollback().await.ok();
                Err(e)
            }
        }
    }

    /// Two writers taking two rows in opposite orders: PostgreSQL breaks the deadlock by
    /// failing one of them, which the store reports as contended (the app decides again, the
    /// API answers 503 with Retry-After), not as a server error.
    #[tokio::test]
    async fn a_deadlock_is_reported_as_contention() {
        let Some(admin_url) = test_server_url() else {
            return;
        };
        let scratch = ScratchDatabase::create(&admin_url).await.unwrap();
        let store = scratch.store().await.unwrap();
        let pool = store.pool().clone();
        sqlx::raw_sql(
            "CREATE TABLE rows_to_lock (id int PRIMARY KEY); INSERT INTO rows_to_lock VALUES (1), (2)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let (one, other) = tokio::join!(
            lock_in_order(pool.clone(), 1, 2, barrier.clone()),
            lock_in_order(pool.clone(), 2, 1, barrier),
        );
        let refused: Vec<StoreError> = [one, other]
            .into_iter()
            .filter_map(Result::err)
            .map(backend)
            .collect();
        assert_eq!(refused.len(), 1, "one of the two is given up: {refused:?}");
        assert!(
            matches!(&refused[0], StoreError::Contended(why) if why.contains("deadlock")),
            "{refused:?}"
        );
        pool.close().await;
        scratch.drop_now().await.unwrap();
    }
}
