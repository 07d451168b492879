//! The storage boundary: one trait in domain words, implemented once per backend.
//!
//! Nothing here knows SQL. A backend crate (`evac-store-sqlite`, `evac-store-postgres`) owns its
//! migrations and row mapping and must pass [`conformance`], the one story every backend runs.
//! Writes that must be atomic together (a request, its people, its idempotency key
//! and its audit event) are one method call, so no caller can half-do them.

mod assignments;
pub mod audit_chain;
mod calls;
pub mod conformance;
mod intake_load;
mod outbox;
mod seats;
mod situation;

pub use assignments::*;
pub use calls::*;
pub use intake_load::{BUSY_REQUESTS_PER_S, IntakeLoad};
pub use outbox::*;
pub use seats::{
    LIVE_SEAT_RULES, Presence, SEAT_COLUMNS, SeatRow, live_seat_refusal, seat_conflict,
};
pub use situation::{CLAIM_COLUMNS, ClaimRow, REPORT_COLUMNS, ReportRow, StoredPolicy};

use std::collections::HashSet;

use async_trait::async_trait;
use evac_model::{
    Actor, Channel, Claim, Feature, Grade, Hub, InboundId, LinkEvent, LinkEventKind, MessageId,
    PersonId, PersonStatus, ReferenceCode, Report, ReportId, ReportState, Request, RequestId, Role,
    SeatEvent, Statement, StatusEvent, StoredLinkEvent, StoredSeatEvent, Timestamp, Transport,
    UserId,
};

/// Pages are bounded: a caller asking for more gets this many.
pub const PAGE_ITEMS_MAX: u32 = 1_000;
/// Logs read whole by the app (the seat log) come in pages of at most this many events.
pub const LOG_PAGE_ITEMS_MAX: u32 = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("{what} already exists")]
    Conflict { what: String },
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("{0}")]
    Config(String),
    /// A write named something that is not stored (the caller checks first; this guards it).
    #[error("{0} is not stored")]
    Missing(String),
    /// A rule the store keeps itself refused the write (a second live seat, a full transport,
    /// a scan of a pass that is no longer the person's seat); nothing of the call was kept.
    #[error("{0}")]
    Refused(String),
    /// A change decided on a person's status found them in another (someone changed them
    /// meanwhile); nothing of the call was kept.
    #[error(
        "person {person} is {now} now, no longer {expected}: someone changed them meanwhile; read the request again"
    )]
    PersonMoved {
        person: String,
        now: String,
        expected: PersonStatus,
    },
    /// A correction decided on a request's body found another body stored (someone corrected
    /// it meanwhile); nothing of the call was kept.
    #[error(
        "request {request} was changed by someone else meanwhile: read it again and decide again"
    )]
    RequestMoved { request: String },
    /// The database gave the write up because another write held rows it needed at the same
    /// time (a deadlock it broke, or a serialisable transaction's conflict); nothing of the
    /// call was kept, and the same call may be made again.
    #[error(
        "the database gave this write up because another write needed the same rows at the same moment ({0}); nothing was kept — try again"
    )]
    Contended(String),
    /// The log grew after the fold the append was decided from ([`AppendIf`]); nothing of the
    /// call was kept. Read the log again and decide anew.
    #[error(
        "the {log} changed while this was being decided (read up to event {expected}, now at {head}); read it again and decide anew"
    )]
    LogMoved {
        log: &'static str,
        expected: i64,
        head: i64,
    },
}

impl StoreError {
    /// `Ok` if a log's `head` is the one an append `expected`, [`StoreError::LogMoved`] if not.
    pub fn unless_log_moved(log: &'static str, expected: i64, head: i64) -> Result<(), StoreError> {
        if head == expected {
            Ok(())
        } else {
            Err(StoreError::LogMoved {
                log,
                expected,
                head,
            })
        }
    }
}

/// When an append to a log (the seat log, the link log) may go ahead.
///
/// A use case that reads a log, decides and appends (publishing a plan, releasing no-shows,
/// deciding on a pair) names the head of the fold it decided from; the store checks it in the
/// same transaction as the append, serially with every other append to that log (the SQLite
/// writer; a PostgreSQL advisory lock per log), so two planners or two nodes can never both
/// append from the same fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendIf {
    /// Always: the store's own rules guard the events (a scan, a release, a linker's proposal).
    Always,
    /// Only if the log's last sequence number is still this (0: the log is empty).
    HeadIs(i64),
    /// Seat log only: only if nothing but scans (check-ins, boardings) was appended since this
    /// head, and none of those scans was of a person the call releases. A publication decided
    /// from that fold is still right (a scan changes no seat), so busy gates do not keep a
    /// planner from publishing; a release of someone just scanned is refused as moved.
    HeadIsIgnoringScans(i64),
    /// Link log only: only if the last sequence number among the events about this pair of
    /// persons (in either order) is still this (0: none). A decision reads only its pair.
    PairHeadIs(PersonId, PersonId, i64),
}

/// Work one node does for every node holds a lease of this name (the online linker).
pub const LINKAGE_LEASE: &str = "linkage";
/// The generation of the desk's kept ranking ([`Store::generation`]).
pub const RANKING_GENERATION: &str = "ranking";
/// The generation of the kept link keys ([`Store::generation`]). Forgetting a request's keys
/// (a correction, an erasure) moves it on and notes the request at the new value. A keyer reads
/// it before it reads the requests it keys and offers its keys as read at that value; the store
/// keeps nothing it made from a request forgotten since (the request stays due, and is keyed
/// again as it reads now), so keys made from a body a correction replaced are never kept.
pub const LINK_KEYS_GENERATION: &str = "link_keys";

/// A write that only the holder of a lease may make (`holder`), or only while nobody holds it
/// (`holder: None`: a console command's linking while no node links): the store checks, in the
/// write's own transaction, who holds `lease` at `at`, and refuses the write otherwise; another
/// node taking the lease over waits for that transaction (a fence: a node that stalled past its
/// lease cannot write after its successor started).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFence {
    pub lease: String,
    pub holder: Option<String>,
    pub at: Timestamp,
}

impl LeaseFence {
    /// Refuses ([`StoreError::Refused`]) unless the lease's live holder at `at` is the one the
    /// fence expects.
    pub fn admits(&self, live_holder: Option<&str>) -> Result<(), StoreError> {
        if live_holder == self.holder.as_deref() {
            return Ok(());
        }
        Err(StoreError::Refused(match (&self.holder, live_holder) {
            (Some(me), _) => format!(
                "{me} no longer holds the {} lease; the node holding it now does this work",
                self.lease
            ),
            (None, Some(other)) => format!(
                "{other} holds the {} lease and does this work; nothing was written",
                self.lease
            ),
            (None, None) => unreachable!("admitted above"),
        }))
    }
}

