//! Intake: taking a request in, and giving staff the requests back.
//!
//! A request is acknowledged (an id and a reference returned) only after the store reports its
//! transaction durable. Reference codes are random; on the rare collision a new one is drawn.

use std::collections::HashMap;

use evac_model::{
    Actor, Permission, ReferenceCode, Request, RequestDraft, RequestId, Timestamp,
    ValidationContext,
};
use evac_store::{
    AuditEvent, IdempotencyClaim, InsertOutcome, ListOrder, PAGE_ITEMS_MAX, Page, PageRequest,
    RequestFilter, RequestInsert, StoredRequest,
};

use crate::Refusal;
use crate::{App, AppError, Staff};

/// Draws of a fresh reference before giving up (31^8 codes: a second collision in a row means
/// something is wrong with the random source, not bad luck).
const REFERENCE_DRAWS_MAX: usize = 5;
/// A search with fewer digits than this is no phone number (a reference, a name, a year).
const PHONE_DIGITS_MIN: usize = 7;

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub id: RequestId,
    pub reference: ReferenceCode,
    /// True when this was a retry answered from the first submission.
    pub replayed: bool,
}

/// A list counts its matches up to this many requests: at a million stored, counting to
/// 10,000 made a name or place search's page 10 to 35 times slower (135 ms against 11 ms),
/// and "more than 1,000" says what a case officer needs (narrow the filter).
pub const LIST_COUNT_MAX: u64 = 1_000;

impl App {
    /// Validates and stores a request. `actor` is the public (web form, API without account),
    /// a staff member entering a phoned-in request, or the system (imports, demo).
    pub async fn submit_request(
        &self,
        actor: &Actor,
        draft: &RequestDraft,
        idempotency: Option<IdempotencyClaim>,
    ) -> Result<Submitted, AppError> {
        self.submit_request_at(actor, draft, idempotency, Timestamp::now())
            .await
    }

    /// A request through the API or a form: from the public (no account), or from a staff
    /// member entering it (who must be allowed to). Hotline and import requests come only from
    /// staff: the public cannot claim a channel that says an operator checked it.
    pub async fn submit_request_from(
        &self,
        staff: Option<&Staff>,
        draft: &RequestDraft,
        idempotency: Option<IdempotencyClaim>,
    ) -> Result<Submitted, AppError> {
        let actor = match staff {
            Some(staff) => {
                staff.require(Permission::WriteRequests)?;
                staff.actor()
            }
            None => {
                let staff_only = draft
                    .channel
                    .as_deref()
                    .and_then(evac_model::Channel::parse)
                    .filter(|c| {
                        matches!(
                            c,
                            evac_model::Channel::Hotline | evac_model::Channel::Import
                        )
                    });
                if let Some(channel) = staff_only {
                    return Err(AppError::Invalid(vec![evac_model::FieldError {
                        path: "channel".into(),
                        reason: format!(
                            "'{channel}' requests are entered by staff; send a staff token or leave channel out"
                        ),
                    }]));
                }
                Actor::Public
            }
        };
        self.submit_request(&actor, draft, idempotency).await
    }

