//! SQL and row mapping for SQLite. Every function runs on a connection it is given; the
//! transaction (or read snapshot) around it belongs to the caller in `lib.rs`.

use evac_model::{PersonStatus, RequestId, Timestamp};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use crate::backend;
use crate::batch::WriteBatch;

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// The rule a trigger refused a write by (`RAISE(ABORT, 'rule')`), if that is what failed.
pub(crate) fn trigger_refusal(e: &rusqlite::Error) -> Option<&str> {
    match e {
        rusqlite::Error::SqliteFailure(f, Some(message))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER =>
        {
            Some(message)
        }
        _ => None,
    }
}

/// A request flattened into column values. Built on the caller's task, so the single writer
/// thread only binds and steps statements (serialising JSON there would serialise all intake).
pub(crate) struct RequestRow {
    id: String,
    reference: String,
    received_at: i64,
    channel: &'static str,
    location_latin: String,
    country: Option<String>,
    place_id: Option<i64>,
    has_minors: bool,
    party_size: i64,
    citizenships: String,
    needs: String,
    body: String,
    persons: Vec<PersonRow>,
    idempotency: Option<IdempotencyClaim>,
    audit: AuditRow,
    acknowledge: bool,
    /// Whether the request waits for the online linker (always, but in tests of migrations
    /// older than the due marks).
    link_due: bool,
    /// Whether the schema has the party tags (always, but in tests of older migrations).
    tagged: bool,
}

pub(crate) struct PersonRow {
    id: String,
    surname_latin: Option<String>,
    given_latin: Option<String>,
    birth_date: Option<String>,
}

/// An audit event flattened into column values.
pub(crate) struct AuditRow {
    at: i64,
    actor: String,
    action: String,
    subject: Option<String>,
    detail: String,
}

impl From<&AuditEvent> for AuditRow {
    fn from(e: &AuditEvent) -> Self {
        AuditRow {
            at: e.at.unix_micros(),
            actor: e.actor.label(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            detail: e.detail.to_string(),
        }
    }
}

impl RequestRow {
    /// As a store older than the linker's due marks (migration 0023) wrote it: for tests that
    /// build such a store with today's insert.
    #[cfg(test)]
    pub(crate) fn without_link_due(mut self) -> Self {
        self.link_due = false;
        self.without_party_tags()
    }

    /// A row for a schema before the party tags (migration 25), which had a case per request
    /// (until migration 32).
    #[cfg(test)]
    pub(crate) fn without_party_tags(mut self) -> Self {
        self.tagged = false;
        self
    }