/// A person's blocking keys, kept so that matching on arrival reads the stored people who share
/// a key of a new person's instead of holding every person in memory (and a restarted linker
/// matches at once instead of rebuilding an index). Keys are what `evac_link` makes them:
/// hashes, kind in the top bits; the store keeps them as signed 64-bit integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedPerson {
    pub person: PersonId,
    pub request: RequestId,
    pub keys: Vec<u64>,
}

impl KeyedPerson {
    /// The keys as a store keeps them beside the person: 8 bytes each, little-endian.
    pub fn packed_keys(&self) -> Vec<u8> {
        self.keys.iter().flat_map(|k| k.to_le_bytes()).collect()
    }

    /// The keys [`KeyedPerson::packed_keys`] packed.
    pub fn unpack_keys(packed: &[u8]) -> Vec<u64> {
        packed
            .chunks_exact(8)
            .map(|k| u64::from_le_bytes(k.try_into().expect("chunks of 8")))
            .collect()
    }
}

/// Each key of the people kept just now under its person's number (`nums` in the order of
/// `keyed`, as [`Store::keep_link_people`] answers; people kept before are left out), in the
/// order a store indexes them ([`sort_key_rows`]).
pub fn key_rows(keyed: &[KeyedPerson], nums: &[Option<i64>]) -> Vec<(u64, i64)> {
    let mut rows: Vec<(u64, i64)> = keyed
        .iter()
        .zip(nums)
        .filter_map(|(k, num)| {
            let num = (*num)?;
            Some(k.keys.iter().map(move |&key| (key, num)))
        })
        .flatten()
        .collect();
    sort_key_rows(&mut rows);
    rows
}

/// Sorts (key, number) rows as a store's index orders them: keys are stored as signed 64-bit
/// integers, so in that order neighbouring rows share index pages.
pub fn sort_key_rows(rows: &mut [(u64, i64)]) {
    rows.sort_unstable_by_key(|&(key, num)| (key as i64, num));
}

/// Leaves out of a settlement what a keyer made from requests forgotten after it read them
/// (`forgotten`, see [`LINK_KEYS_GENERATION`]; `their_people`: every person of those
/// requests): their people's keys, every link event about any of those people (a batch's own
/// new person, or a candidate it read as the request was before), and the requests' due marks
/// (they stay due). The backends call it in the settlement's own transaction.
pub fn leave_out_forgotten(
    forgotten: &HashSet<RequestId>,
    their_people: &HashSet<PersonId>,
    events: &mut Vec<LinkEvent>,
    keyed: &mut Vec<KeyedPerson>,
    requests: &mut Vec<RequestId>,
) {
    if forgotten.is_empty() {
        return;
    }
    leave_out_events_about(their_people, events);
    keyed.retain(|k| !forgotten.contains(&k.request));
    requests.retain(|r| !forgotten.contains(r));
}

/// Leaves out every link event about any of `people` (of requests forgotten since a relink
/// read them, as [`leave_out_forgotten`] does for a settlement).
pub fn leave_out_events_about(people: &HashSet<PersonId>, events: &mut Vec<LinkEvent>) {
    events.retain(|e| !people.contains(&e.person_a) && !people.contains(&e.person_b));
}

/// A stored person who shares `key` with someone being matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub key: u64,
    pub person: PersonId,
    pub request: RequestId,
}

/// The linkage model kept between runs: what the last relink learnt (`model`, the app's JSON),
/// how the kept keys were made (`keys_fingerprint`: keys made otherwise are not comparable, so
/// they are made again), and how many people the model learnt from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLinkModel {
    pub model: String,
    pub keys_fingerprint: u64,
    pub persons: u64,
    pub saved_at: Timestamp,
}

/// A retry-safety claim: the key the client sent and a digest of the body it sent with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub key: String,
    pub body_sha256: [u8; 32],
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub actor: Actor,
    /// What was done, dotted: `request.create`, `request.read`, `request.export`, `user.create`.
    pub action: String,
    /// What it was done to: a request id, a user name, a filter.
    pub subject: Option<String>,
    /// Non-personal context (counts, filters, the channel), never names, phones or documents.
    pub detail: serde_json::Value,
}

/// A staff member's change to one person: a new status, or none (a note), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonChange {
    pub person: PersonId,
    pub at: Timestamp,
    pub actor: Actor,
    /// `None` keeps the person's status: the event is a note.
    pub to: Option<PersonStatus>,
    pub reason: String,
    /// The status the change was decided on: with one, a change of status goes ahead only if
    /// the person still has it, or the whole call is [`StoreError::Refused`] (two officers
    /// changing one person at once: the second is told, not silently layered on the first).
    pub expected: Option<PersonStatus>,
}

/// A token from its stored columns (token_sha256, user_id, label, created_at, expires_at).
pub fn token_from_columns(
    digest: Vec<u8>,
    user_id: &str,
    label: String,
    created_at: i64,
    expires_at: Option<i64>,
) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        token_sha256: digest
            .try_into()
            .map_err(|_| StoreError::Corrupt("api_tokens.token_sha256 is not 32 bytes".into()))?,
        user_id: parse_id("api_tokens.user_id", user_id)?,
        label,
        created_at: Timestamp::from_unix_micros(created_at),
        expires_at: expires_at.map(Timestamp::from_unix_micros),
    })
}

/// What an erased message, note or name reads as.
pub const ERASED: &str = "[erased]";

/// A person event as stored: a status change (by a seat, by staff) or a note.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredPersonEvent {
    pub seq: i64,
    pub person: PersonId,
    #[serde(flatten)]
    pub event: StatusEvent,
}

/// An audit event as stored, with its position in the trail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// What the store is asked to persist for one new request.
#[derive(Debug, Clone)]
pub struct RequestInsert {
    pub request: Request,
    pub has_minors: bool,
    pub idempotency: Option<IdempotencyClaim>,
    pub audit: AuditEvent,
    /// The requester is owed an acknowledgement (their reference, told back): stored with the
    /// request as a due mark, which `acks_due`/`settle_acks` turn into a message behind intake.
    pub acknowledge: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Committed durably.
    Inserted,
    /// The same key and body were seen before: here is the first answer; nothing new was stored.
    Replayed {
        id: RequestId,
        reference: ReferenceCode,
    },
    /// The same key came with another body.
    IdempotencyConflict,
    /// The random reference code is already taken; draw another and retry.
    ReferenceTaken,
}