    /// As [`App::submit_request`], received at a given time (imports and the demo keep the
    /// original times).
    pub async fn submit_request_at(
        &self,
        actor: &Actor,
        draft: &RequestDraft,
        idempotency: Option<IdempotencyClaim>,
        received_at: Timestamp,
    ) -> Result<Submitted, AppError> {
        let ctx = ValidationContext {
            now: received_at,
            default_region: self.settings.default_region,
        };
        let mut body = draft.validate(&ctx).map_err(AppError::Invalid)?;
        body.location.place_id = crate::situation::place_of(&body.location);
        let id = RequestId::received_at(received_at);
        let request = Request {
            id,
            reference: self.references.draw(&mut rand::rng()),
            received_at,
            body,
        };
        let has_minors = request.body.has_minors(request.ages_as_of());
        // Only non-personal facts go into the audit detail.
        let audit = AuditEvent {
            at: received_at,
            actor: actor.clone(),
            action: "request.create".into(),
            subject: Some(id.to_string()),
            detail: serde_json::json!({
                "channel": request.body.channel.as_str(),
                "party_size": request.body.party.len(),
            }),
        };
        // Only what a person just sent is acknowledged: the demo's history and imported
        // spreadsheets are not told again.
        let acknowledge = *actor != Actor::System
            && request.body.channel != evac_model::Channel::Import
            && self.contact_of(&request).is_some();
        let mut insert = RequestInsert {
            request,
            has_minors,
            idempotency,
            audit,
            acknowledge,
        };
        for _ in 0..REFERENCE_DRAWS_MAX {
            match self.store.insert_request(&insert).await? {
                InsertOutcome::Inserted => {
                    self.store.intake_load().count_request();
                    tracing::debug!(request_id = %id, channel = insert.request.body.channel.as_str(), "request stored");
                    self.queue_for_linking(id);
                    return Ok(Submitted {
                        id,
                        reference: insert.request.reference,
                        replayed: false,
                    });
                }
                InsertOutcome::Replayed { id, reference } => {
                    return Ok(Submitted {
                        id,
                        reference,
                        replayed: true,
                    });
                }
                InsertOutcome::IdempotencyConflict => return Err(AppError::IdempotencyConflict),
                InsertOutcome::ReferenceTaken => {
                    insert.request.reference = self.references.draw(&mut rand::rng());
                }
            }
        }
        Err(AppError::Conflict(Refusal::other(
            "could not draw a free reference code; try again",
        )))
    }