    pub(crate) fn new(insert: &RequestInsert) -> Result<Self, StoreError> {
        let r = &insert.request;
        let (citizenships, needs) = evac_store::party_tags(&r.body);
        Ok(RequestRow {
            id: r.id.to_string(),
            reference: r.reference.compact().to_string(),
            received_at: r.received_at.unix_micros(),
            channel: r.body.channel.as_str(),
            location_latin: evac_model::to_icao_latin(&r.body.location.text),
            country: r.body.location.country.map(|c| c.to_string()),
            // Read at intake: 0 is "no known place", NULL is "never read" (catch_up_places).
            place_id: Some(r.body.location.place_id.unwrap_or(0) as i64),
            has_minors: insert.has_minors,
            party_size: r.body.party.len() as i64,
            citizenships,
            needs,
            body: serde_json::to_string(&r.body).map_err(|e| StoreError::Backend(e.to_string()))?,
            persons: person_columns(&r.body),
            idempotency: insert.idempotency.clone(),
            audit: AuditRow::from(&insert.audit),
            acknowledge: insert.acknowledge,
            link_due: true,
            tagged: true,
        })
    }
}

pub(crate) fn insert_request(c: &WriteBatch, r: &RequestRow) -> Result<InsertOutcome, StoreError> {
    if let Some(claim) = &r.idempotency {
        let seen: Option<(Vec<u8>, String, String)> = c
            .prepare_cached(
                "SELECT k.body_sha256, q.id, q.reference FROM idempotency_keys k JOIN requests q ON q.id = k.request_id WHERE k.key = ?1",
            )
            .and_then(|mut s| s.query_row([&claim.key], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).optional())
            .map_err(backend)?;
        if let Some((digest, first_id, first_reference)) = seen {
            if digest_from_bytes(&digest)? != claim.body_sha256 {
                return Ok(InsertOutcome::IdempotencyConflict);
            }
            return Ok(InsertOutcome::Replayed {
                id: parse_id("requests.id", &first_id)?,
                reference: first_reference
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("requests.reference: {e}")))?,
            });
        }
    }

    // Rows for the schemas of older migrations' tests have no party tags, and a case (named
    // by the request's id) per request.
    let sql = if r.tagged {
        "INSERT INTO requests (id, reference, received_at, channel, location_latin, country, place_id, has_minors, party_size, body, citizenships, needs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    } else {
        c.execute(
            "INSERT INTO cases (id, created_at) VALUES (?1, ?2)",
            params![r.id, r.received_at],
        )
        .map_err(backend)?;
        "INSERT INTO requests (id, reference, received_at, channel, case_id, location_latin, country, place_id, has_minors, party_size, body)
         VALUES (?1, ?2, ?3, ?4, ?1, ?5, ?6, ?7, ?8, ?9, ?10)"
    };
    let inserted = c.prepare_cached(sql).and_then(|mut s| {
        let columns = params![
            r.id,
            r.reference,
            r.received_at,
            r.channel,
            r.location_latin,
            r.country,
            r.place_id,
            r.has_minors,
            r.party_size,
            r.body,
            r.citizenships,
            r.needs,
        ];
        s.execute(&columns[..if r.tagged { 12 } else { 10 }])
    });
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Ok(InsertOutcome::ReferenceTaken),
        Err(e) => return Err(backend(e)),
    }

    let mut person = c
        .prepare_cached(if r.tagged {
            "INSERT INTO persons (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        } else {
            "INSERT INTO persons (id, request_id, case_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        })
        .map_err(backend)?;
    for (ordinal, p) in r.persons.iter().enumerate() {
        person
            .execute(params![
                p.id,
                r.id,
                ordinal as i64,
                p.surname_latin,
                p.given_latin,
                p.birth_date,
                PersonStatus::Registered.as_str(),
                r.received_at,
            ])
            .map_err(backend)?;
    }
    // Its name keys are written behind intake (the name_keys module).
    if let Some(claim) = &r.idempotency {
        c.prepare_cached("INSERT INTO idempotency_keys (key, body_sha256, request_id, created_at) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![claim.key, claim.body_sha256.as_slice(), r.id, r.received_at]))
            .map_err(backend)?;
    }
    insert_audit(c, &r.audit)?;
    if r.acknowledge {
        c.prepare_cached("INSERT INTO acks_due (request_id) VALUES (?1)")
            .and_then(|mut s| s.execute([&r.id]))
            .map_err(backend)?;
    }
    // Every request waits for the online linker (whichever node holds its lease).
    if r.link_due {
        c.prepare_cached("INSERT INTO links_due (request_id) VALUES (?1)")
            .and_then(|mut s| s.execute([&r.id]))
            .map_err(backend)?;
    }
    c.count_request(r.place_id, r.received_at, r.persons.len());
    Ok(InsertOutcome::Inserted)
}

/// What the persons table keeps beside a request's body, per party member.
pub(crate) fn person_columns(body: &evac_model::NewRequest) -> Vec<PersonRow> {
    body.party
        .iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            surname_latin: p.surname.as_ref().map(|n| n.latin.clone()),
            given_latin: p.given_names.as_ref().map(|n| n.latin.clone()),
            birth_date: match p.birth {
                Some(evac_model::Birth::Date(d)) => Some(d.to_string()),
                _ => None,
            },
        })
        .collect()
}