/// A stored request with its people's current statuses.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub request: Request,
    pub statuses: Vec<(PersonId, PersonStatus)>,
}

/// A correction keeps every person the request had (by id, in their order; a person leaves a
/// party by a status, `withdrawn`, never by being cut from the body) and may add people after them.
pub fn keeps_every_person(
    seen: &evac_model::NewRequest,
    body: &evac_model::NewRequest,
) -> Result<(), StoreError> {
    let kept = body.party.len() >= seen.party.len()
        && seen
            .party
            .iter()
            .zip(&body.party)
            .all(|(a, b)| a.id == b.id);
    if kept {
        Ok(())
    } else {
        Err(StoreError::Refused(
            "a correction keeps every person of the request, in order (a person leaves by the status 'withdrawn')".into(),
        ))
    }
}

/// The refusal of a correction decided on a body another correction replaced meanwhile.
pub fn changed_meanwhile(id: &str) -> StoreError {
    StoreError::RequestMoved {
        request: id.to_string(),
    }
}

/// Filters of the request list; every field narrows, `None` means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFilter {
    /// Requests with at least one person in this status.
    pub status: Option<PersonStatus>,
    /// Matches the normalised Latin form of the location text (`Алматы` finds `Almaty`).
    pub place: Option<String>,
    /// Requests with a person named so: every word of it matches a word of a surname or given
    /// names by its cross-scheme key ([`query_name_keys`]), so any script and any common
    /// transliteration finds them (`Иванова` finds `Ivanova`, `Iwanow` and `Ivanov`). Looked up
    /// in an index: a name nobody has costs a lookup, not a scan.
    pub name: Option<String>,
    pub channel: Option<Channel>,
    /// Requests that gave this phone number (E.164), for the submitter or anyone in the party:
    /// the hotline's "already known?".
    pub phone: Option<String>,
    pub received_from: Option<Timestamp>,
    /// Exclusive upper bound.
    pub received_until: Option<Timestamp>,
    pub has_minors: Option<bool>,
    /// Requests a case officer holds (their user id).
    pub assignee: Option<String>,
    /// Requests whose location resolved to this gazetteer place (its GeoNames id): what the
    /// dashboard counts under a town.
    pub town: Option<u64>,
    /// Requests with someone of this citizenship.
    pub citizenship: Option<evac_model::CountryCode>,
    /// Requests with someone who has this need.
    pub need: Option<evac_model::Need>,
    /// Requests among these only: the app's answer to a question the store cannot ask itself,
    /// such as "in a household with other requests" (linkage's fold lives in the app).
    pub among: Option<std::sync::Arc<[RequestId]>>,
}

/// What the request list filters on beside the body: the citizenships and the needs of a
/// request's people, each as `,KZ,RU,` (sorted, each once; empty when nobody has one), so
/// "someone of it is" is `LIKE '%,KZ,%'`.
pub fn party_tags(body: &evac_model::NewRequest) -> (String, String) {
    let tags = |mut values: Vec<&str>| {
        values.sort_unstable();
        values.dedup();
        if values.is_empty() {
            String::new()
        } else {
            format!(",{},", values.join(","))
        }
    };
    let citizenships = body
        .party
        .iter()
        .filter_map(|p| p.citizenship.as_ref().map(|c| c.as_str()))
        .collect();
    let needs = body
        .party
        .iter()
        .flat_map(|p| p.needs.iter().map(|n| n.as_str()))
        .collect();
    (tags(citizenships), tags(needs))
}

/// The `LIKE` pattern of one tag of [`party_tags`] (tags are country codes and need names:
/// an underscore's "any one character" can only match itself there).
pub fn tag_pattern(tag: &str) -> String {
    format!("%,{},%", tag.replace(['%', ','], ""))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// For people reading lists.
    #[default]
    NewestFirst,
    /// For exports, which want a stable sequence.
    OldestFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Continue after this request (exclusive); `None` starts at the beginning.
    pub after: Option<RequestId>,
    pub limit: u32,
    pub order: ListOrder,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<StoredRequest>,
    /// Where the next page starts, if there is one.
    pub next: Option<RequestId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// PHC string (argon2id); never leaves the app layer.
    pub password_hash: String,
    pub created_at: Timestamp,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// SHA-256 of the secret: the secret itself is shown once and never stored.
    pub token_sha256: [u8; 32],
    pub user_id: UserId,
    pub label: String,
    pub created_at: Timestamp,
    /// When it stops working; `None`: when revoked.
    pub expires_at: Option<Timestamp>,
}

/// A change to an account. Disabling it or changing its password ends every session and
/// token it has, at once.
#[derive(Debug, Clone, PartialEq)]
pub enum UserChange {
    Disable,
    Enable,
    /// The new password's argon2 hash.
    Password(String),
}

impl UserChange {
    pub fn ends_sessions(&self) -> bool {
        !matches!(self, UserChange::Enable)
    }
}

/// What the desk's dashboard counts: people by status, requests by town and by hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DashboardCounts {
    pub by_status: Vec<(PersonStatus, u64)>,
    /// Requests per gazetteer place their location resolved to (GeoNames id), the
    /// `DASHBOARD_PLACES_MAX` with most, most first.
    pub by_place: Vec<(u64, u64)>,
    /// Requests per hour of receipt (hours since the epoch), the newest
    /// `DASHBOARD_HOURS_MAX` hours that have any, oldest first.
    pub by_hour: Vec<(i64, u64)>,
}

/// Hours of the dashboard's requests-per-hour chart.
pub const DASHBOARD_HOURS_MAX: u32 = 72;

/// Places listed (and drawn on the map) on the dashboard, most requests first.
pub const DASHBOARD_PLACES_MAX: u32 = 30;

/// Requests whose place is looked up per batch when a store from before places were kept is
/// caught up ([`Store::requests_without_place`]).
pub const PLACE_BACKFILL_BATCH: u32 = 1_000;