    /// Calls `visit` with every stored request, oldest first, a page at a time (flat memory):
    /// the one walk that relinking and triage share.
    pub(crate) async fn for_each_request(
        &self,
        mut visit: impl FnMut(&StoredRequest),
    ) -> Result<(), AppError> {
        let mut after = None;
        loop {
            let (page, next) = self.requests_after(after).await?;
            page.iter().for_each(&mut visit);
            match next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// One page of stored requests after `after` (from the first when `None`), oldest first,
    /// and where the next page starts (`None` after the last).
    pub(crate) async fn requests_after(
        &self,
        after: Option<evac_model::RequestId>,
    ) -> Result<(Vec<StoredRequest>, Option<evac_model::RequestId>), AppError> {
        let page = self
            .store
            .list_requests(
                &RequestFilter::default(),
                PageRequest {
                    after,
                    limit: PAGE_ITEMS_MAX,
                    order: ListOrder::OldestFirst,
                },
            )
            .await?;
        Ok((page.items, page.next))
    }

    pub(crate) async fn audit_read(
        &self,
        staff: &Staff,
        action: &str,
        subject: Option<String>,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let event = AuditEvent {
            at: Timestamp::now(),
            actor: staff.actor(),
            action: action.into(),
            subject,
            detail,
        };
        Ok(self.store.append_audit(vec![event]).await?)
    }

    pub async fn request(&self, staff: &Staff, id: RequestId) -> Result<StoredRequest, AppError> {
        staff.require(Permission::ReadRequests)?;
        let mut found = self
            .store
            .request(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("request {id}")))?;
        self.audit_read(
            staff,
            "request.read",
            Some(id.to_string()),
            serde_json::json!({}),
        )
        .await?;
        found.request.body.withhold_for(staff.role);
        Ok(found)
    }

    pub async fn request_by_reference(
        &self,
        staff: &Staff,
        reference: &ReferenceCode,
    ) -> Result<StoredRequest, AppError> {
        staff.require(Permission::ReadRequests)?;
        let mut found = self
            .store
            .request_by_reference(reference)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("a request with reference {reference}")))?;
        self.audit_read(
            staff,
            "request.read",
            Some(found.request.id.to_string()),
            serde_json::json!({"by": "reference"}),
        )
        .await?;
        found.request.body.withhold_for(staff.role);
        Ok(found)
    }

    /// How many requests a list's filter matches, up to [`LIST_COUNT_MAX`] (beyond it a list
    /// says "more than"); the same permissions as the list.
    pub async fn count_requests(
        &self,
        staff: &Staff,
        filter: &RequestFilter,
    ) -> Result<u64, AppError> {
        staff.require(Permission::ReadRequests)?;
        if filter.phone.is_some() {
            staff.require(Permission::ReadContacts)?;
        }
        check_filter(filter)?;
        let cap = LIST_COUNT_MAX + 1;
        let Some(among) = filter.among.as_ref().filter(|a| a.len() > AMONG_CHUNK_IDS) else {
            return Ok(self.store.count_requests(filter, cap).await?);
        };
        // A large set a chunk at a time, as a page walks it, until the cap is reached.
        let mut counted = 0;
        for chunk in among.chunks(AMONG_CHUNK_IDS) {
            if counted >= cap {
                break;
            }
            counted += self
                .store
                .count_requests(&narrowed(filter, chunk), cap - counted)
                .await?;
        }
        Ok(counted.min(cap))
    }

    pub async fn list_requests(
        &self,
        staff: &Staff,
        filter: &RequestFilter,
        page: PageRequest,
    ) -> Result<Page, AppError> {
        staff.require(Permission::ReadRequests)?;
        if filter.phone.is_some() {
            // Finding people by their phone tells whose phone it is.
            staff.require(Permission::ReadContacts)?;
        }
        check_filter(filter)?;
        let mut page = list_page(&*self.store, filter, page).await?;
        for found in &mut page.items {
            found.request.body.withhold_for(staff.role);
        }
        let ids: Vec<String> = page
            .items
            .iter()
            .map(|r| r.request.id.to_string())
            .collect();
        self.audit_read(
            staff,
            "request.list",
            None,
            serde_json::json!({ "count": ids.len(), "ids": ids }),
        )
        .await?;
        Ok(page)
    }

    /// A phone number as the phone index keys it (E.164, read as this deployment reads
    /// numbers without a country code), or none when the text is no phone number.
    pub fn phone_key(&self, text: &str) -> Option<String> {
        self.phone_key_in(text, self.settings.default_region)
    }

    fn phone_key_in(&self, text: &str, region: Option<evac_model::CountryCode>) -> Option<String> {
        let digits = text.chars().filter(char::is_ascii_digit).count();
        let phone_like = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if digits < PHONE_DIGITS_MIN || !phone_like {
            return None;
        }
        evac_model::PhoneE164::parse(text, region)
            .ok()
            .map(|p| p.to_string())
    }

    /// The requests that gave this phone number (the hotline's "already known?"), newest
    /// first; an empty list when the text is no phone number. A number written without its
    /// country code is read as this deployment's region and as each hub's country (intake
    /// read it by the request's country: a caller from Bishkek says "0555 …").
    pub async fn requests_by_phone(
        &self,
        staff: &Staff,
        phone: &str,
    ) -> Result<Vec<StoredRequest>, AppError> {
        let mut regions = vec![self.settings.default_region];
        if !phone.trim_start().starts_with('+') {
            for hub in self.store.hubs().await? {
                if !regions.contains(&Some(hub.country)) {
                    regions.push(Some(hub.country));
                }
            }
        }
        let mut keys: Vec<String> = regions
            .into_iter()
            .filter_map(|region| self.phone_key_in(phone, region))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut found: Vec<StoredRequest> = Vec::new();
        for key in keys {
            let filter = RequestFilter {
                phone: Some(key),
                ..Default::default()
            };
            let page = PageRequest {
                after: None,
                limit: PAGE_ITEMS_MAX,
                order: ListOrder::NewestFirst,
            };
            for stored in self.list_requests(staff, &filter, page).await?.items {
                if !found.iter().any(|f| f.request.id == stored.request.id) {
                    found.push(stored);
                }
            }
        }
        found.sort_by_key(|s| std::cmp::Reverse(s.request.received_at));
        Ok(found)
    }

    /// Starts a bulk export: one permission check and one audit event for the whole download.
    pub async fn begin_export(
        &self,
        actor: ExportActor<'_>,
        filter: RequestFilter,
        format: &str,
    ) -> Result<ExportCursor, AppError> {
        check_filter(&filter)?;
        let (actor, role) = match actor {
            ExportActor::Staff(staff) => {
                staff.require(Permission::ExportRequests)?;
                if filter.phone.is_some() {
                    staff.require(Permission::ReadContacts)?;
                }
                (staff.actor(), Some(staff.role))
            }
            ExportActor::ServerConsole => (Actor::System, None),
        };
        let event = AuditEvent {
            at: Timestamp::now(),
            actor,
            action: "request.export".into(),
            subject: None,
            // Which filters, never their words: a searched name is personal data that
            // auditors would read.
            detail: serde_json::json!({ "format": format, "filters": filter_names(&filter) }),
        };
        self.store.append_audit(vec![event]).await?;
        Ok(self.request_pages(filter, role))
    }

    /// Every request matching `filter`, oldest first, a page at a time (blanked for `role`;
    /// `None` sees all): no permission check and no audit event, for use cases that made both.
    pub(crate) fn request_pages(
        &self,
        filter: RequestFilter,
        role: Option<evac_model::Role>,
    ) -> ExportCursor {
        ExportCursor {
            app: self.clone(),
            filter,
            role,
            after: None,
            done: false,
            read_ahead: None,
        }
    }
}