/// Re-derives the person columns and the name keys of a corrected request, registering (at
/// `registered_at`, µs) the people the correction added. The answer is how many it added.
pub(crate) fn rewrite_people(
    c: &Connection,
    request_id: &str,
    people: &[PersonRow],
    name_keys: &[String],
    registered_at: i64,
) -> Result<usize, StoreError> {
    let mut update = c
        .prepare_cached(
            "UPDATE persons SET surname_latin = ?1, given_latin = ?2, birth_date = ?3
             WHERE id = ?4 AND request_id = ?5",
        )
        .map_err(backend)?;
    let mut added = 0;
    for (ordinal, p) in people.iter().enumerate() {
        let updated = update
            .execute(params![
                p.surname_latin,
                p.given_latin,
                p.birth_date,
                p.id,
                request_id
            ])
            .map_err(backend)?;
        if updated == 0 {
            c.prepare_cached(
                "INSERT INTO persons (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
                 SELECT ?1, id, ?2, ?3, ?4, ?5, ?6, ?7 FROM requests WHERE id = ?8",
            )
            .and_then(|mut s| {
                s.execute(params![
                    p.id,
                    ordinal as i64,
                    p.surname_latin,
                    p.given_latin,
                    p.birth_date,
                    PersonStatus::Registered.as_str(),
                    registered_at,
                    request_id
                ])
            })
            .map_err(backend)?;
            added += 1;
        }
    }
    let rowid: i64 = c
        .prepare_cached("SELECT rowid FROM requests WHERE id = ?1")
        .and_then(|mut s| s.query_row([request_id], |r| r.get(0)))
        .map_err(backend)?;
    crate::name_keys::replace_name_keys(c, [(rowid, name_keys)])?;
    Ok(added)
}

fn statuses(
    c: &Connection,
    request_id: &str,
) -> Result<Vec<(evac_model::PersonId, PersonStatus)>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT id, status FROM persons WHERE request_id = ?1 ORDER BY ordinal")
        .map_err(backend)?;
    let mut rows = s.query([request_id]).map_err(backend)?;
    let mut statuses = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        statuses.push((
            parse_id("persons.id", text(row, 0)?)?,
            status_from_text(text(row, 1)?)?,
        ));
    }
    Ok(statuses)
}

const REQUEST_COLUMNS: &str = "id, reference, received_at, body";

/// A text column read in place (no copy): exports read millions of bodies.
pub(crate) fn text<'r>(row: &'r rusqlite::Row<'_>, column: usize) -> Result<&'r str, StoreError> {
    row.get_ref(column)
        .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
        .map_err(backend)
}

fn request_from_row(row: &rusqlite::Row<'_>) -> Result<evac_model::Request, StoreError> {
    let received_at: i64 = row.get(2).map_err(backend)?;
    request_from_columns(text(row, 0)?, text(row, 1)?, received_at, text(row, 3)?)
}

fn stored_from_row(c: &Connection, row: &rusqlite::Row<'_>) -> Result<StoredRequest, StoreError> {
    let request = request_from_row(row)?;
    Ok(StoredRequest {
        statuses: statuses(c, &request.id.to_string())?,
        request,
    })
}

/// The people's statuses of a whole page in one query. `contiguous` pages (every request between
/// the first and last id) are read as one range of the persons index, which is sequential;
/// others by their ids (a sparse page's range could span the whole table).
fn with_statuses(
    c: &Connection,
    requests: Vec<evac_model::Request>,
    contiguous: bool,
) -> Result<Vec<StoredRequest>, StoreError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = requests.iter().map(|r| r.id.to_string()).collect();
    let mut statement;
    let mut rows = if contiguous {
        let low = ids.iter().min().expect("non-empty");
        let high = ids.iter().max().expect("non-empty");
        statement = c
            .prepare_cached(
                "SELECT request_id, id, status FROM persons WHERE request_id BETWEEN ?1 AND ?2 ORDER BY request_id, ordinal",
            )
            .map_err(backend)?;
        statement.query([low, high]).map_err(backend)?
    } else {
        let placeholders = vec!["?"; ids.len()].join(",");
        let sql = format!(
            "SELECT request_id, id, status FROM persons WHERE request_id IN ({placeholders}) ORDER BY request_id, ordinal"
        );
        statement = c.prepare_cached(&sql).map_err(backend)?;
        statement
            .query(rusqlite::params_from_iter(ids.iter()))
            .map_err(backend)?
    };
    let mut by_request: std::collections::HashMap<
        RequestId,
        Vec<(evac_model::PersonId, PersonStatus)>,
    > = std::collections::HashMap::with_capacity(ids.len());
    while let Some(row) = rows.next().map_err(backend)? {
        let request_id: RequestId = parse_id("persons.request_id", text(row, 0)?)?;
        by_request.entry(request_id).or_default().push((
            parse_id("persons.id", text(row, 1)?)?,
            status_from_text(text(row, 2)?)?,
        ));
    }
    Ok(requests
        .into_iter()
        .map(|request| StoredRequest {
            statuses: by_request.remove(&request.id).unwrap_or_default(),
            request,
        })
        .collect())
}