/// Counts for the health of intake, cheap enough for every dashboard load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntakeCounts {
    pub requests: u64,
    pub persons: u64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and `/readyz`.
    fn backend_name(&self) -> &'static str;

    /// The intake meter that the app counts stored requests into and background work consults.
    fn intake_load(&self) -> &IntakeLoad;

    /// Applies pending migrations; idempotent.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A round trip to the database, for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a request with its people, its idempotency key and its audit event in
    /// one transaction, and returns only once that transaction is durable.
    async fn insert_request(&self, insert: &RequestInsert) -> Result<InsertOutcome, StoreError>;

    async fn request(&self, id: RequestId) -> Result<Option<StoredRequest>, StoreError>;

    async fn request_by_reference(
        &self,
        reference: &ReferenceCode,
    ) -> Result<Option<StoredRequest>, StoreError>;

    async fn list_requests(
        &self,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Page, StoreError>;

    /// How many requests match `filter`, counted up to `cap` (a list says "more than 1,000"
    /// rather than count a million rows for every page).
    async fn count_requests(&self, filter: &RequestFilter, cap: u64) -> Result<u64, StoreError>;

    async fn intake_counts(&self) -> Result<IntakeCounts, StoreError>;

    /// Requests whose name keys are not in the search index yet: the backlog of a backend that
    /// keys names behind intake (SQLite's keyer). Name searches are exact either way; this says
    /// how far the index is behind. Zero where each request's keys are written with it.
    async fn unkeyed_requests(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// The request a person (party member) belongs to.
    async fn request_id_of_person(&self, person: PersonId)
    -> Result<Option<RequestId>, StoreError>;

    /// The stored request a person belongs to.
    async fn request_of_person(
        &self,
        person: PersonId,
    ) -> Result<Option<StoredRequest>, StoreError> {
        match self.request_id_of_person(person).await? {
            Some(id) => self.request(id).await,
            None => Ok(None),
        }
    }

    async fn insert_user(&self, user: &User, audit: AuditEvent) -> Result<(), StoreError>;

    async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError>;

    async fn insert_token(&self, token: &ApiToken, audit: AuditEvent) -> Result<(), StoreError>;

    /// The active user a token belongs to, if the token exists, has not expired at `now` and
    /// its user is not disabled.
    async fn user_by_token(
        &self,
        token_sha256: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<User>, StoreError>;

    /// Disables, enables or re-passwords the account named so, with its audit event, in one
    /// transaction; disabling and a new password delete its tokens (sessions included). An
    /// unknown name is [`StoreError::Missing`].
    async fn update_user(
        &self,
        name: &str,
        change: UserChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Appends events to the trail (reads of personal data, exports).
    async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<(), StoreError>;

    /// The trail from `after_seq` (exclusive), oldest first.
    async fn audit_trail(&self, after_seq: i64, limit: u32)
    -> Result<Vec<AuditRecord>, StoreError>;

    /// Seals up to `limit` of the oldest events not yet in the audit chain ([`audit_chain`]),
    /// one sealer at a time across nodes; how many it sealed.
    async fn seal_audit(&self, limit: u32) -> Result<u32, StoreError>;

    /// The chain's last link, if any event is sealed.
    async fn audit_chain_head(&self) -> Result<Option<audit_chain::ChainLink>, StoreError>;

    /// The chain's links after position `after_pos`, each with the event it names if that
    /// event still exists, in order.
    async fn audit_chain(
        &self,
        after_pos: i64,
        limit: u32,
    ) -> Result<Vec<audit_chain::ChainRow>, StoreError>;

    /// Events outside the chain: up to `limit` of those numbered at most `up_to_seq` (inside
    /// the sealed part: inserted afterwards), and how many come after it (not sealed yet).
    async fn audit_unsealed(
        &self,
        up_to_seq: i64,
        limit: u32,
    ) -> Result<(Vec<i64>, u64), StoreError>;

    /// Adds a hub or replaces the one with the same code.
    async fn upsert_hub(&self, hub: &Hub) -> Result<(), StoreError>;

    /// Every hub, by code.
    async fn hubs(&self) -> Result<Vec<Hub>, StoreError>;

    /// Adds a route or zone, or replaces the one with the same subject.
    async fn upsert_feature(&self, feature: &Feature, audit: AuditEvent) -> Result<(), StoreError>;

    /// Every route and zone, by subject.
    async fn features(&self) -> Result<Vec<Feature>, StoreError>;

    /// Stores a report with its statements and audit event in one transaction. A report whose
    /// `external_id` is already stored is not stored again: the answer is the stored one's id
    /// and `false`.
    async fn insert_report(
        &self,
        report: &Report,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<(ReportId, bool), StoreError>;

    async fn report(&self, id: ReportId) -> Result<Option<Report>, StoreError>;

    /// The newest reports first.
    async fn reports(&self, limit: u32) -> Result<Vec<Report>, StoreError>;

    /// Sets a report's grade and state; `false` when there is no such report.
    async fn update_report(
        &self,
        id: ReportId,
        grade: Option<Grade>,
        state: ReportState,
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Adds statements to a stored report; `false` when there is no such report.
    async fn add_statements(
        &self,
        report: ReportId,
        statements: &[Statement],
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Every statement with its report's source, grade, state and time, oldest first.
    async fn claims(&self) -> Result<Vec<Claim>, StoreError>;

    /// Adds a transport or replaces the one with the same id (a status change is a replace).
    async fn upsert_transport(
        &self,
        transport: &Transport,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Every transport, earliest departure first.
    async fn transports(&self) -> Result<Vec<Transport>, StoreError>;

    /// Stores a new version of the triage policy; the answer is its version number (1, 2, …).
    async fn insert_policy(
        &self,
        toml: &str,
        at: Timestamp,
        author: &Actor,
        audit: AuditEvent,
    ) -> Result<i64, StoreError>;

    /// A stored policy version, or the newest when `version` is `None`.
    async fn policy(&self, version: Option<i64>) -> Result<Option<StoredPolicy>, StoreError>;

    /// Every stored policy version, newest first, without its text.
    async fn policy_versions(&self) -> Result<Vec<StoredPolicy>, StoreError>;

    /// Appends link events (merges, review items, decisions, undos) and their audit events in
    /// one transaction, if `when` holds ([`StoreError::LogMoved`] otherwise). The linker
    /// proposes a pair (auto-merge or review) once: a proposal for a pair the log already has
    /// is skipped, so two relinks running together add each pair once. An event is undone at
    /// most once ([`StoreError::Refused`]). The answer is how many events were appended.
    async fn append_link_events(
        &self,
        events: Vec<LinkEvent>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
    ) -> Result<usize, StoreError>;

    /// The events of the link log about any of `persons` (as either side of the pair), oldest
    /// first: what a household's walk needs, read through the pair indexes instead of the
    /// whole log.
    async fn link_events_of(
        &self,
        persons: &[PersonId],
    ) -> Result<Vec<StoredLinkEvent>, StoreError>;

    /// The link log from `after_seq` (exclusive), oldest first.
    async fn link_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredLinkEvent>, StoreError>;

    /// Requests the online linker has not matched yet (every request is, when stored), oldest
    /// id first, at most `limit`.
    async fn links_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError>;

    /// How many requests wait for the online linker.
    async fn links_due_count(&self) -> Result<u64, StoreError>;

    /// Appends the link events the online linker found for `requests` (as
    /// [`Store::append_link_events`] with [`AppendIf::Always`]: a pair proposed already is
    /// skipped), keeps the keys of the people it matched (as [`Store::key_persons`]) and
    /// clears the requests' due marks, in one transaction, only if the `fence` admits it
    /// ([`StoreError::Refused`] otherwise, and nothing is kept). The linker read the requests
    /// after generation `read_at` of the kept keys ([`LINK_KEYS_GENERATION`]): what it made
    /// from a request forgotten since is left out ([`leave_out_forgotten`]). The answer is how
    /// many events were appended.
    async fn settle_links(
        &self,
        events: Vec<LinkEvent>,
        keyed: Vec<KeyedPerson>,
        requests: Vec<RequestId>,
        fence: LeaseFence,
        read_at: i64,
    ) -> Result<usize, StoreError>;

    /// Keeps the keys of people not kept yet (a person's keys are written once: a person
    /// kept already is skipped, so two relinks, or a relink and the online linker, may offer
    /// the same people), made from requests read after generation `read_at` of the kept keys:
    /// the people of a request forgotten since are skipped ([`LINK_KEYS_GENERATION`]). The
    /// answer is how many people were new.
    async fn key_persons(&self, keyed: Vec<KeyedPerson>, read_at: i64)
    -> Result<usize, StoreError>;

    /// The first half of keeping many people at once (a relink keying a whole store): keeps
    /// the people not kept yet with their keys beside them, but not yet under their keys
    /// (`read_at` as for [`Store::key_persons`]). The answer is each new person's number, in
    /// order (`None`: kept already, or of a request forgotten since), for
    /// [`Store::index_link_keys`]. Until then the people are kept but no key finds them: only
    /// a relink that forgot every key (so a crash leaves no model, and the next start relinks
    /// again) may split the two.
    async fn keep_link_people(
        &self,
        keyed: Vec<KeyedPerson>,
        read_at: i64,
    ) -> Result<Vec<Option<i64>>, StoreError>;

    /// The second half: each key with the number of its person, best in key order (a key's
    /// rows then land on pages already written, not on a random page each).
    async fn index_link_keys(&self, rows: Vec<(u64, i64)>) -> Result<(), StoreError>;

    /// A relink's proposals (automatic merges, review items; a pair logged already is
    /// skipped), made from requests read at generation `read_at` of the kept keys
    /// ([`LINK_KEYS_GENERATION`]): those about anyone of a request forgotten since (corrected,
    /// or its contacts erased) are left out in the transaction that appends the rest, so no
    /// correction slips between the question and the append. The answer is how many were
    /// appended.
    async fn append_relinked_pairs(
        &self,
        events: Vec<LinkEvent>,
        read_at: i64,
    ) -> Result<usize, StoreError>;

    /// Which of `persons` have their keys kept.
    async fn keyed_persons(&self, persons: &[PersonId]) -> Result<Vec<PersonId>, StoreError>;

    /// How many people have their keys kept.
    async fn keyed_person_count(&self) -> Result<u64, StoreError>;

    /// Which of `requests` have a person whose keys are not kept (the rest need no matching:
    /// a relink, or this linker before, matched and kept all their people).
    async fn requests_with_unkeyed_persons(
        &self,
        requests: &[RequestId],
    ) -> Result<Vec<RequestId>, StoreError>;

    /// The people kept under each of `keys`, at most `per_key_max` a key (a block that reaches
    /// it is too common to compare, so more are never needed).
    async fn link_postings(
        &self,
        keys: &[u64],
        per_key_max: u32,
    ) -> Result<Vec<Posting>, StoreError>;

    /// The kept linkage model, if a relink saved one.
    async fn link_model(&self) -> Result<Option<StoredLinkModel>, StoreError>;

    /// Keeps the linkage model (replacing the one kept).
    async fn save_link_model(&self, model: StoredLinkModel) -> Result<(), StoreError>;

    /// Forgets every kept key and the model: keys are made differently now, and a relink
    /// makes them again.
    async fn forget_link_keys(&self) -> Result<(), StoreError>;

    /// Takes the lease `name` for `holder` until `until`, or renews it, if it is free, held by
    /// `holder`, or ran out before `now`. The answer is whether `holder` holds it now.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Who holds the lease `name`, and until when (the lease may have run out).
    async fn lease(&self, name: &str) -> Result<Option<(String, Timestamp)>, StoreError>;

    /// Gives the lease up if `holder` holds it (a node stopping), so another takes it at once.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// The generation of a kept view (0 before its first change).
    async fn generation(&self, name: &str) -> Result<i64, StoreError>;

    /// Moves a kept view's generation on: every node's copy is stale from now.
    async fn bump_generation(&self, name: &str) -> Result<(), StoreError>;

    /// Appends seat events with their audit events in one transaction, if `when` holds
    /// ([`StoreError::LogMoved`] otherwise); each moves its person's status and writes a person
    /// event. A second `checked_in` or `boarded` for the same pass is
    /// [`StoreError::Conflict`]. The store keeps the live seats itself and refuses
    /// ([`StoreError::Refused`]) a `seated` for a person who holds a seat, a `seated` beyond
    /// the transport's seats, and a release or scan of a pass that is not the person's live
    /// seat in the state it needs; nothing of a refused call is kept. Events apply in order,
    /// so a move is its `unseated` before its `seated`.
    async fn append_seat_events(
        &self,
        events: Vec<SeatEvent>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
    ) -> Result<(), StoreError> {
        self.append_seat_events_telling(events, Vec::new(), audit, when, Vec::new())
            .await
    }

    /// As [`Store::append_seat_events`], with the person status changes that go with the
    /// seats (a released no-show marked unreachable until they re-confirm) and queuing the
    /// notices that tell people of the change, in the same transaction (a seat, its status
    /// and its notice are stored together or not at all; a notice whose dedup key is stored
    /// already is skipped).
    async fn append_seat_events_telling(
        &self,
        events: Vec<SeatEvent>,
        status_changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
        when: AppendIf,
        notices: Vec<NewMessage>,
    ) -> Result<(), StoreError>;

    /// The seat log from `after_seq` (exclusive), oldest first, at most `limit` events.
    async fn seat_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredSeatEvent>, StoreError>;

    /// Every staff account, by name.
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// Counts for the desk's dashboard.
    async fn dashboard_counts(&self) -> Result<DashboardCounts, StoreError>;

    /// Requests whose place was never looked up (stored before places were kept), at most
    /// `limit`, with their locations.
    async fn requests_without_place(
        &self,
        limit: u32,
    ) -> Result<Vec<(RequestId, evac_model::Location)>, StoreError>;

    /// Records the places looked up for requests (0: the location reads as no known place),
    /// each only if its place is still unset; the dashboard's place counts follow.
    async fn set_request_places(&self, places: &[(RequestId, u64)]) -> Result<(), StoreError>;

    /// An account's tokens and sessions that still work at `now`, newest first.
    async fn tokens_of(&self, user: UserId, now: Timestamp) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token (a session's on logout); revoking an unknown token is no error.
    async fn delete_token(
        &self,
        token_sha256: &[u8; 32],
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// One person's seat events, oldest first.
    async fn seat_events_of(&self, person: PersonId) -> Result<Vec<StoredSeatEvent>, StoreError>;

    /// Records that a request's household is present at a hub, with the status changes that
    /// go with it (a no-show seen at the hub is back in line) and its audit event, in one
    /// transaction. An unknown request is [`StoreError::Missing`], a change whose person is no
    /// longer in its `expected` status [`StoreError::Refused`], and nothing of the call is
    /// kept; seen twice, it keeps both.
    async fn record_presence(
        &self,
        presence: Presence,
        changes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The presences recorded at `hub` at or after `since`, oldest first.
    async fn presences_at(&self, hub: &str, since: Timestamp) -> Result<Vec<Presence>, StoreError>;

    /// Records staff changes and notes with their audit events in one transaction: each is a
    /// person event (from the current status to the new one, or to the same for a note) and a
    /// change moves the person's status. An unknown person is [`StoreError::Missing`], a
    /// person no longer in the change's `expected` status [`StoreError::Refused`], and nothing
    /// of the call is kept.
    async fn change_persons(
        &self,
        changes: Vec<PersonChange>,
        audit: Vec<AuditEvent>,
    ) -> Result<(), StoreError>;

    /// Replaces a request's body with a corrected one (its location, situation, urgency,
    /// contacts, or its people's names, birth dates, documents and needs), re-deriving what is
    /// stored beside the body (location and name search columns, name keys, whether it has
    /// minors, its party's size), with a note on each of its people saying why and the audit
    /// event, in one transaction. People of `body` the request did not have are registered
    /// (added to the party); every person of `seen` must stay ([`keeps_every_person`]). The
    /// people's kept link keys are forgotten and the request is due for linking again, so the
    /// linker matches and keys them as they read now.
    ///
    /// The correction was decided on `seen`: if the stored body is no longer `seen` (another
    /// correction came first), nothing is kept and the answer is [`StoreError::Refused`]
    /// ([`changed_meanwhile`]), so two corrections at once never silently undo each other. An
    /// unknown request is [`StoreError::Missing`].
    async fn correct_request(
        &self,
        id: RequestId,
        seen: &evac_model::NewRequest,
        body: &evac_model::NewRequest,
        has_minors: bool,
        notes: Vec<PersonChange>,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The events of a request's people, oldest first (registration is the request itself).
    async fn person_events_of_request(
        &self,
        request: RequestId,
    ) -> Result<Vec<StoredPersonEvent>, StoreError>;

    /// Ends the leases `node` holds on `channel`'s messages at `due_at`, after which they are
    /// due before the rest of their priority (they were due first): a node restarting after a
    /// crash takes back what it held without waiting for the leases (node names must be
    /// unique among running nodes). Until `due_at` a channel's delivery report may still
    /// settle a message whose send was cut by the crash. The answer is how many.
    async fn release_claims(
        &self,
        channel: &str,
        node: &str,
        due_at: Timestamp,
    ) -> Result<usize, StoreError>;

    /// Requests owed an acknowledgement, oldest first, at most `limit`.
    async fn acks_due(&self, limit: u32) -> Result<Vec<RequestId>, StoreError>;

    /// Queues the acknowledgements and clears the requests' due marks in one transaction (two
    /// nodes settling the same requests queue each message once: dedup keys).
    async fn settle_acks(
        &self,
        messages: Vec<NewMessage>,
        requests: Vec<RequestId>,
    ) -> Result<usize, StoreError>;

    /// Queues messages with their audit events in one transaction; a message whose dedup key
    /// is stored already is skipped. The answer is how many were queued.
    async fn enqueue_messages(
        &self,
        messages: Vec<NewMessage>,
        audit: Vec<AuditEvent>,
    ) -> Result<usize, StoreError>;

    /// Takes up to `limit` messages of `channel` that are due (queued with `next_at <= now`, or
    /// held by a sender whose lease ended) for `node` until `lease_until`, highest priority
    /// and oldest first; each is `sending` and counts an attempt. Two nodes claiming at once
    /// never get the same message.
    async fn claim_messages(
        &self,
        channel: &str,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    /// Records how `node`'s send of a message ended, if `node` still holds it (`false`
    /// otherwise: its lease ended and the message is someone else's now). Accepted, the
    /// message's people who hold an assigned seat become notified, with a person event.
    async fn finish_message(
        &self,
        id: MessageId,
        node: &str,
        at: Timestamp,
        outcome: SendOutcome,
    ) -> Result<bool, StoreError>;

    /// A channel's report of a message: taken by the network, delivered or undelivered. A
    /// report for a message still held by a sender (or by one that died) settles it: the
    /// channel did take it, so it is not sent again. `false` for an unknown id.
    async fn record_delivery(
        &self,
        id: MessageId,
        at: Timestamp,
        report: DeliveryReport,
        detail: &str,
    ) -> Result<bool, StoreError>;

    /// Messages, newest first, at most `limit`.
    async fn messages(
        &self,
        filter: &MessageFilter,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    /// How many messages are in each state.
    async fn message_counts(&self) -> Result<Vec<(MessageState, u64)>, StoreError>;

    /// Stores an inbound message with its audit event; one whose channel and provider id are
    /// stored already is not stored again (`false`).
    async fn store_inbound(
        &self,
        message: NewInbound,
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Inbound messages in one of `states` (all when empty), newest first, at most `limit`.
    async fn inbound(
        &self,
        states: &[&str],
        request: Option<RequestId>,
        limit: u32,
    ) -> Result<Vec<StoredInbound>, StoreError>;

    /// A human's handling of an inbound message: attached to a request (or not), a new state.
    async fn handle_inbound(
        &self,
        id: InboundId,
        request: Option<RequestId>,
        state: &str,
        by: &Actor,
        at: Timestamp,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Inbound messages waiting for a human ([`INBOX_WAITING_STATES`]), and the oldest.
    async fn inbox_waiting(&self) -> Result<InboxWaiting, StoreError>;

    /// Links a messenger chat to the phone its person shared (again: the newer link wins),
    /// with its audit event.
    async fn link_chat(&self, chat: MessengerChat, audit: AuditEvent) -> Result<(), StoreError>;

    /// The phone a chat was linked to, if it was.
    async fn chat_phone(&self, channel: &str, chat: &str) -> Result<Option<String>, StoreError>;

    /// The chats linked to any of `phones` on `channel`, newest link first.
    async fn chats_of_phones(
        &self,
        channel: &str,
        phones: &[String],
    ) -> Result<Vec<MessengerChat>, StoreError>;

    /// Logs a call and moves its request in the callback queue, with the audit event, in one
    /// transaction. A scheduled callback is released from whoever held it.
    async fn log_call(
        &self,
        call: Call,
        callback: CallbackChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// A request's calls, oldest first.
    async fn calls_of_request(&self, request: RequestId) -> Result<Vec<Call>, StoreError>;

    /// Queues callbacks for requests not queued yet (one already queued keeps its time). The
    /// answer is how many were queued.
    async fn queue_callbacks(
        &self,
        callbacks: Vec<(RequestId, Timestamp, String)>,
    ) -> Result<usize, StoreError>;

    /// Takes requests out of the callback queue (their household was reached through another
    /// of its requests). The answer is how many were queued.
    async fn settle_callbacks(&self, requests: Vec<RequestId>) -> Result<usize, StoreError>;

    /// The callback queue, soonest due first, at most `limit`.
    async fn callbacks(&self, limit: u32) -> Result<Vec<Callback>, StoreError>;

    /// A request's place in the callback queue, if it has one.
    async fn callback_of(&self, request: RequestId) -> Result<Option<Callback>, StoreError>;

    /// Gives `operator` the soonest callback due at `now` that nobody else holds, until
    /// `lease_until` (one they hold already comes back to them). Two operators taking at once
    /// never get the same request.
    async fn take_callback(
        &self,
        operator: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Callback>, StoreError>;

    /// Gives the requests of `change` to its officer (or nobody), with the audit event, in
    /// one transaction, if each still has the holder the change expects; otherwise nothing
    /// changes and the answer is [`StoreError::Refused`] naming the request and its holder.
    async fn assign_requests(
        &self,
        change: AssignmentChange,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The holders of those of `requests` that have one.
    async fn assignments_of(&self, requests: &[RequestId]) -> Result<Vec<Assignment>, StoreError>;

    /// The requests `officer` holds, most recently assigned first, at most `limit`.
    async fn assigned_to(&self, officer: &str, limit: u32) -> Result<Vec<RequestId>, StoreError>;

    /// The boarding-pass secret that evac kept in the database before key files, if it is
    /// still there; with `forget`, it is deleted (once it is safe in a key file).
    async fn legacy_signing_secret(&self, forget: bool) -> Result<Option<[u8; 32]>, StoreError>;

    /// The public halves (base64url) of the pass keys in use, oldest first.
    async fn pass_public_keys(&self) -> Result<Vec<String>, StoreError>;

    /// Records a pass key's public half; with `only_if_none`, only while none is recorded (of
    /// two nodes starting on an empty database, one key wins). Whether it is recorded now.
    async fn register_pass_key(
        &self,
        public_key: &str,
        at: Timestamp,
        only_if_none: bool,
    ) -> Result<bool, StoreError>;

    /// Forgets a retired pass key's public half.
    async fn unregister_pass_key(&self, public_key: &str) -> Result<(), StoreError>;

    /// Erases what the messaging and the hotline kept of these addresses (phones in E.164,
    /// e-mail addresses) for one request: message texts and addresses, calls' numbers and
    /// notes, messenger chats linked to the phones; messages not sent yet are given up. The
    /// rows stay (counts intact). The request's people's kept link keys go too (a phone's key
    /// is a hash anyone can recompute), and the request is due for linking again, so the
    /// linker keys it as it reads now (as after any correction, [`Store::correct_request`]).
    /// How many rows were erased.
    async fn erase_contacts(
        &self,
        request: RequestId,
        addresses: &[String],
    ) -> Result<u64, StoreError>;

    /// Where this database was copied from and when, if it is an exercise copy.
    async fn exercise(&self) -> Result<Option<(String, Timestamp)>, StoreError>;

    /// Marks this database an exercise copy of `copied_from` (once; later marks keep the
    /// first), and forgets the live pass keys' public halves: the copy signs with a key of
    /// its own, so no pass from a drill opens a real gate.
    async fn mark_exercise(&self, copied_from: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Records a failed sign-in at `at` under each of `keys` (an account, an address), and
    /// forgets every failure before `forget_before`: what every node's lock-out counts.
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError>;

    /// The newest failed sign-ins under `key`, newest first, at most `limit`.
    async fn login_failures(&self, key: &str, limit: u32) -> Result<Vec<Timestamp>, StoreError>;

    /// Forgets the failed sign-ins under `key` (its account signed in).
    async fn forget_login_failures(&self, key: &str) -> Result<(), StoreError>;
}

/// A link event from its stored columns.
#[allow(clippy::too_many_arguments)]
pub fn link_event_from_columns(
    seq: i64,
    at: i64,
    actor: &str,
    kind: &str,
    person_a: &str,
    person_b: &str,
    match_probability: f64,
    explanation: String,
    refers_to: Option<i64>,
) -> Result<StoredLinkEvent, StoreError> {
    Ok(StoredLinkEvent {
        seq,
        event: LinkEvent {
            at: Timestamp::from_unix_micros(at),
            actor: actor_from_label(actor)?,
            kind: LinkEventKind::parse(kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown link event kind '{kind}'")))?,
            person_a: parse_id("link_events.person_a", person_a)?,
            person_b: parse_id("link_events.person_b", person_b)?,
            match_probability,
            explanation,
            refers_to,
        },
    })
}

/// An audit record from its stored columns (seq, at, actor, action, subject, detail as JSON text).
pub fn audit_record_from_columns(
    seq: i64,
    at: i64,
    actor: &str,
    action: String,
    subject: Option<String>,
    detail: &str,
) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq,
        event: AuditEvent {
            at: Timestamp::from_unix_micros(at),
            actor: actor_from_label(actor)?,
            action,
            subject,
            detail: serde_json::from_str(detail)
                .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
        },
    })
}

/// A hub from its stored columns (code, kind, name, country, municipality, lat, lon, iata, icao).
#[allow(
    clippy::too_many_arguments,
    reason = "one argument per column keeps both backends' row mapping one call"
)]
pub fn hub_from_columns(
    code: String,
    kind: &str,
    name: String,
    country: &str,
    municipality: Option<String>,
    lat: f64,
    lon: f64,
    iata: Option<String>,
    icao: Option<String>,
) -> Result<Hub, StoreError> {
    Ok(Hub {
        kind: evac_model::HubKind::parse(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("hub {code}: kind '{kind}'")))?,
        country: country
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("hub {code}: country '{country}'")))?,
        code,
        name,
        municipality,
        lat,
        lon,
        iata,
        icao,
    })
}

/// A transport from its stored JSON body.
pub fn transport_from_body(id: &str, body: &str) -> Result<Transport, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("transport {id}: {e}")))
}

/// A transport's stored JSON body.
pub fn transport_body(transport: &Transport) -> Result<String, StoreError> {
    serde_json::to_string(transport).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The bytes of a 32-byte digest column, checked.
pub fn digest_from_bytes(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("a digest has {} bytes, not 32", bytes.len())))
}

/// Parses an id column, naming the column if the stored text is not a UUID.
pub fn parse_id<T: std::str::FromStr>(column: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} '{text}' is not a UUID")))
}

/// The JSON document of a stored request body.
pub fn request_from_columns(
    id: &str,
    reference: &str,
    received_at: i64,
    body_json: &str,
) -> Result<Request, StoreError> {
    Ok(Request {
        id: parse_id("requests.id", id)?,
        reference: reference
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("requests.reference '{reference}': {e}")))?,
        received_at: Timestamp::from_unix_micros(received_at),
        body: serde_json::from_str(body_json)
            .map_err(|e| StoreError::Corrupt(format!("requests.body of {id}: {e}")))?,
    })
}

/// The search keys a request is found by: every token of every party member's surname and
/// given names ([`evac_model::name_search_keys`]) and every phone number of the request
/// ([`phone_search_key`]), sorted, each once. A name search and a phone lookup are one lookup.
pub fn request_search_keys(body: &evac_model::NewRequest) -> Vec<String> {
    search_keys_of(
        body.party
            .iter()
            .flat_map(|p| [&p.surname, &p.given_names])
            .flatten()
            .map(|name| name.as_written.as_str()),
        body.phones().map(|p| p.e164.as_str()),
    )
}

/// The keys of these names as written and these E.164 numbers, sorted, each once.
pub fn search_keys_of<'a>(
    names: impl Iterator<Item = &'a str>,
    phones: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut keys: Vec<String> = names
        .flat_map(evac_model::name_search_keys)
        .chain(phones.map(phone_search_key))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The search key of a phone number (E.164): `tel` and its digits. Name keys never hold a
/// digit, so the two kinds cannot meet.
pub fn phone_search_key(e164: &str) -> String {
    format!("tel{}", e164.trim_start_matches('+'))
}

/// The keys a name search looks up, each once: a request matches when it has all of them.
pub fn query_name_keys(query: &str) -> Vec<String> {
    let mut keys: Vec<String> = evac_model::name_search_keys(query).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Background work gives way to intake: nice 19 for the calling thread.
pub fn lower_this_threads_priority() {
    set_this_threads_nice(19);
}

/// A new file only its owner may read (0600 on Unix): databases, backups, key files, exports
/// and manifests hold personal data or secrets. With `replace`, an existing file is truncated
/// and narrowed to 0600 too (it keeps its mode through `create`); without, it must not exist.
pub fn private_file(path: &std::path::Path, replace: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    if replace {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Sets the calling thread's nice value (Linux gives each thread its own, and a thread it
/// creates inherits it). Raising it is always allowed; a thread that may not change it keeps
/// doing its work at the priority it has, and elsewhere than Linux nothing changes.
pub fn set_this_threads_nice(nice: i32) {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice);
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The calling thread's nice value, where the system says (Linux).
pub fn this_threads_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    return rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok();
    #[cfg(not(target_os = "linux"))]
    None
}

pub fn actor_from_label(label: &str) -> Result<Actor, StoreError> {
    match label {
        "public" => Ok(Actor::Public),
        "system" => Ok(Actor::System),
        other => match other.strip_prefix("user:") {
            Some(id) => Ok(Actor::User(parse_id("actor", id)?)),
            None => Err(StoreError::Corrupt(format!("unknown actor '{other}'"))),
        },
    }
}

pub fn role_from_text(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role '{text}'")))
}

pub fn status_from_text(text: &str) -> Result<PersonStatus, StoreError> {
    PersonStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown person status '{text}'")))
}

/// The columns both backends read a person event from, in this order.
pub const PERSON_EVENT_COLUMNS: &str =
    "e.seq, e.person_id, e.at, e.actor, e.from_status, e.to_status, e.reason";

/// A person event from its stored columns ([`PERSON_EVENT_COLUMNS`]).
pub fn person_event_from_columns(
    seq: i64,
    person: &str,
    at: i64,
    actor: &str,
    from: Option<&str>,
    to: &str,
    reason: String,
) -> Result<StoredPersonEvent, StoreError> {
    Ok(StoredPersonEvent {
        seq,
        person: parse_id("person_events.person_id", person)?,
        event: StatusEvent {
            at: Timestamp::from_unix_micros(at),
            actor: actor_from_label(actor)?,
            from: from.map(status_from_text).transpose()?,
            to: status_from_text(to)?,
            reason,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI relies on both: a runtime thread may lower its own priority, and a thread it
    /// creates inherits it (which is why the store's threads are created by the main thread).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_threads_nice_value_is_its_own_and_its_children_inherit_it() {
        let before = this_threads_nice().expect("Linux reports a thread's nice value");
        let (own, child) = std::thread::spawn(move || {
            set_this_threads_nice(before + 3);
            let child = std::thread::spawn(this_threads_nice).join().unwrap();
            (this_threads_nice(), child)
        })
        .join()
        .unwrap();
        assert_eq!(own, Some(before + 3));
        assert_eq!(child, Some(before + 3));
        assert_eq!(
            this_threads_nice(),
            Some(before),
            "the test thread keeps its own"
        );
    }
}