/// Ids of an `among` filter the store is given at once. A larger set (every request with a
/// duplicate, in a large crisis hundreds of thousands) is walked in the page's order a chunk
/// at a time from the cursor on, so a page costs a few chunks, not the whole set.
const AMONG_CHUNK_IDS: usize = 1_000;

/// The stored requests among `ids`, by id (one erased since is not there), read a page at a
/// time: a few round trips however many ids, where one read each would cost one each.
pub(crate) async fn requests_among(
    store: &dyn evac_store::Store,
    ids: &[RequestId],
) -> Result<HashMap<RequestId, StoredRequest>, evac_store::StoreError> {
    let mut read = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(AMONG_CHUNK_IDS) {
        let filter = RequestFilter {
            among: Some(chunk.into()),
            ..Default::default()
        };
        let mut after = None;
        loop {
            let page = store
                .list_requests(
                    &filter,
                    PageRequest {
                        after,
                        limit: PAGE_ITEMS_MAX,
                        order: ListOrder::OldestFirst,
                    },
                )
                .await?;
            read.extend(page.items.into_iter().map(|r| (r.request.id, r)));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(read)
}

/// `filter` over one chunk of its `among` set.
fn narrowed(filter: &RequestFilter, chunk: &[RequestId]) -> RequestFilter {
    RequestFilter {
        among: Some(chunk.into()),
        ..filter.clone()
    }
}

/// A page of requests under `filter`, with a large `among` set walked a chunk at a time
/// ([`AMONG_CHUNK_IDS`]); the same page the store would give for the whole set.
pub(crate) async fn list_page(
    store: &dyn evac_store::Store,
    filter: &RequestFilter,
    page: PageRequest,
) -> Result<evac_store::Page, evac_store::StoreError> {
    list_page_in_chunks(store, filter, page, AMONG_CHUNK_IDS).await
}

async fn list_page_in_chunks(
    store: &dyn evac_store::Store,
    filter: &RequestFilter,
    page: PageRequest,
    chunk_ids: usize,
) -> Result<evac_store::Page, evac_store::StoreError> {
    let Some(among) = filter.among.as_ref().filter(|a| a.len() > chunk_ids) else {
        return store.list_requests(filter, page).await;
    };
    // `among` is sorted, oldest first: the candidates after the cursor, in the page's order.
    let oldest_first = page.order == ListOrder::OldestFirst;
    let candidates = match (page.after, oldest_first) {
        (None, _) => &among[..],
        (Some(after), true) => &among[among.partition_point(|id| *id <= after)..],
        (Some(after), false) => &among[..among.partition_point(|id| *id < after)],
    };
    let mut chunks: Box<dyn Iterator<Item = &[RequestId]> + Send> = if oldest_first {
        Box::new(candidates.chunks(chunk_ids))
    } else {
        Box::new(candidates.rchunks(chunk_ids))
    };
    let limit = page.limit.clamp(1, PAGE_ITEMS_MAX) as usize;
    let mut items = Vec::with_capacity(limit);
    let mut more = false;
    for chunk in &mut chunks {
        let narrowed = narrowed(filter, chunk);
        // Once the page is full, one more match anywhere says there is a next page.
        let wanted = if items.len() < limit {
            limit - items.len()
        } else {
            1
        };
        let found = store
            .list_requests(
                &narrowed,
                PageRequest {
                    after: page.after,
                    limit: wanted as u32,
                    order: page.order,
                },
            )
            .await?;
        if items.len() == limit {
            if !found.items.is_empty() {
                more = true;
                break;
            }
            continue;
        }
        items.extend(found.items);
        if found.next.is_some() {
            more = true;
            break;
        }
    }
    let next = if more {
        items.last().map(|r| r.request.id)
    } else {
        None
    };
    Ok(evac_store::Page { items, next })
}

/// Who runs an export: a staff member over the API, or an operator at the server's console.
#[derive(Debug, Clone, Copy)]
pub enum ExportActor<'a> {
    Staff(&'a Staff),
    ServerConsole,
}

/// The names of the filters set, for an audit event.
fn filter_names(filter: &RequestFilter) -> Vec<&'static str> {
    [
        ("status", filter.status.is_some()),
        ("place", filter.place.is_some()),
        ("name", filter.name.is_some()),
        ("channel", filter.channel.is_some()),
        ("phone", filter.phone.is_some()),
        ("received_from", filter.received_from.is_some()),
        ("received_until", filter.received_until.is_some()),
        ("has_minors", filter.has_minors.is_some()),
        ("assignee", filter.assignee.is_some()),
        ("town", filter.town.is_some()),
        ("citizenship", filter.citizenship.is_some()),
        ("need", filter.need.is_some()),
        ("has_duplicates", filter.among.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// A list filter's words are what a person types into a search box: one line of at most
/// `SHORT_TEXT_CHARS_MAX` characters with nothing hidden (a 50,000-character place made the
/// database give up with a 5xx).
fn check_filter(filter: &RequestFilter) -> Result<(), AppError> {
    let mut problems = Vec::new();
    for (path, value) in [
        ("query.place", &filter.place),
        ("query.name", &filter.name),
        ("query.phone", &filter.phone),
    ] {
        let Some(value) = value else { continue };
        // The checks every text field makes, in their words, so a desk says them in its
        // language.
        use evac_model::TextProblem;
        let reason = if value.chars().count() > evac_model::SHORT_TEXT_CHARS_MAX {
            TextProblem::TooLong {
                chars_max: evac_model::SHORT_TEXT_CHARS_MAX,
            }
            .reason()
        } else if let Some(c) = value.chars().find(|c| matches!(c, '\n' | '\r' | '\t')) {
            TextProblem::LineBreak { code: u32::from(c) }.reason()
        } else if let Some(c) = value.chars().find(|c| evac_model::hidden_character(*c)) {
            TextProblem::HiddenCharacter { code: u32::from(c) }.reason()
        } else {
            continue;
        };
        problems.push(evac_model::FieldError {
            path: path.into(),
            reason,
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(problems))
    }
}

/// Walks every request matching a filter, oldest first, a page at a time (flat memory). While
/// the caller writes one page, the next is already being read (one page ahead, no more), so
/// reading and formatting use both cores.
pub struct ExportCursor {
    app: App,
    filter: RequestFilter,
    /// Whose export: what the role may not see is blanked (the server's console sees all).
    role: Option<evac_model::Role>,
    after: Option<RequestId>,
    done: bool,
    read_ahead: Option<tokio::task::JoinHandle<Result<evac_store::Page, AppError>>>,
}

impl ExportCursor {
    fn fetch(
        &self,
        after: Option<RequestId>,
    ) -> tokio::task::JoinHandle<Result<evac_store::Page, AppError>> {
        let (store, filter) = (self.app.store.clone(), self.filter.clone());
        tokio::spawn(async move {
            let page = PageRequest {
                after,
                limit: PAGE_ITEMS_MAX,
                order: ListOrder::OldestFirst,
            };
            Ok(list_page(&*store, &filter, page).await?)
        })
    }

    /// The next page, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<StoredRequest>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let pending = match self.read_ahead.take() {
            Some(pending) => pending,
            None => self.fetch(self.after),
        };
        let page = pending.await.map_err(|e| {
            AppError::Conflict(Refusal::other(format!("an export read failed: {e}")))
        })??;
        self.after = page.next;
        self.done = page.next.is_none();
        if !self.done {
            self.read_ahead = Some(self.fetch(self.after));
        }
        let mut items = page.items;
        if let Some(role) = self.role {
            for found in &mut items {
                found.request.body.withhold_for(role);
            }
        }
        Ok(Some(items))
    }
}

impl App {
    /// The audit trail, for auditors and supervisors.
    pub async fn audit_trail(
        &self,
        staff: &Staff,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<evac_store::AuditRecord>, AppError> {
        staff.require(Permission::ReadAudit)?;
        Ok(self.store.audit_trail(after_seq, limit).await?)
    }

    /// [`App::audit_trail`] with each event's actor named as the desk names staff (a user by
    /// name; the system, a token or a gateway by its label).
    pub async fn audit_trail_named(
        &self,
        staff: &Staff,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<(evac_store::AuditRecord, String)>, AppError> {
        let records = self.audit_trail(staff, after_seq, limit).await?;
        let name_of = self.staff_names().await?;
        Ok(records
            .into_iter()
            .map(|record| {
                let actor = name_of(&record.event.actor.label());
                (record, actor)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: a large `among` walked in chunks pages exactly as the store pages the whole set,
    /// in both orders, for every page size, with another filter beside it.
    #[tokio::test]
    async fn a_large_among_set_pages_as_the_store_pages_it_whole() {
        let (_app, store, _dir) = crate::test_support::demo_app(40, 3).await;
        let all = store
            .list_requests(
                &RequestFilter::default(),
                PageRequest {
                    after: None,
                    limit: 100,
                    order: ListOrder::OldestFirst,
                },
            )
            .await
            .unwrap();
        let mut among: Vec<RequestId> = all.items.iter().map(|r| r.request.id).step_by(2).collect();
        among.sort();
        let channel = all.items[4].request.body.channel;
        for filter in [
            RequestFilter {
                among: Some(among.clone().into()),
                ..Default::default()
            },
            RequestFilter {
                among: Some(among.clone().into()),
                channel: Some(channel),
                ..Default::default()
            },
        ] {
            for order in [ListOrder::OldestFirst, ListOrder::NewestFirst] {
                for limit in 1..=7 {
                    let walk = |chunked: bool| {
                        let (store, filter) = (store.clone(), filter.clone());
                        async move {
                            let mut pages = Vec::new();
                            let mut after = None;
                            loop {
                                let page = PageRequest {
                                    after,
                                    limit,
                                    order,
                                };
                                let got = if chunked {
                                    list_page_in_chunks(&*store, &filter, page, 3).await
                                } else {
                                    store.list_requests(&filter, page).await
                                }
                                .unwrap();
                                pages.push(
                                    got.items.iter().map(|r| r.request.id).collect::<Vec<_>>(),
                                );
                                match got.next {
                                    Some(next) => after = Some(next),
                                    None => return pages,
                                }
                            }
                        }
                    };
                    assert_eq!(
                        walk(true).await,
                        walk(false).await,
                        "{order:?}, pages of {limit}, channel {:?}",
                        filter.channel
                    );
                }
            }
        }
    }
}