pub(crate) fn request_where(
    c: &Connection,
    column: &'static str,
    value: &str,
) -> Result<Option<StoredRequest>, StoreError> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE {column} = ?1");
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let mut rows = s.query([value]).map_err(backend)?;
    match rows.next().map_err(backend)? {
        Some(row) => Ok(Some(stored_from_row(c, row)?)),
        None => Ok(None),
    }
}

/// SQL conditions joined by AND, with their values numbered in order.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    values: Vec<Box<dyn ToSql>>,
}

impl Conditions {
    /// Adds `condition`, whose `?`s take `values` in order.
    fn push(&mut self, condition: &str, values: impl IntoIterator<Item = Box<dyn ToSql>>) {
        let mut parts = condition.split('?');
        let mut numbered = parts.next().unwrap_or_default().to_string();
        for (part, value) in parts.zip(values) {
            self.values.push(value);
            numbered.push_str(&format!("?{}{part}", self.values.len()));
        }
        self.sql.push(numbered);
    }
}

fn boxed<T: ToSql + 'static>(value: T) -> Box<dyn ToSql> {
    Box::new(value)
}

/// How many requests match `filter`, up to `cap`.
pub(crate) fn count_requests(
    c: &Connection,
    filter: &RequestFilter,
    cap: u64,
) -> Result<u64, StoreError> {
    let mut conditions = Conditions::default();
    filter_conditions(c, filter, &mut conditions)?;
    let where_clause = if conditions.sql.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.sql.join(" AND "))
    };
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM requests r {where_clause} LIMIT {})",
        cap.min(i64::MAX as u64)
    );
    let params: Vec<&dyn ToSql> = conditions.values.iter().map(|v| v.as_ref()).collect();
    c.prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params.as_slice(), |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(backend)
}

/// The conditions a request filter puts on `requests r`, the list's and the count's alike.
fn filter_conditions(
    c: &Connection,
    filter: &RequestFilter,
    conditions: &mut Conditions,
) -> Result<(), StoreError> {
    match filter.status {
        // Most people are registered: the requests in order, each probed, fill a page soon.
        Some(PersonStatus::Registered) => conditions.push(
            "EXISTS (SELECT 1 FROM persons p WHERE p.request_id = r.id AND p.status = ?)",
            [boxed(PersonStatus::Registered.as_str())],
        ),
        // Any other status is read from the index of people who moved on (its condition is
        // repeated word for word, which is how SQLite knows the index holds them).
        Some(status) => conditions.push(
            "r.id IN (SELECT p.request_id FROM persons p WHERE p.status = ? AND p.status <> 'registered')",
            [boxed(status.as_str())],
        ),
        None => {}
    }
    if let Some(place) = &filter.place {
        let pattern = format!(
            "%{}%",
            evac_model::to_icao_latin(place).replace(['%', '_'], "")
        );
        conditions.push("r.location_latin LIKE ?", [boxed(pattern)]);
    }
    // A name's words and a phone number are search keys alike: a request must have them all.
    let mut keys = filter
        .name
        .as_deref()
        .map(query_name_keys)
        .unwrap_or_default();
    let name_without_words = filter.name.is_some() && keys.is_empty();
    keys.extend(filter.phone.as_deref().map(evac_store::phone_search_key));
    if filter.name.is_some() || filter.phone.is_some() {
        if name_without_words {
            // No word of a name in it: nobody has no name keys and matches.
            conditions.push("0", []);
        } else {
            // Keyed requests through the index; the newest, not keyed yet, by their bodies.
            let unkeyed = crate::name_keys::unkeyed_matches(c, &keys)?;
            let mut condition =
                "r.rowid IN (SELECT rowid FROM name_index WHERE name_index MATCH ?)".to_string();
            let mut values = vec![boxed(crate::name_keys::index_query(&keys))];
            if !unkeyed.is_empty() {
                condition = format!("({condition} OR r.id IN (SELECT value FROM json_each(?)))");
                values.push(boxed(
                    serde_json::to_string(&unkeyed)
                        .map_err(|e| StoreError::Backend(e.to_string()))?,
                ));
            }
            conditions.push(&condition, values);
        }
    }
    if let Some(channel) = filter.channel {
        conditions.push("r.channel = ?", [boxed(channel.as_str())]);
    }
    if let Some(from) = filter.received_from {
        conditions.push("r.received_at >= ?", [boxed(from.unix_micros())]);
    }
    if let Some(until) = filter.received_until {
        conditions.push("r.received_at < ?", [boxed(until.unix_micros())]);
    }
    if let Some(minors) = filter.has_minors {
        conditions.push("r.has_minors = ?", [boxed(minors)]);
    }
    if let Some(town) = filter.town {
        conditions.push("r.place_id = ?", [boxed(town as i64)]);
    }
    if let Some(officer) = &filter.assignee {
        conditions.push(
            "r.id IN (SELECT request_id FROM assignments WHERE officer = ?)",
            [boxed(officer.clone())],
        );
    }
    if let Some(country) = filter.citizenship {
        conditions.push(
            "r.citizenships LIKE ?",
            [boxed(evac_store::tag_pattern(country.as_str()))],
        );
    }
    if let Some(need) = filter.need {
        conditions.push(
            "r.needs LIKE ?",
            [boxed(evac_store::tag_pattern(need.as_str()))],
        );
    }
    if let Some(among) = &filter.among {
        let ids: Vec<String> = among.iter().map(ToString::to_string).collect();
        conditions.push(
            "r.id IN (SELECT value FROM json_each(?))",
            [boxed(
                serde_json::to_string(&ids).map_err(|e| StoreError::Backend(e.to_string()))?,
            )],
        );
    }
    Ok(())
}

pub(crate) fn list_requests(
    c: &Connection,
    filter: &RequestFilter,
    page: PageRequest,
) -> Result<Page, StoreError> {
    let mut conditions = Conditions::default();
    let (compare, direction) = match page.order {
        ListOrder::NewestFirst => ("<", "DESC"),
        ListOrder::OldestFirst => (">", "ASC"),
    };
    if let Some(after) = page.after {
        conditions.push(&format!("r.id {compare} ?"), [boxed(after.to_string())]);
    }
    filter_conditions(c, filter, &mut conditions)?;
    let limit = page.limit.clamp(1, PAGE_ITEMS_MAX);
    let where_clause = if conditions.sql.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.sql.join(" AND "))
    };
    let sql = format!(
        "SELECT r.id, r.reference, r.received_at, r.body FROM requests r {where_clause} ORDER BY r.id {direction} LIMIT {}",
        limit + 1
    );
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let params: Vec<&dyn ToSql> = conditions.values.iter().map(|v| v.as_ref()).collect();
    let mut rows = s.query(params.as_slice()).map_err(backend)?;
    let mut items = Vec::with_capacity(limit as usize);
    let mut more = false;
    while let Some(row) = rows.next().map_err(backend)? {
        if items.len() == limit as usize {
            more = true;
            break;
        }
        items.push(request_from_row(row)?);
    }
    // An unfiltered page holds every request between its first and last id, so their people
    // are one sequential stretch of the persons index; a filtered page may be sparse.
    let items = with_statuses(c, items, *filter == RequestFilter::default())?;
    let next = if more {
        items.last().map(|r| r.request.id)
    } else {
        None
    };
    Ok(Page { items, next })
}

pub(crate) fn insert_user(c: &Connection, user: &User) -> Result<(), StoreError> {
    let result = c
        .prepare_cached("INSERT INTO users (id, name, role, password_hash, created_at, disabled) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .and_then(|mut s| {
            s.execute(params![
                user.id.to_string(),
                user.name,
                user.role.as_str(),
                user.password_hash,
                user.created_at.unix_micros(),
                user.disabled
            ])
        });
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
            what: format!("a user named '{}'", user.name),
        }),
        Err(e) => Err(backend(e)),
    }
}

fn user_from_row(row: &rusqlite::Row<'_>) -> Result<User, StoreError> {
    let id: String = row.get(0).map_err(backend)?;
    let role: String = row.get(2).map_err(backend)?;
    Ok(User {
        id: parse_id("users.id", &id)?,
        name: row.get(1).map_err(backend)?,
        role: role_from_text(&role)?,
        password_hash: row.get(3).map_err(backend)?,
        created_at: Timestamp::from_unix_micros(row.get(4).map_err(backend)?),
        disabled: row.get(5).map_err(backend)?,
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled";

pub(crate) fn user_where(
    c: &Connection,
    condition: &'static str,
    value: &str,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE {condition}");
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let mut rows = s.query([value]).map_err(backend)?;
    rows.next().map_err(backend)?.map(user_from_row).transpose()
}

pub(crate) fn users(c: &Connection) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name");
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let mut rows = s.query([]).map_err(backend)?;
    let mut users = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        users.push(user_from_row(row)?);
    }
    Ok(users)
}

pub(crate) fn user_by_token(
    c: &Connection,
    digest: &[u8; 32],
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = ?1 AND u.disabled = 0 AND (t.expires_at IS NULL OR t.expires_at > ?2)"
    );
    let mut s = c.prepare_cached(&sql).map_err(backend)?;
    let mut rows = s
        .query(params![digest.as_slice(), now.unix_micros()])
        .map_err(backend)?;
    rows.next().map_err(backend)?.map(user_from_row).transpose()
}

pub(crate) fn insert_token(c: &Connection, token: &ApiToken) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO api_tokens (token_sha256, user_id, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            token.token_sha256.as_slice(),
            token.user_id.to_string(),
            token.label,
            token.created_at.unix_micros(),
            token.expires_at.map(|t| t.unix_micros())
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn insert_audit(c: &Connection, e: &AuditRow) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO audit_events (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![e.at, e.actor, e.action, e.subject, e.detail]))
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn audit_trail(
    c: &Connection,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT seq, at, actor, action, subject, detail FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .map_err(backend)?;
    let rows = s
        .query_map(params![after_seq, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (seq, at, actor, action, subject, detail) = row.map_err(backend)?;
        audit_record_from_columns(seq, at, &actor, action, subject, &detail)
    })
    .collect()
}

/// A queue of requests owed background work, written with each request: an acknowledgement
/// (`acks_due`), linking (`links_due`).
#[derive(Clone, Copy)]
pub(crate) enum DueQueue {
    Acks,
    Links,
}

impl DueQueue {
    fn select(self) -> &'static str {
        match self {
            DueQueue::Acks => "SELECT request_id FROM acks_due ORDER BY request_id LIMIT ?1",
            DueQueue::Links => "SELECT request_id FROM links_due ORDER BY request_id LIMIT ?1",
        }
    }

    fn delete(self) -> &'static str {
        match self {
            DueQueue::Acks => "DELETE FROM acks_due WHERE request_id = ?1",
            DueQueue::Links => "DELETE FROM links_due WHERE request_id = ?1",
        }
    }
}

/// The requests a queue holds, oldest id first, at most `limit`.
pub(crate) fn requests_due(
    c: &Connection,
    queue: DueQueue,
    limit: u32,
) -> Result<Vec<RequestId>, StoreError> {
    let mut s = c.prepare_cached(queue.select()).map_err(backend)?;
    let ids = s
        .query_map([i64::from(limit.min(PAGE_ITEMS_MAX))], |row| {
            row.get::<_, String>(0)
        })
        .map_err(backend)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(backend)?;
    ids.iter().map(|id| parse_id("request_id", id)).collect()
}

/// Takes requests off a queue, in the transaction that did their work.
pub(crate) fn clear_due(
    c: &Connection,
    queue: DueQueue,
    requests: &[RequestId],
) -> Result<(), StoreError> {
    let mut done = c.prepare_cached(queue.delete()).map_err(backend)?;
    for r in requests {
        done.execute([r.to_string()]).map_err(backend)?;
    }
    Ok(())
}
