//! Linkage inside the app: every stored request's people are linked into persons and
//! households, new requests are matched on arrival, uncertain pairs wait in a review queue.
//!
//! The store keeps an append-only log of link events; what is "the same person" now is a fold
//! over that log ([`LinkView::from_events`]), so merges never touch a request and every merge
//! can be undone. Linkage is work one node does for all: every request is stored with a due
//! mark (`links_due`), whichever node took it, and the node holding the `linkage` lease
//! ([`LinkageWorker`]) drains the marks in batches on a background thread of low priority
//! ([`OnlineLinker`]): a batch's link events, its people's blocking keys and the clearing of
//! its marks are one transaction, fenced by the lease. The people a new one is compared with
//! are found through those kept keys in the store ([`BatchMatcher`]), so no node holds an index
//! of everyone: the holder keeps only the model, which [`App::relink`] learns and keeps in the
//! store with every person's keys. A node taking the lease takes the kept model up and matches
//! at once; it relinks first only when none is kept or the keys were made by another release
//! (`evac_link::block::keys_fingerprint`), and relinks in the background, matching meanwhile,
//! once the crisis has doubled since the model was learnt. Matching never delays or fails an
//! acknowledgement: during a burst the linker falls behind and catches up after. When the
//! holder dies, another node takes the lease once it runs out ([`LINKAGE_LEASE_MS`]) and drains
//! what is still due. Every node reads links from the store, so each sees the same households.

use crate::{Refusal, RefusalArg, RefusalKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use evac_link::sources::records_of_request;
use evac_link::{Band, Doubt, LinkRecord, Prepared, Score, Settings as LinkSettings};
use evac_model::{
    Actor, LinkEvent, LinkEventKind, Permission, PersonId, Request, RequestId, StoredLinkEvent,
    Timestamp,
};
use evac_store::{AppendIf, AuditEvent, PAGE_ITEMS_MAX, StoreError};

use crate::boarding::with_fresh_fold;

use crate::{App, AppError, Staff};

/// Which pairs of the review queue a case officer sees, and in which order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReviewQuery {
    pub order: ReviewOrder,
    /// Pairs whose match probability is at least this (0 to 1).
    pub probability_min: Option<f64>,
    /// Pairs whose match probability is at most this (0 to 1).
    pub probability_max: Option<f64>,
    /// Pairs to skip (the page's start).
    pub from: usize,
}

/// The review queue's orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReviewOrder {
    /// A probability nearest one half first: the automatic answer most likely wrong.
    #[default]
    MostDoubtful,
    MostLikely,
    LeastLikely,
    Oldest,
    Newest,
}

impl ReviewOrder {
    pub const ALL: [ReviewOrder; 5] = [
        ReviewOrder::MostDoubtful,
        ReviewOrder::MostLikely,
        ReviewOrder::LeastLikely,
        ReviewOrder::Oldest,
        ReviewOrder::Newest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOrder::MostDoubtful => "doubtful",
            ReviewOrder::MostLikely => "likely",
            ReviewOrder::LeastLikely => "unlikely",
            ReviewOrder::Oldest => "oldest",
            ReviewOrder::Newest => "newest",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewOrder> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// A page of the review queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewQueuePage {
    pub items: Vec<ReviewItem>,
    /// Pairs waiting in all.
    pub pending: usize,
    /// Pairs the query lets through.
    pub matching: usize,
}

/// Candidates kept per new record when matching online.
const ONLINE_CANDIDATES_MAX: usize = 3;
/// How many observed matches one reviewer's "match" counts for when refining `m`.
const DECISION_WEIGHT_PAIRS: f64 = 5.0;

/// Requests the online linker takes from the store's queue at once: one transaction of
/// link events and cleared marks per batch.
const LINK_BATCH_REQUESTS_MAX: u32 = 200;
/// Queued requests up to which the linker waits while this node's intake is busy
/// ([`evac_store::IntakeLoad`]); beyond it, it matches even during a surge. Large: a backlog
/// costs only the freshness of duplicate suggestions, which case officers review in hours, not
/// seconds; it is ~50 s of the benchmarked 10,000 requests/s.
pub const LINK_BACKLOG_MAX: usize = 500_000;
/// How often a waiting linker asks whether the surge has passed, in ms.
const LINK_WAIT_MS: u64 = 100;
/// How often an idle linker looks for requests other nodes stored, in ms (its own node's
/// intake wakes it at once).
pub const LINK_POLL_MS: u64 = 200;
/// How long the linkage lease lasts unless renewed, in ms: when its holder dies, another node
/// takes the work over within this and one renewal period.
pub const LINKAGE_LEASE_MS: u64 = 5_000;
/// How often the linkage worker renews the lease (or tries to take it), in ms.
pub const LINKAGE_LEASE_RENEW_MS: u64 = 1_000;
/// Relinks hold a lease of this name, so they run one at a time whichever node or console
/// starts them: two at once would each forget and keep the same people's keys, and one could
/// find people the other kept but had not keyed yet, leave them, and keep a model under which
/// no key finds them.
pub const RELINK_LEASE: &str = "relink";
/// How long a relink's lease lasts unless renewed, in ms: a relink waiting behind one whose
/// node died starts within this.
const RELINK_LEASE_MS: u64 = 15_000;
/// How often a running relink renews its lease, in ms.
const RELINK_LEASE_RENEW_MS: u64 = 1_000;
/// How often a waiting relink asks for the lease, in ms (one row's update).
const RELINK_LEASE_ASK_MS: u64 = 200;

/// The linker's in-memory state: the model it scores with. The people it matches against are
/// the store's (their kept keys), so a node holds no index of them and takes the work up at
/// once.
#[derive(Default)]
pub(crate) struct Linker {
    state: Mutex<Option<LinkState>>,
    /// Whether `state` holds a model, so this node matches: read on every submission without
    /// taking the lock.
    matching: std::sync::atomic::AtomicBool,
    /// The node name this app's linkage worker holds the lease as: its settlements are fenced
    /// by the lease. Unset in an app without a worker (a CLI command, a test).
    lease_holder: std::sync::OnceLock<String>,
    /// Whether taking the kept model up (or the first relink) is running: the worker starts
    /// it when it takes the lease and this node does not match.
    starting: std::sync::atomic::AtomicBool,
    /// Whether a relink for a crisis that outgrew the model is running, while matching goes
    /// on.
    relearning: std::sync::atomic::AtomicBool,
    /// When learning the model again last failed: the next try waits
    /// [`RELEARN_RETRY_AFTER`], so a relink that cannot finish (memory, a lost lease) is not
    /// started again at every renewal of the lease.
    relearn_failed_at: Mutex<Option<std::time::Instant>>,
    /// Moved on by every `forget`: a relink that started before keeps its model to itself.
    epoch: std::sync::atomic::AtomicU64,
}

struct LinkState {
    /// What every match is scored with. Shared with the batch being matched, so a reviewer's
    /// decision refining it never waits for a batch.
    model: std::sync::Arc<evac_link::Model>,
    matches_observed: f64,
    /// People the model learnt from, and people kept now (as far as this node knows): once
    /// the crisis has grown to [`RELEARN_GROWTH`] times what the model saw, a relink learns
    /// it again in the background while matching goes on.
    learnt_from: u64,
    kept: u64,
}

/// How much the crisis grows before the model is learnt again: a model learnt on the first
/// hundred requests would score the next hundred thousand by what a hundred showed.
const RELEARN_GROWTH: u64 = 2;
/// People below which the model is not learnt again for growth (a relink of a small store
/// costs little, but neither does a model learnt on it differ much).
const RELEARN_PERSONS_MIN: u64 = 1_000;
/// How long after a failed relearning the next is tried (the one before goes on matching).
const RELEARN_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The model as the store keeps it ([`evac_store::StoredLinkModel::model`]): the linkage
/// core's parameters, and how many observed matches reviewers' decisions weigh against.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptModel {
    model: evac_link::StoredModel,
    matches_observed: f64,
}

/// People whose keys a relink stores in one transaction.
const KEY_PAGE_PERSONS: usize = 8_192;
/// Keys a relink that keys a whole store writes in one transaction, in key order.
const KEY_PAGE_ROWS: usize = 65_536;

/// Link records a relink hands to its preparing thread at a time.
const PREPARE_PAGE_RECORDS: usize = 8_192;
/// Pages of link records waiting for the preparing thread at most: reading the store waits
/// when preparing falls behind, so a relink holds a few pages of raw records, never all.
const PREPARE_PAGES_QUEUED_MAX: usize = 4;

/// What a relink did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RelinkSummary {
    pub persons: usize,
    pub auto_merged: usize,
    pub queued_for_review: usize,
    /// Where the time went, so a slow relink says which step to look at.
    pub took: RelinkTimes,
}

/// The wall time of each step of a relink, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RelinkTimes {
    /// Reading every request and turning its people into link records.
    pub read_requests_ms: u64,
    /// Reading the link log and folding it.
    pub read_log_ms: u64,
    /// The linkage core: preparing, blocking, learning the model, scoring, clustering.
    pub link_ms: u64,
    /// Logging the new merges and review items.
    pub log_ms: u64,
    /// Keeping every person's blocking keys and the model, which matching on arrival reads.
    pub keys_ms: u64,
}

impl std::fmt::Display for RelinkTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reading requests {} ms, the link log {} ms, linking {} ms, logging {} ms, keeping keys {} ms",
            self.read_requests_ms, self.read_log_ms, self.link_ms, self.log_ms, self.keys_ms
        )
    }
}

/// A spawned store call's answer, or why it did not run to its end.
fn joined<T>(
    outcome: Result<Result<T, StoreError>, tokio::task::JoinError>,
) -> Result<T, AppError> {
    outcome
        .map_err(|e| AppError::Conflict(Refusal::other(format!("a store write stopped: {e}"))))?
        .map_err(AppError::from)
}

/// One store write in flight while the caller prepares the next (a relink's log a chunk at a
/// time, its keys a page at a time): a write starts once the one before it has ended, so the
/// preparing overlaps the committing and at most one commits at a time.
struct WriteBehind<T> {
    in_flight: Option<tokio::task::JoinHandle<Result<T, StoreError>>>,
}

impl<T: Send + 'static> WriteBehind<T> {
    fn new() -> Self {
        WriteBehind { in_flight: None }
    }

    /// Waits for the write in flight, then starts `write`; the answer is the write that ended
    /// (`None`: none was in flight).
    async fn start(
        &mut self,
        write: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<Option<T>, AppError> {
        let ended = self.finish().await?;
        self.in_flight = Some(tokio::spawn(write));
        Ok(ended)
    }

    /// Waits for the write in flight; its answer (`None`: none was in flight).
    async fn finish(&mut self) -> Result<Option<T>, AppError> {
        match self.in_flight.take() {
            Some(write) => joined(write.await).map(Some),
            None => Ok(None),
        }
    }
}

/// Milliseconds since `since`, and restarts it: one step's share of a relink.
fn lap(since: &mut std::time::Instant) -> u64 {
    let ms = since.elapsed().as_millis() as u64;
    *since = std::time::Instant::now();
    ms
}

/// The linkage as the log says it is now.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LinkView {
    /// Pairs that are one person now, with the event that made them so.
    pub merged: Vec<(PersonId, PersonId, i64)>,
    /// Review items waiting for a decision (not those whose two people other merges already
    /// make one person).
    pub pending: Vec<StoredLinkEvent>,
    /// Every pair the log has spoken about (never queued twice).
    pub known_pairs: HashSet<(PersonId, PersonId)>,
    /// Pairs a case officer decided are two people, with that decision's event.
    pub told_apart: Vec<(PersonId, PersonId, i64)>,
    /// Automatic merges not applied, by their events' seqs: each would have made one person
    /// of two that a case officer told apart (through their other records). They wait in
    /// `pending` for a human.
    pub held_apart: HashSet<i64>,
}

fn pair(a: PersonId, b: PersonId) -> (PersonId, PersonId) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Link events' sequence numbers as staff read them: "12, 15".
fn seqs(seqs: &[i64]) -> String {
    seqs.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl LinkView {
    /// The merges, by their events' seqs, that make `a` and `b` one person without the pair's
    /// own link: the shortest chain through other people, or `None` when only their own link
    /// (or nothing) joins them.
    pub fn joined_through_others(&self, a: PersonId, b: PersonId) -> Option<Vec<i64>> {
        self.merges_between(a, b, Some(pair(a, b)))
    }

    /// The merges, by their events' seqs, of the shortest chain that makes `a` and `b` one
    /// person, leaving out the link of the pair `skip`; `None` when none does (or `a` is
    /// `b`: no merge is needed).
    fn merges_between(
        &self,
        a: PersonId,
        b: PersonId,
        skip: Option<(PersonId, PersonId)>,
    ) -> Option<Vec<i64>> {
        let mut edges: HashMap<PersonId, Vec<(PersonId, i64)>> = HashMap::new();
        for &(x, y, seq) in self
            .merged
            .iter()
            .filter(|&&(x, y, _)| Some(pair(x, y)) != skip)
        {
            edges.entry(x).or_default().push((y, seq));
            edges.entry(y).or_default().push((x, seq));
        }
        // Breadth first from `a`, remembering how each person was reached.
        let mut reached: HashMap<PersonId, Option<(PersonId, i64)>> = HashMap::from([(a, None)]);
        let mut frontier = std::collections::VecDeque::from([a]);
        while let Some(at) = frontier.pop_front() {
            for &(next, seq) in edges.get(&at).into_iter().flatten() {
                if reached.contains_key(&next) {
                    continue;
                }
                reached.insert(next, Some((at, seq)));
                if next == b {
                    let mut path = Vec::new();
                    let mut step = b;
                    while let Some(Some((from, seq))) = reached.get(&step) {
                        path.push(*seq);
                        step = *from;
                    }
                    path.sort_unstable();
                    return Some(path);
                }
                frontier.push_back(next);
            }
        }
        None
    }

    /// The groups of records its merges make one person.
    pub fn groups(&self) -> Groups {
        let mut groups = Groups::default();
        for &(a, b, _) in &self.merged {
            let (ra, rb) = (groups.find(a), groups.find(b));
            if ra != rb {
                groups.join(ra.max(rb), ra.min(rb));
            }
        }
        groups
    }

    /// The "two people" decision (its event's seq) that merging `a` and `b` would
    /// contradict: one between a record of `a`'s group and one of `b`'s (`groups`, from
    /// [`LinkView::groups`]). `None` when nothing says so, or when they are one person already.
    pub fn told_apart_if_joined(
        &self,
        groups: &mut Groups,
        a: PersonId,
        b: PersonId,
    ) -> Option<i64> {
        let (ra, rb) = (groups.find(a), groups.find(b));
        if ra == rb {
            return None;
        }
        self.told_apart.iter().find_map(|&(x, y, seq)| {
            let (rx, ry) = (groups.find(x), groups.find(y));
            ((rx, ry) == (ra, rb) || (rx, ry) == (rb, ra)).then_some(seq)
        })
    }

    /// Why a decision on `a` and `b` (the same person, or two) would contradict the other
    /// decisions and merges: "same person" on two records whose groups hold a pair told apart
    /// (naming that decision and the merges that join each side to it: often one of them, a
    /// copy merged with the wrong person, is what should be undone); "two people" on two
    /// records other merges make one person (naming them). `None`: it may be taken.
    fn contradicted(&self, a: PersonId, b: PersonId, same_person: bool) -> Option<AppError> {
        if !same_person {
            let links = self.joined_through_others(a, b)?;
            let links = seqs(&links);
            return Some(AppError::Conflict(
                Refusal::new(
                    RefusalKind::PairJoinedThroughOthers,
                    format!(
                        "these two are one person through other links (link events {links}): a distinct decision on this pair alone would not part them; undo the link that is wrong first, then decide"
                    ),
                )
                .text("links", links),
            ));
        }
        let mut groups = self.groups();
        let apart = self.told_apart_if_joined(&mut groups, a, b)?;
        let links: Vec<i64> = self
            .told_apart
            .iter()
            .filter(|t| t.2 == apart)
            .flat_map(|&(x, y, _)| {
                let (with_a, with_b) = if groups.find(x) == groups.find(a) {
                    (x, y)
                } else {
                    (y, x)
                };
                [(a, with_a), (b, with_b)]
            })
            .flat_map(|(from, to)| self.merges_between(from, to, None).unwrap_or_default())
            .collect();
        let links = if links.is_empty() {
            "-".to_string()
        } else {
            seqs(&links)
        };
        Some(AppError::Conflict(
            Refusal::new(
                RefusalKind::PairToldApartThroughOthers,
                format!(
                    "joining these two would make one person of two records a case officer told apart (link event {apart}), through the links {links}: undo whichever is wrong first (a link, or that decision), then decide"
                ),
            )
            .text("seq", apart)
            .text("links", links),
        ))
    }

    /// Folds the log: per pair, the last event not undone decides. An undone auto-merge goes
    /// back to the review queue (somebody doubted it; somebody should decide).
    ///
    /// A case officer's "two people" holds against the machine's merges through other
    /// records too: merges apply in the log's order, and an automatic merge that would make
    /// one person of two told apart (a new record of one matched to the other, a re-match
    /// after a correction) is held apart and waits for a human instead. The fold is a function
    /// of the log alone, so every node and every page reads the same households whatever
    /// order the matchers ran in.
    pub fn from_events(events: &[StoredLinkEvent]) -> LinkView {
        let undone: HashSet<i64> = events
            .iter()
            .filter(|e| e.event.kind == LinkEventKind::Undo)
            .filter_map(|e| e.event.refers_to)
            .collect();
        let mut by_pair: BTreeMap<(PersonId, PersonId), Vec<&StoredLinkEvent>> = BTreeMap::new();
        for e in events
            .iter()
            .filter(|e| e.event.kind != LinkEventKind::Undo)
        {
            by_pair
                .entry(pair(e.event.person_a, e.event.person_b))
                .or_default()
                .push(e);
        }
        let mut view = LinkView::default();
        // The pairs' decisive events, with the pair and the place in the log's order each
        // takes effect from.
        let mut asked: Vec<(i64, &StoredLinkEvent, (PersonId, PersonId))> = Vec::new();
        for (key, pair_events) in by_pair {
            view.known_pairs.insert(key);
            let live: Vec<&&StoredLinkEvent> = pair_events
                .iter()
                .filter(|e| !undone.contains(&e.seq))
                .collect();
            let decisive = live.iter().rev().find(|e| {
                matches!(
                    e.event.kind,
                    LinkEventKind::AutoMerge | LinkEventKind::Match | LinkEventKind::Distinct
                )
            });
            match decisive {
                Some(e) => {
                    // A merge holds from the first of the merging events since the last "two
                    // people" (an officer's "same person" confirming the machine's merge
                    // keeps the merge where it was, not at the confirmation).
                    let since = live
                        .iter()
                        .rev()
                        .take_while(|m| m.event.kind != LinkEventKind::Distinct)
                        .filter(|m| {
                            matches!(
                                m.event.kind,
                                LinkEventKind::AutoMerge | LinkEventKind::Match
                            )
                        })
                        .map(|m| m.seq)
                        .min()
                        .unwrap_or(e.seq);
                    asked.push((since, **e, key));
                }
                None => {
                    // Waiting: the review item, or the undone auto-merge standing in for one.
                    if let Some(item) = pair_events.iter().rev().find(|e| {
                        e.event.kind == LinkEventKind::Review
                            || (e.event.kind == LinkEventKind::AutoMerge && undone.contains(&e.seq))
                    }) {
                        view.pending.push((*item).clone());
                    }
                }
            }
        }
        // The decisions in the log's order: each merge joins two groups of records (one
        // person each) unless a "two people" logged before it parts them; by group, the
        // records its members were told apart from.
        let mut groups = Groups::default();
        let mut apart: HashMap<PersonId, Vec<PersonId>> = HashMap::new();
        asked.sort_unstable_by_key(|(since, e, _)| (*since, e.seq));
        for (_, e, (a, b)) in asked {
            let seq = e.seq;
            let (ra, rb) = (groups.find(a), groups.find(b));
            if e.event.kind == LinkEventKind::Distinct {
                // A "two people" logged after the merges that join its pair parts nothing
                // (deciding it sees them and is refused; one decided beside them is
                // withdrawn): it is not shown as told apart either.
                if ra != rb {
                    view.told_apart.push((a, b, seq));
                    apart.entry(ra).or_default().push(b);
                    apart.entry(rb).or_default().push(a);
                }
                continue;
            }
            if ra == rb {
                view.merged.push((a, b, seq));
                continue;
            }
            let (into, from) = (ra.min(rb), ra.max(rb));
            // Held apart whoever merged: the machine, or an officer whose "same person" was
            // decided beside another's "two people" (`decide_link` refuses one that sees it,
            // but two decisions on two pairs at once each pass the check alone).
            let told_apart = apart
                .get(&from)
                .into_iter()
                .flatten()
                .any(|&p| groups.find(p) == into);
            if told_apart {
                view.held_apart.insert(seq);
                view.pending.push(e.clone());
                continue;
            }
            groups.join(from, into);
            view.merged.push((a, b, seq));
            if let Some(moved) = apart.remove(&from) {
                apart.entry(into).or_default().extend(moved);
            }
        }
        // A pair other merges already make one person is answered: asking it again (a
        // family's copies asked three times over) only lets a "two people" be refused.
        view.pending
            .retain(|e| groups.find(e.event.person_a) != groups.find(e.event.person_b));
        view.pending.sort_by_key(|e| e.seq);
        view
    }
}

/// Records joined into groups, one person each (a union-find over person ids; a record no
/// merge names is a group of its own).
#[derive(Debug, Default, Clone)]
pub struct Groups {
    up: HashMap<PersonId, PersonId>,
}

impl Groups {
    /// The record that names `p`'s group.
    pub fn find(&mut self, p: PersonId) -> PersonId {
        let mut at = p;
        while let Some(&up) = self.up.get(&at).filter(|&&up| up != at) {
            at = up;
        }
        // Straight to the top next time, for every record on the way.
        let mut step = p;
        while step != at {
            let next = self.up[&step];
            self.up.insert(step, at);
            step = next;
        }
        at
    }

    /// Joins group `from` into group `into` (both named by [`Groups::find`]).
    fn join(&mut self, from: PersonId, into: PersonId) {
        self.up.insert(from, into);
    }
}

/// The events of one pair of persons, from the whole log: what a decision on the pair reads.
struct PairEvents<'a> {
    a: PersonId,
    b: PersonId,
    events: Vec<&'a StoredLinkEvent>,
}

impl<'a> PairEvents<'a> {
    fn of(log: &'a [StoredLinkEvent], a: PersonId, b: PersonId) -> Self {
        let key = pair(a, b);
        PairEvents {
            a,
            b,
            events: log
                .iter()
                .filter(|e| pair(e.event.person_a, e.event.person_b) == key)
                .collect(),
        }
    }

    /// The condition an append about this pair goes ahead on: nothing logged about it since.
    fn head(&self) -> AppendIf {
        AppendIf::PairHeadIs(self.a, self.b, self.events.last().map_or(0, |e| e.seq))
    }

    fn undone(&self, seq: i64) -> bool {
        self.events
            .iter()
            .any(|e| e.event.kind == LinkEventKind::Undo && e.event.refers_to == Some(seq))
    }

    /// A staff decision (match or distinct) not undone, if any: the newest.
    fn live_decision(&self) -> Option<&'a StoredLinkEvent> {
        self.events.iter().rev().copied().find(|e| {
            matches!(e.event.kind, LinkEventKind::Match | LinkEventKind::Distinct)
                && !self.undone(e.seq)
        })
    }
}

/// One side of a review item, as a case officer compares it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LinkedPerson {
    pub person_id: PersonId,
    pub request_id: RequestId,
    pub reference: String,
    pub channel: String,
    pub received_at: Timestamp,
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    /// The birth date ("1980-01-26"), or an age stated on a day as "41 (2022-01-05)".
    pub birth: Option<String>,
    pub location: String,
}

/// A pair waiting for a decision, with the evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub seq: i64,
    pub match_probability: f64,
    pub explanation: serde_json::Value,
    pub a: LinkedPerson,
    pub b: LinkedPerson,
}

/// A person of a request and the persons in other requests linked to them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PersonLinks {
    pub person_id: PersonId,
    /// Other records of the same person: (person id, request id, the link event's seq).
    pub same_as: Vec<SameAs>,
    /// Records a case officer decided are another person ("two people"), with that
    /// decision's seq: what undoing the decision reopens.
    pub told_apart: Vec<SameAs>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SameAs {
    pub person_id: PersonId,
    pub request_id: RequestId,
    /// The other request's reference code, as staff name it.
    pub reference: String,
    pub link_seq: i64,
}

/// A request's place in the linkage: its people's other records and its household's requests.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RequestLinks {
    pub request_id: RequestId,
    pub persons: Vec<PersonLinks>,
    /// Every request of the same household (this one included), oldest id first.
    pub household_requests: Vec<RequestId>,
}

impl App {
    /// Links every stored request from scratch: learns the model, logs new auto-merges and
    /// review items (pairs the log already knows are left as decided), keeps every person's
    /// blocking keys and the model in the store, and matches new requests on arrival with it.
    pub async fn relink(&self) -> Result<RelinkSummary, AppError> {
        self.relink_unless(false)
            .await
            .map(|done| done.expect("relinks when not asked to take a kept model up"))
    }

    /// Relinks, one at a time: a second waits for the first to finish (or its lease to run
    /// out). With `or_take_up`, when another relink ran meanwhile and kept a model, takes that
    /// model up instead (`None`): a node starting to link need not relink twice.
    async fn relink_unless(&self, or_take_up: bool) -> Result<Option<RelinkSummary>, AppError> {
        // Read before waiting: a node that stops linking meanwhile does not take the model up.
        let epoch = self.linker.epoch.load(std::sync::atomic::Ordering::Acquire);
        let lease = RelinkLease::take(self.store.clone()).await?;
        let done = async {
            if or_take_up && lease.waited && self.take_up_kept_linkage().await? {
                return Ok(None);
            }
            self.relink_holding_the_lease(&lease, epoch).await.map(Some)
        }
        .await;
        lease.give_up().await;
        done
    }

    async fn relink_holding_the_lease(
        &self,
        lease: &RelinkLease,
        epoch: u64,
    ) -> Result<RelinkSummary, AppError> {
        // Keys kept by another release (or by a relink that stopped before keeping its model)
        // may be made otherwise: all are made again.
        let kept_as_now = self
            .store
            .link_model()
            .await?
            .is_some_and(|kept| kept.keys_fingerprint == evac_link::block::keys_fingerprint());
        if !kept_as_now {
            self.store.forget_link_keys().await?;
        }
        // Read before the requests: keys made from a request corrected meanwhile are not kept
        // (evac_store::LINK_KEYS_GENERATION), and the correction left it due.
        let read_at = self
            .store
            .generation(evac_store::LINK_KEYS_GENERATION)
            .await?;
        let mut took = RelinkTimes::default();
        let mut step = std::time::Instant::now();
        // Pages of records go to a blocking thread that prepares them on every core while the
        // next pages are read: only their prepared form is kept, never every record at once.
        let (pages, arriving) =
            tokio::sync::mpsc::channel::<Vec<LinkRecord>>(PREPARE_PAGES_QUEUED_MAX);
        let preparing = tokio::task::spawn_blocking(move || {
            let mut arriving = arriving;
            let mut batch = evac_link::Batch::default();
            while let Some(page) = arriving.blocking_recv() {
                batch.add(page);
            }
            batch
        });
        let mut page = Vec::new();
        // Record `i` of the linkage is `persons[i]`: the order the records were added in.
        let mut persons: Vec<(PersonId, RequestId)> = Vec::new();
        let read: Result<(), AppError> = async {
            let mut after = None;
            loop {
                let (requests, next) = self.requests_after(after).await?;
                for stored in &requests {
                    for (record, person) in records_of_request(&stored.request)
                        .into_iter()
                        .zip(&stored.request.body.party)
                    {
                        persons.push((person.id, stored.request.id));
                        page.push(record);
                    }
                }
                if page.len() >= PREPARE_PAGE_RECORDS {
                    // Sent while the thread runs (it ends only when `pages` is dropped), after
                    // waiting for room; should it have stopped, its error is read below.
                    let _ = pages.send(std::mem::take(&mut page)).await;
                }
                match next {
                    Some(next) => after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        .await;
        let _ = pages.send(page).await;
        drop(pages);
        let batch = preparing.await.map_err(|e| {
            AppError::Conflict(Refusal::other(format!(
                "preparing for linkage stopped: {e}"
            )))
        })?;
        read?;
        took.read_requests_ms = lap(&mut step);
        let known_pairs = self.known_link_pairs().await?;
        took.read_log_ms = lap(&mut step);
        let person_count = batch.len();
        let linkage = tokio::task::spawn_blocking(move || batch.link(&LinkSettings::default()))
            .await
            .map_err(|e| AppError::Conflict(Refusal::other(format!("linkage stopped: {e}"))))?
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        took.link_ms = lap(&mut step);
        debug_assert!(persons.len() == linkage.record_ids.len());
        let who = |i: u32| persons[i as usize];
        let now = Timestamp::now();
        // Merges first, then review items, each logged a chunk at a time as it is explained
        // (an explanation is a few hundred bytes: a relink's worth at once would be hundreds of
        // MB). The store skips pairs another relink (another node starting) logged meanwhile,
        // so the counts are what this relink added.
        let (mut auto_merged, mut queued) = (0, 0);
        for (kind, added) in [
            (LinkEventKind::AutoMerge, &mut auto_merged),
            (LinkEventKind::Review, &mut queued),
        ] {
            let auto_merges = kind == LinkEventKind::AutoMerge;
            let mut new_of_kind: Vec<&evac_link::LinkedPair> = linkage
                .pairs
                .iter()
                .filter(|p| {
                    let ((a, _), (b, _)) = (who(p.a), who(p.b));
                    (p.band == Band::AutoMerge && p.same_person) == auto_merges
                        && !known_pairs.contains(&pair(a, b))
                })
                .collect();
            // In the order of the log's pair index, so each commit writes a few of its pages
            // instead of one per event (a relink's order is the requests', not the persons').
            new_of_kind.sort_unstable_by_key(|p| pair(who(p.a).0, who(p.b).0));
            // Each chunk is explained while the one before it commits.
            let mut writes = WriteBehind::new();
            for pairs in new_of_kind.chunks(PAGE_ITEMS_MAX as usize) {
                let events = pairs
                    .iter()
                    .map(|p| {
                        let ((a, _), (b, _)) = (who(p.a), who(p.b));
                        let mut score = linkage.explain(p.a, p.b);
                        if p.band == Band::AutoMerge && !p.same_person {
                            score.doubts.insert(0, Doubt::WouldJoinDistinctPeople);
                        }
                        link_event(kind, a, b, &score, now, Actor::System, None)
                    })
                    .collect();
                // Pairs of requests corrected since this relink read them were made from
                // bodies replaced since (they are due, and matched as they read now): the
                // store leaves them out as it appends.
                let store = self.store.clone();
                *added += writes
                    .start(async move { store.append_relinked_pairs(events, read_at).await })
                    .await?
                    .unwrap_or(0);
            }
            *added += writes.finish().await?.unwrap_or(0);
        }
        took.log_ms = lap(&mut step);
        let matches_observed = linkage.pairs.iter().filter(|p| p.same_person).count() as f64;
        // Only the records and the model are needed now: the pairs and clusters go.
        let evac_link::Linkage {
            prepared, model, ..
        } = linkage;
        lease.still_held()?;
        if kept_as_now {
            self.keep_keys(prepared, persons, read_at).await?;
        } else {
            self.keep_all_keys(prepared, persons, read_at).await?;
        }
        lease.still_held()?;
        let kept = KeptModel {
            model: evac_link::StoredModel::from(&model),
            matches_observed,
        };
        let model = std::sync::Arc::new(model);
        let saved = tokio::task::spawn_blocking(move || serde_json::to_string(&kept))
            .await
            .map_err(|e| {
                AppError::Conflict(Refusal::other(format!("keeping the model stopped: {e}")))
            })?
            .map_err(|e| {
                AppError::Conflict(Refusal::other(format!("the model cannot be kept: {e}")))
            })?;
        self.store
            .save_link_model(evac_store::StoredLinkModel {
                model: saved,
                keys_fingerprint: evac_link::block::keys_fingerprint(),
                persons: person_count as u64,
                saved_at: now,
            })
            .await?;
        took.keys_ms = lap(&mut step);
        let audit = AuditEvent {
            at: now,
            actor: Actor::System,
            action: "link.relink".into(),
            subject: None,
            detail: serde_json::json!({
                "persons": person_count, "auto_merged": auto_merged, "queued_for_review": queued,
            }),
        };
        self.store.append_audit(vec![audit]).await?;
        self.ranking_is_stale().await;
        self.linker.take_up(
            epoch,
            LinkState {
                model,
                matches_observed,
                learnt_from: person_count as u64,
                kept: person_count as u64,
            },
        );
        // What was stored while this relink read, and is not kept by it, stays due: the
        // next wake-up links it (this node's next intake, the lease worker's next renewal, a
        // wait for linking to catch up). Not woken here: before this node's worker holds the
        // lease (`evac demo` relinks first), its fenced settlement would be refused and the
        // model dropped.
        Ok(RelinkSummary {
            persons: person_count,
            auto_merged,
            queued_for_review: queued,
            took,
        })
    }

    /// Keeps the blocking keys of every relinked person not kept yet (the relink read them
    /// after generation `read_at` of the kept keys), a page at a time: each page's keys are
    /// made on every core while the page before commits.
    async fn keep_keys(
        &self,
        prepared: Vec<Prepared>,
        persons: Vec<(PersonId, RequestId)>,
        read_at: i64,
    ) -> Result<(), AppError> {
        let prepared = std::sync::Arc::new(prepared);
        let mut writes = WriteBehind::new();
        for start in (0..persons.len()).step_by(KEY_PAGE_PERSONS) {
            let end = (start + KEY_PAGE_PERSONS).min(persons.len());
            let page: Vec<PersonId> = persons[start..end].iter().map(|(p, _)| *p).collect();
            // A relink after the first finds nearly everyone kept: only the rest are keyed.
            let kept: HashSet<PersonId> =
                self.store.keyed_persons(&page).await?.into_iter().collect();
            let missing: Vec<usize> = (start..end)
                .filter(|&i| !kept.contains(&persons[i].0))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let keyed = keyed_page(&prepared, &persons, missing).await?;
            let store = self.store.clone();
            writes
                .start(async move { store.key_persons(keyed, read_at).await })
                .await?;
        }
        writes.finish().await?;
        Ok(())
    }

    /// Keeps every relinked person's keys in a store that keeps none (a first relink, or one
    /// after another release made keys otherwise): the people a page at a time, then every
    /// key in key order, so each B-tree page of the keys is written once rather than once a
    /// key (a person's keys scatter over the whole key space, and beyond a few hundred
    /// thousand people every key dirtied a page of its own). Until the model is kept at the end
    /// no start takes these keys up, so a relink that stops halfway leaves nothing half-kept
    /// in use.
    async fn keep_all_keys(
        &self,
        prepared: Vec<Prepared>,
        persons: Vec<(PersonId, RequestId)>,
        read_at: i64,
    ) -> Result<(), AppError> {
        let prepared = std::sync::Arc::new(prepared);
        let mut rows: Vec<(u64, i64)> = Vec::new();
        for start in (0..persons.len()).step_by(KEY_PAGE_PERSONS) {
            let end = (start + KEY_PAGE_PERSONS).min(persons.len());
            let keyed = keyed_page(&prepared, &persons, (start..end).collect()).await?;
            let nums = self.store.keep_link_people(keyed.clone(), read_at).await?;
            // Kept already (by another relink, or the linker): its keys are in place. Of a
            // request corrected since it was read: left for the linker, as it reads now.
            for (k, num) in keyed.into_iter().zip(nums) {
                if let Some(num) = num {
                    rows.extend(k.keys.into_iter().map(|key| (key, num)));
                }
            }
        }
        drop(prepared);
        let rows = tokio::task::spawn_blocking(move || {
            let mut rows = rows;
            evac_store::sort_key_rows(&mut rows);
            rows
        })
        .await
        .map_err(|e| AppError::Conflict(Refusal::other(format!("sorting keys stopped: {e}"))))?;
        let mut writes = WriteBehind::new();
        for chunk in rows.chunks(KEY_PAGE_ROWS) {
            let chunk = chunk.to_vec();
            let store = self.store.clone();
            writes
                .start(async move { store.index_link_keys(chunk).await })
                .await?;
        }
        writes.finish().await?;
        Ok(())
    }

    /// Takes up the model and keys the store keeps, if a relink kept them with keys made as
    /// this build makes them: matching on arrival starts at once, with no relink. The answer
    /// is whether it did.
    async fn take_up_kept_linkage(&self) -> Result<bool, AppError> {
        let epoch = self.linker.epoch.load(std::sync::atomic::Ordering::Acquire);
        let Some(kept) = self.store.link_model().await? else {
            return Ok(false);
        };
        if kept.keys_fingerprint != evac_link::block::keys_fingerprint() {
            tracing::info!("the kept link keys were made by another release: relinking");
            return Ok(false);
        }
        let parsed =
            tokio::task::spawn_blocking(move || serde_json::from_str::<KeptModel>(&kept.model))
                .await
                .map_err(|e| {
                    AppError::Conflict(Refusal::other(format!("reading the model stopped: {e}")))
                })?;
        let model = match parsed {
            Ok(model) => model,
            Err(e) => {
                tracing::warn!(error = %e, "the kept linkage model cannot be read: relinking");
                return Ok(false);
            }
        };
        let people = self.store.keyed_person_count().await?;
        Ok(self.linker.take_up(
            epoch,
            LinkState {
                model: std::sync::Arc::new(model.model.into()),
                matches_observed: model.matches_observed,
                learnt_from: kept.persons,
                kept: people,
            },
        ))
    }

    /// Tells this node's linker that a request was just stored: when this node links, it looks
    /// at once instead of at its next poll. Never waits for it: the acknowledgement depends on
    /// the commit alone (see [`OnlineLinker`]); the request's due mark is what is durable.
    pub(crate) fn queue_for_linking(&self, _request: RequestId) {
        // Without a model this node does not link: the lease holder polls the store.
        if self.linker.is_matching() {
            self.wake_linker();
        }
    }

    fn wake_linker(&self) {
        self.online_linker
            .get_or_init(|| OnlineLinker::start(self.store.clone(), self.linker.clone()))
            .wake();
    }

    /// Whether this node matches new requests on arrival now (it holds the linkage lease and
    /// has taken the model up).
    pub fn matches_on_arrival(&self) -> bool {
        self.linker.is_matching()
    }

    /// Waits until no stored request waits for linking, when this app links (it has a model):
    /// for tests, and for anyone who must read the links of a request just submitted.
    pub async fn linking_caught_up(&self) {
        while self.linker.is_matching() {
            self.wake_linker();
            match self.store.links_due(1).await {
                Ok(due) if due.is_empty() => return,
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot tell whether linking caught up");
                    return;
                }
            }
        }
    }

    /// How many stored requests wait for linking.
    pub async fn links_due(&self) -> Result<u64, AppError> {
        Ok(self.store.links_due_count().await?)
    }

    /// Starts this node's linkage worker: it takes the `linkage` lease as `node` whenever it is
    /// free (node names must be unique among running nodes), relinks when it takes it, and
    /// then links every request any node stores, until [`LinkageWorker::stop`] or the lease is
    /// lost. Every node runs one; one holds the lease.
    pub fn start_linkage_worker(&self, node: &str) -> LinkageWorker {
        let _ = self.linker.lease_holder.set(node.to_string());
        let app = self.clone();
        let holder = node.to_string();
        let task = tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(std::time::Duration::from_millis(LINKAGE_LEASE_RENEW_MS));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut held = false;
            let mut renewed = std::time::Instant::now();
            loop {
                tick.tick().await;
                let now = Timestamp::now();
                let until = Timestamp::from_unix_micros(
                    now.unix_micros() + LINKAGE_LEASE_MS as i64 * 1_000,
                );
                match app
                    .store
                    .take_lease(evac_store::LINKAGE_LEASE, &holder, now, until)
                    .await
                {
                    Ok(true) => {
                        renewed = std::time::Instant::now();
                        if !held {
                            tracing::info!(node = %holder, "this node links every node's requests (it holds the linkage lease)");
                        }
                        held = true;
                        app.link_while_leased();
                    }
                    Ok(false) => {
                        if held || app.linker.is_matching() {
                            tracing::info!(node = %holder, "another node holds the linkage lease; this one stops linking");
                            app.linker.forget();
                        }
                        held = false;
                    }
                    // The fence keeps a node that cannot renew from writing; it tries again.
                    // Once its lease has surely run out, another node may have linked meanwhile,
                    // so it stops: its model is forgotten, and taken up again if the lease
                    // comes back.
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot renew the linkage lease");
                        if held
                            && renewed.elapsed()
                                > std::time::Duration::from_millis(LINKAGE_LEASE_MS)
                        {
                            app.linker.forget();
                            held = false;
                        }
                    }
                }
            }
        });
        LinkageWorker {
            task,
            app: self.clone(),
            node: node.to_string(),
        }
    }

    /// With the lease held: takes the kept model up when this node does not match yet (or
    /// relinks, when none is kept), in the background while the worker goes on renewing;
    /// relinks in the background when the crisis has outgrown the model; and makes sure the
    /// linker looks at the queue.
    fn link_while_leased(&self) {
        use std::sync::atomic::Ordering::AcqRel;
        if self.linker.is_matching() {
            self.wake_linker();
            if self.linker.outgrown()
                && !self.linker.failed_lately()
                && !self.linker.relearning.swap(true, AcqRel)
            {
                let app = self.clone();
                tokio::spawn(async move {
                    let _clears = ClearsFlag(app.linker.clone(), |l| &l.relearning);
                    tracing::info!(
                        "the crisis has outgrown the linkage model (or an older release learnt it): learning it again while matching goes on"
                    );
                    if let Err(e) = app.relink().await {
                        *app.linker.relearn_failed_at.lock().expect("linker lock") =
                            Some(std::time::Instant::now());
                        tracing::warn!(
                            error = %e,
                            retry_after_minutes = RELEARN_RETRY_AFTER.as_secs() / 60,
                            "learning the linkage model again failed; matching goes on with the one before until it is tried again"
                        );
                    }
                });
            }
            return;
        }
        if self.linker.starting.swap(true, AcqRel) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let _clears = ClearsFlag(app.linker.clone(), |l| &l.starting);
            match app.take_up_kept_linkage().await {
                Ok(true) => {
                    tracing::info!(
                        "linkage ready from the kept keys: new requests are matched on arrival"
                    );
                    app.wake_linker();
                }
                Ok(false) => match app.relink_unless(true).await {
                    Ok(None) => {
                        tracing::info!(
                            "linkage ready from the keys another relink kept meanwhile: new requests are matched on arrival"
                        );
                        app.wake_linker();
                    }
                    Ok(Some(s)) => {
                        tracing::info!(
                            persons = s.persons,
                            auto_merged = s.auto_merged,
                            queued_for_review = s.queued_for_review,
                            "linkage ready: new requests are matched on arrival"
                        );
                        app.wake_linker();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "linkage could not start; trying again while this node holds the lease")
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "the kept linkage could not be read; trying again while this node holds the lease")
                }
            }
        });
    }

    /// The link events a walk of `stored`'s household needs: every event about a person of
    /// its household, found by following merges out from its people a round of reads at a
    /// time (a household is a few requests; the whole log is hundreds of thousands of events
    /// in a large crisis). Each pair's events are all there, so the fold of these events
    /// says of the household what the fold of the whole log says.
    pub(crate) async fn link_events_around(
        &self,
        stored: &evac_store::StoredRequest,
    ) -> Result<Vec<StoredLinkEvent>, AppError> {
        let mut events: BTreeMap<i64, StoredLinkEvent> = BTreeMap::new();
        let mut asked: HashSet<PersonId> = HashSet::new();
        let mut walked: HashSet<RequestId> = HashSet::from([stored.request.id]);
        let mut frontier: Vec<PersonId> = stored.request.body.party.iter().map(|p| p.id).collect();
        while !frontier.is_empty() {
            asked.extend(frontier.iter().copied());
            for chunk in frontier.chunks(PAGE_ITEMS_MAX as usize) {
                for e in self.store.link_events_of(chunk).await? {
                    events.insert(e.seq, e);
                }
            }
            let folded: Vec<StoredLinkEvent> = events.values().cloned().collect();
            let view = LinkView::from_events(&folded);
            let mut next = Vec::new();
            for &(a, b, _) in &view.merged {
                for (inside, other) in [(a, b), (b, a)] {
                    if !asked.contains(&inside) || asked.contains(&other) {
                        continue;
                    }
                    // A merged partner's whole request joins the household.
                    let Some(partner) = self.store.request_of_person(other).await? else {
                        continue;
                    };
                    if walked.insert(partner.request.id) {
                        next.extend(partner.request.body.party.iter().map(|p| p.id));
                    }
                }
            }
            next.retain(|p| !asked.contains(p));
            next.sort();
            next.dedup();
            frontier = next;
        }
        Ok(events.into_values().collect())
    }

    /// Every pair of persons the link log has spoken about, without keeping the events: what a
    /// relink must not propose again.
    async fn known_link_pairs(&self) -> Result<HashSet<(PersonId, PersonId)>, AppError> {
        let mut known = HashSet::new();
        self.for_each_link_event_page(0, |page| {
            known.extend(
                page.iter()
                    .filter(|e| e.event.kind != LinkEventKind::Undo)
                    .map(|e| pair(e.event.person_a, e.event.person_b)),
            )
        })
        .await?;
        Ok(known)
    }

    /// How many pairs wait in the review queue: those logged for review, less those other
    /// merges answer already (a count, no personal data: for a console's summary).
    pub async fn review_queue_len(&self) -> Result<usize, AppError> {
        Ok(LinkView::from_events(&self.all_link_events().await?)
            .pending
            .len())
    }

    pub(crate) async fn all_link_events(&self) -> Result<Vec<StoredLinkEvent>, AppError> {
        let mut all = Vec::new();
        self.for_each_link_event_page(0, |page| all.extend(page))
            .await?;
        Ok(all)
    }

    /// Calls `visit` with the link log after sequence number `after` (0: the whole log),
    /// oldest first, a page at a time.
    async fn for_each_link_event_page(
        &self,
        mut after: i64,
        mut visit: impl FnMut(Vec<StoredLinkEvent>),
    ) -> Result<(), AppError> {
        loop {
            let page = self.store.link_events(after, PAGE_ITEMS_MAX).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.seq;
            let full = page.len() == PAGE_ITEMS_MAX as usize;
            visit(page);
            if !full {
                return Ok(());
            }
        }
    }

    /// The review queue: uncertain pairs, the most doubtful first, each side with what a case
    /// officer compares and the per-field weights.
    pub async fn review_queue(
        &self,
        staff: &Staff,
        limit: usize,
    ) -> Result<Vec<ReviewItem>, AppError> {
        Ok(self
            .review_page(staff, &ReviewQuery::default(), limit)
            .await?
            .items)
    }

    /// A page of the review queue: the pairs `query` lets through, in its order, from its
    /// `from`th, at most `limit`; with how many wait in all and how many the query lets through.
    pub async fn review_page(
        &self,
        staff: &Staff,
        query: &ReviewQuery,
        limit: usize,
    ) -> Result<ReviewQueuePage, AppError> {
        staff.require(Permission::ReviewDuplicates)?;
        let view = LinkView::from_events(&self.all_link_events().await?);
        let mut chosen: Vec<&StoredLinkEvent> = view
            .pending
            .iter()
            .filter(|e| {
                let p = e.event.match_probability;
                query.probability_min.is_none_or(|min| p >= min)
                    && query.probability_max.is_none_or(|max| p <= max)
            })
            .collect();
        // The most doubtful: the pairs whose automatic answer is most likely wrong (a
        // probability near one half). Ties, and the other orders' ties, go oldest first.
        let doubt = |e: &StoredLinkEvent| {
            let p = e.event.match_probability;
            p.min(1.0 - p)
        };
        let p = |e: &StoredLinkEvent| e.event.match_probability;
        // Merges held apart first among the most doubtful: the machine was sure, and only a
        // human can say which of the records told apart this one is.
        let held = |e: &StoredLinkEvent| view.held_apart.contains(&e.seq);
        chosen.sort_by(|x, y| {
            let by = match query.order {
                ReviewOrder::MostDoubtful => {
                    held(y).cmp(&held(x)).then(doubt(y).total_cmp(&doubt(x)))
                }
                ReviewOrder::MostLikely => p(y).total_cmp(&p(x)),
                ReviewOrder::LeastLikely => p(x).total_cmp(&p(y)),
                ReviewOrder::Newest => y.seq.cmp(&x.seq),
                ReviewOrder::Oldest => std::cmp::Ordering::Equal,
            };
            by.then(x.seq.cmp(&y.seq))
        });
        let mut items = Vec::new();
        let mut groups = view.groups();
        for e in chosen.iter().skip(query.from).take(limit) {
            let mut explanation: serde_json::Value =
                serde_json::from_str(&e.event.explanation).unwrap_or(serde_json::Value::Null);
            // Held apart by the fold, or a pair whose "same person" would be refused: the
            // reason is added here, first, as the matcher would have put it (it could not
            // know).
            if view
                .told_apart_if_joined(&mut groups, e.event.person_a, e.event.person_b)
                .is_some()
                && let Some(doubts) = explanation
                    .as_object_mut()
                    .map(|o| o.entry("doubts").or_insert_with(|| serde_json::json!([])))
                    .and_then(serde_json::Value::as_array_mut)
            {
                let held = serde_json::to_value(Doubt::WouldJoinDistinctPeople)
                    .expect("a doubt serialises");
                doubts.retain(|d| *d != held);
                doubts.insert(0, held);
            }
            items.push(ReviewItem {
                seq: e.seq,
                match_probability: e.event.match_probability,
                explanation,
                a: self.linked_person(e.event.person_a).await?,
                b: self.linked_person(e.event.person_b).await?,
            });
        }
        self.audit_read(
            staff,
            "link.review.read",
            None,
            serde_json::json!({ "items": items.len(), "pending": view.pending.len() }),
        )
        .await?;
        Ok(ReviewQueuePage {
            items,
            pending: view.pending.len(),
            matching: chosen.len(),
        })
    }

    /// A case officer's decision on a review item (or on an auto-merge they disagree with):
    /// the same person, or two people. A "same person" decision also refines the model. A
    /// pair already decided stays decided until someone undoes that decision: of two officers
    /// deciding one pair at once, the second is told what the first decided.
    pub async fn decide_link(
        &self,
        staff: &Staff,
        seq: i64,
        same_person: bool,
    ) -> Result<i64, AppError> {
        staff.require(Permission::ReviewDuplicates)?;
        let (decided, target) = with_fresh_fold("deciding on the pair", || {
            self.decide_once(staff, seq, same_person)
        })
        .await?;
        self.ranking_is_stale().await;
        if same_person {
            self.learn_from_match(target.person_a, target.person_b)
                .await;
        }
        Ok(decided)
    }

    async fn decide_once(
        &self,
        staff: &Staff,
        seq: i64,
        same_person: bool,
    ) -> Result<(i64, LinkEvent), AppError> {
        let mut events = self.all_link_events().await?;
        let target = events
            .iter()
            .find(|e| e.seq == seq)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("link event {seq}")))?;
        if !matches!(
            target.event.kind,
            LinkEventKind::Review | LinkEventKind::AutoMerge
        ) {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::LinkNotDecidable,
                    format!(
                        "link event {seq} is a {}; decide on a review item or an auto-merge",
                        target.event.kind
                    ),
                )
                .text("seq", seq)
                .with("kind", RefusalArg::LinkEvent(target.event.kind)),
            ));
        }
        let of_pair = PairEvents::of(&events, target.event.person_a, target.event.person_b);
        if let Some(standing) = of_pair.live_decision() {
            // The officer by name, as the desk names staff elsewhere ("user:3" meant nothing).
            let by = self.staff_names().await?(&standing.event.actor.label());
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::PairDecided,
                    format!(
                        "this pair was already decided ({} by {by} at {}, link event {}); undo that decision first to change it",
                        standing.event.kind,
                        self.shown_time(standing.event.at),
                        standing.seq
                    ),
                )
                .with("decision", RefusalArg::LinkDecision(standing.event.kind))
                .text("by", by)
                .text("at", self.shown_time(standing.event.at))
                .text("seq", standing.seq),
            ));
        }
        let view = LinkView::from_events(&events);
        let (a, b) = (target.event.person_a, target.event.person_b);
        if let Some(refused) = view.contradicted(a, b, same_person) {
            return Err(refused);
        }
        let kind = if same_person {
            LinkEventKind::Match
        } else {
            LinkEventKind::Distinct
        };
        let decision = LinkEvent {
            at: Timestamp::now(),
            actor: staff.actor(),
            kind,
            refers_to: Some(seq),
            ..target.event.clone()
        };
        let pair_head = of_pair.head();
        let decided = self
            .append_decision(staff, decision.clone(), "link.decide", pair_head)
            .await?;
        // Another decision about these records may have landed between the read and the
        // append (two officers on two pairs at once each pass the check alone): the log's
        // order decides. A decision the fold does not apply is withdrawn, and refused as if it
        // had been checked after the other. Only what was logged since the read is read.
        let read_up_to = events.last().map_or(0, |e| e.seq);
        self.for_each_link_event_page(read_up_to, |page| events.extend(page))
            .await?;
        let after = LinkView::from_events(&events);
        let applied = if same_person {
            !after.held_apart.contains(&decided)
        } else {
            let mut groups = after.groups();
            groups.find(a) != groups.find(b)
        };
        if !applied {
            let refused = after.contradicted(a, b, same_person).unwrap_or_else(|| {
                AppError::Conflict(Refusal::other(format!(
                    "link event {decided} was decided beside another decision about these records and is withdrawn; read the pair again"
                )))
            });
            let withdrawn = LinkEvent {
                at: Timestamp::now(),
                kind: LinkEventKind::Undo,
                refers_to: Some(decided),
                ..decision
            };
            let audit = AuditEvent {
                at: withdrawn.at,
                actor: staff.actor(),
                action: "link.decide.withdrawn".into(),
                subject: Some(decided.to_string()),
                detail: serde_json::json!({ "kind": kind.as_str() }),
            };
            self.store
                .append_link_events(vec![withdrawn], vec![audit], AppendIf::Always)
                .await?;
            self.ranking_is_stale().await;
            return Err(refused);
        }
        Ok((decided, target.event))
    }

    /// Reverses a merge or a decision; an undone auto-merge returns to the review queue.
    pub async fn undo_link(&self, staff: &Staff, seq: i64) -> Result<(), AppError> {
        staff.require(Permission::ReviewDuplicates)?;
        with_fresh_fold("undoing the link", || self.undo_once(staff, seq)).await?;
        self.ranking_is_stale().await;
        Ok(())
    }

    async fn undo_once(&self, staff: &Staff, seq: i64) -> Result<(), AppError> {
        let events = self.all_link_events().await?;
        let target = events
            .iter()
            .find(|e| e.seq == seq)
            .ok_or_else(|| AppError::NotFound(format!("link event {seq}")))?;
        if matches!(
            target.event.kind,
            LinkEventKind::Review | LinkEventKind::Undo
        ) {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::LinkNotUndoable,
                    format!(
                        "link event {seq} is a {}; only merges and decisions can be undone",
                        target.event.kind
                    ),
                )
                .text("seq", seq)
                .with("kind", RefusalArg::LinkEvent(target.event.kind)),
            ));
        }
        let of_pair = PairEvents::of(&events, target.event.person_a, target.event.person_b);
        if of_pair.undone(seq) {
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::LinkUndone,
                    format!("link event {seq} is already undone"),
                )
                .text("seq", seq),
            ));
        }
        let undo = LinkEvent {
            at: Timestamp::now(),
            actor: staff.actor(),
            kind: LinkEventKind::Undo,
            refers_to: Some(seq),
            ..target.event.clone()
        };
        self.append_decision(staff, undo, "link.undo", of_pair.head())
            .await?;
        Ok(())
    }

    /// The request's people, their records in other requests, and its household's requests.
    pub async fn request_links(
        &self,
        staff: &Staff,
        request_id: RequestId,
    ) -> Result<RequestLinks, AppError> {
        staff.require(Permission::ReadRequests)?;
        let stored = self
            .store
            .request(request_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("request {request_id}")))?;
        let view = LinkView::from_events(&self.link_events_around(&stored).await?);
        let Walked {
            mut household,
            request_of,
            reference_of,
            neighbours,
        } = self.walk_household(&stored, &view).await?;
        household.sort();
        // Standing "two people" decisions about this request's people.
        let party: HashSet<PersonId> = stored.request.body.party.iter().map(|p| p.id).collect();
        let mut told_apart: HashMap<PersonId, Vec<SameAs>> = HashMap::new();
        for &(a, b, seq) in &view.told_apart {
            for (ours, other) in [(a, b), (b, a)] {
                if !party.contains(&ours) {
                    continue;
                }
                let Some(theirs) = self.store.request_of_person(other).await? else {
                    continue;
                };
                told_apart.entry(ours).or_default().push(SameAs {
                    person_id: other,
                    request_id: theirs.request.id,
                    reference: theirs.request.reference.to_string(),
                    link_seq: seq,
                });
            }
        }
        let persons = stored
            .request
            .body
            .party
            .iter()
            .map(|p| PersonLinks {
                told_apart: told_apart.remove(&p.id).unwrap_or_default(),
                person_id: p.id,
                same_as: neighbours
                    .get(&p.id)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|&(other, seq)| {
                        request_of.get(&other).map(|&request_id| SameAs {
                            person_id: other,
                            request_id,
                            reference: reference_of.get(&request_id).cloned().unwrap_or_default(),
                            link_seq: seq,
                        })
                    })
                    .collect(),
            })
            .collect();
        self.audit_read(
            staff,
            "request.links.read",
            Some(request_id.to_string()),
            serde_json::json!({ "household_requests": household.len() }),
        )
        .await?;
        Ok(RequestLinks {
            request_id,
            persons,
            household_requests: household,
        })
    }

    /// Appends a decision or undo if nothing was logged about its pair since `pair_head`; the
    /// answer is the new event's sequence number.
    async fn append_decision(
        &self,
        staff: &Staff,
        event: LinkEvent,
        action: &str,
        pair_head: AppendIf,
    ) -> Result<i64, AppError> {
        let audit = AuditEvent {
            at: event.at,
            actor: staff.actor(),
            action: action.into(),
            subject: event.refers_to.map(|s| s.to_string()),
            detail: serde_json::json!({ "kind": event.kind.as_str() }),
        };
        let (a, b) = (event.person_a, event.person_b);
        let AppendIf::PairHeadIs(_, _, head) = pair_head else {
            unreachable!("decisions are checked against their pair's head");
        };
        self.store
            .append_link_events(vec![event], vec![audit], pair_head)
            .await
            .map_err(|e| match e {
                evac_store::StoreError::Refused(what) => AppError::Conflict(Refusal::other(what)),
                e => AppError::Store(e),
            })?;
        // Nothing else about the pair can have been appended since (the pair's head was
        // checked in the append's transaction), so its first event after that head is ours;
        // unrelated pairs' events may come between.
        let mut after = head;
        loop {
            let page = self.store.link_events(after, PAGE_ITEMS_MAX).await?;
            if let Some(ours) = page
                .iter()
                .find(|e| pair(e.event.person_a, e.event.person_b) == pair(a, b))
            {
                return Ok(ours.seq);
            }
            match page.last() {
                Some(last) => after = last.seq,
                None => {
                    return Err(AppError::Conflict(Refusal::other(
                        "the decision was stored but is not found in the link log",
                    )));
                }
            }
        }
    }

    /// Refines the model with a reviewer's "same person", when this node matches. The
    /// refinement lasts while this node links: the kept model is what the last relink learnt
    /// (a relink learns from the data alone), so a decision never races a relink's save.
    async fn learn_from_match(&self, a: PersonId, b: PersonId) {
        if !self.linker.is_matching() {
            return;
        }
        let record_of = |person: PersonId| async move {
            let stored = self.store.request_of_person(person).await.ok()??;
            BatchMatcher::prepared_people(&stored.request)
                .into_iter()
                .find(|(id, _)| *id == person)
                .map(|(_, prepared)| prepared)
        };
        let (Some(x), Some(y)) = (record_of(a).await, record_of(b).await) else {
            return;
        };
        let comparison = evac_link::compare::compare(&x, &y);
        {
            let mut guard = self.linker.state.lock().expect("linker lock");
            let Some(state) = guard.as_mut() else { return };
            let observed = state.matches_observed;
            std::sync::Arc::make_mut(&mut state.model).learn_from_decisions(
                [&comparison],
                DECISION_WEIGHT_PAIRS,
                observed,
            );
            state.matches_observed += DECISION_WEIGHT_PAIRS;
        }
    }

    async fn linked_person(&self, person: PersonId) -> Result<LinkedPerson, AppError> {
        let stored = self
            .store
            .request_of_person(person)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {person}")))?;
        let request = &stored.request;
        let p = request
            .body
            .party
            .iter()
            .find(|p| p.id == person)
            .ok_or_else(|| AppError::NotFound(format!("person {person}")))?;
        Ok(LinkedPerson {
            person_id: person,
            request_id: request.id,
            reference: request.reference.to_string(),
            channel: request.body.channel.as_str().to_string(),
            received_at: request.received_at,
            surname: p.surname.as_ref().map(|n| n.as_written.clone()),
            given_names: p.given_names.as_ref().map(|n| n.as_written.clone()),
            patronymic: p.patronymic.as_ref().map(|n| n.as_written.clone()),
            birth: p.birth.map(|b| match b {
                evac_model::Birth::Date(d) => d.to_string(),
                // In no language's words (the desk's request page writes ages alike): the
                // API and both desks show it as it is.
                evac_model::Birth::StatedAge { years, on } => format!("{years} ({on})"),
            }),
            location: request.body.location.text.clone(),
        })
    }
}

fn link_event(
    kind: LinkEventKind,
    a: PersonId,
    b: PersonId,
    score: &Score,
    at: Timestamp,
    actor: Actor,
    refers_to: Option<i64>,
) -> LinkEvent {
    LinkEvent {
        at,
        actor,
        kind,
        person_a: a,
        person_b: b,
        match_probability: score.match_probability,
        explanation: serde_json::to_string(score).unwrap_or_else(|_| "{}".into()),
        refers_to,
    }
}

/// This node's linkage worker ([`App::start_linkage_worker`]): it holds, renews or waits for
/// the linkage lease.
pub struct LinkageWorker {
    task: tokio::task::JoinHandle<()>,
    app: App,
    node: String,
}

impl LinkageWorker {
    /// Stops the worker and gives the lease up, so another node takes the work at once
    /// instead of when the lease runs out.
    pub async fn stop(mut self) {
        self.task.abort();
        // Once the task has ended it can start no relink after the forgetting below.
        let _ = (&mut self.task).await;
        self.app.linker.forget();
        if let Err(e) = self
            .app
            .store
            .release_lease(evac_store::LINKAGE_LEASE, &self.node)
            .await
        {
            tracing::warn!(error = %e, "could not give the linkage lease up; another node takes it when it runs out");
        }
    }
}

/// Dropped without [`LinkageWorker::stop`] (a node dying, as far as linkage goes): this node
/// stops linking at once and leaves the lease to run out.
impl Drop for LinkageWorker {
    fn drop(&mut self) {
        self.task.abort();
        self.app.linker.forget();
    }
}

/// Drains the store's queue of requests due for linking, on a thread of its own at the lowest
/// CPU priority (on Linux), a batch at a time in id order (UUID v7: arrival order), while this
/// node has a model (it holds the lease).
///
/// Why a thread apart: matching a request costs about as much CPU as taking it in, and an
/// acknowledgement must wait for the commit alone. During a burst, intake keeps the cores and
/// the queue grows in the store; when the burst passes, the linker catches up. Each batch's
/// link events and cleared marks are one transaction: a node dying mid-batch leaves the batch
/// due for the next holder, and a proposal is stored once per pair however often it is made.
pub(crate) struct OnlineLinker {
    /// A wake-up: the thread also looks every [`LINK_POLL_MS`] for other nodes' requests.
    wake: std::sync::mpsc::SyncSender<()>,
}

impl OnlineLinker {
    /// Starts the thread. It ends when the app (and so this sender) is dropped.
    fn start(store: std::sync::Arc<dyn evac_store::Store>, linker: std::sync::Arc<Linker>) -> Self {
        let (wake, woken) = std::sync::mpsc::sync_channel(1);
        let runtime = tokio::runtime::Handle::current();
        std::thread::Builder::new()
            .name("evac-linker".into())
            .spawn(move || {
                evac_store::lower_this_threads_priority();
                let poll = std::time::Duration::from_millis(LINK_POLL_MS);
                // A batch matched but not yet stored (the store failed): stored again as it was
                // matched, its keys with it, not matched again.
                let mut unsettled: Option<MatchedBatch> = None;
                let mut cache = PreparedCache::default();
                // Until the app (the sender) is gone; a timeout is the poll.
                while !matches!(
                    woken.recv_timeout(poll),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
                ) {
                    while linker.is_matching() {
                        let batch = match unsettled.take() {
                            Some(batch) => batch,
                            None => {
                                // Matching and writing links would compete with intake for the
                                // cores and the writer (evac_store::IntakeLoad says why).
                                let backlog =
                                    || runtime.block_on(store.links_due_count()).unwrap_or(0);
                                while store.intake_load().defers(backlog, LINK_BACKLOG_MAX as u64) {
                                    std::thread::sleep(std::time::Duration::from_millis(
                                        LINK_WAIT_MS,
                                    ));
                                }
                                match runtime.block_on(store.links_due(LINK_BATCH_REQUESTS_MAX)) {
                                    Ok(due) if due.is_empty() => break,
                                    Ok(due) => match linker.match_due(&runtime, &*store, due, &mut cache) {
                                        Some(batch) => batch,
                                        // No model (any more), or the store cannot say what is due: later.
                                        None => break,
                                    },
                                    Err(e) => {
                                        tracing::warn!(error = %e, "cannot read the requests due for linking; trying again");
                                        break;
                                    }
                                }
                            }
                        };
                        let fence = linker.fence();
                        let kept = batch.keyed.len() as u64;
                        match runtime.block_on(store.settle_links(
                            batch.events.clone(),
                            batch.keyed.clone(),
                            batch.requests.clone(),
                            fence,
                            batch.read_at,
                        )) {
                            Ok(_) => linker.count_kept(kept),
                            Err(evac_store::StoreError::Refused(why)) => {
                                // Another node took the lease: it links these.
                                tracing::info!(%why, "this node stops linking");
                                linker.forget();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "storing links failed; trying again");
                                unsettled = Some(batch);
                                break;
                            }
                        }
                    }
                }
            })
            .expect("the linker thread starts");
        OnlineLinker { wake }
    }

    fn wake(&self) {
        // Full means a wake-up is pending already; disconnected means the thread died, and
        // the lease's next holder links what is due.
        let _ = self.wake.try_send(());
    }
}

impl Linker {
    fn is_matching(&self) -> bool {
        self.matching.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Takes `state` up unless this node stopped linking since `epoch` (its lease lost): the
    /// answer is whether it did.
    fn take_up(&self, epoch: u64, state: LinkState) -> bool {
        let mut current = self.state.lock().expect("linker lock");
        // Under the lock `forget` takes: no forget slips between the check and the store.
        if self.epoch.load(std::sync::atomic::Ordering::Acquire) != epoch {
            return false;
        }
        *current = Some(state);
        self.matching
            .store(true, std::sync::atomic::Ordering::Release);
        true
    }

    /// Whether the crisis has grown past what the model learnt from ([`RELEARN_GROWTH`]), or
    /// the model was kept by an older release that learnt less than this one does
    /// ([`evac_link::MODEL_LEARNING`]; a crisis started before names were counted together
    /// would otherwise keep scoring namesakes as two independent agreements).
    fn outgrown(&self) -> bool {
        let state = self.state.lock().expect("linker lock");
        state.as_ref().is_some_and(|s| {
            s.model.learning < evac_link::MODEL_LEARNING
                || (s.kept >= RELEARN_PERSONS_MIN
                    && s.kept >= RELEARN_GROWTH * s.learnt_from.max(1))
        })
    }

    /// Whether learning the model again failed less than [`RELEARN_RETRY_AFTER`] ago.
    fn failed_lately(&self) -> bool {
        self.relearn_failed_at
            .lock()
            .expect("linker lock")
            .is_some_and(|at| at.elapsed() < RELEARN_RETRY_AFTER)
    }

    /// Drops the model: another node links now (or this one takes the kept model up again
    /// when it takes the lease again, as another node may have relinked meanwhile).
    fn forget(&self) {
        let mut state = self.state.lock().expect("linker lock");
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        *state = None;
        self.matching
            .store(false, std::sync::atomic::Ordering::Release);
    }

    /// The fence of this node's settlements: as the lease holder when it runs a worker; else
    /// (a console command, a test) only while no node holds the lease, so a command's short
    /// linking never clears requests the holder is matching.
    fn fence(&self) -> evac_store::LeaseFence {
        evac_store::LeaseFence {
            lease: evac_store::LINKAGE_LEASE.into(),
            holder: self.lease_holder.get().cloned(),
            at: Timestamp::now(),
        }
    }

    /// Counts people a settled batch kept, towards [`Linker::outgrown`].
    fn count_kept(&self, people: u64) {
        if let Some(state) = self.state.lock().expect("linker lock").as_mut() {
            state.kept += people;
        }
    }

    /// Matches a batch of due requests: reads them back from the store and matches their
    /// people not kept yet against the kept ones. The answer is the batch's link events, the
    /// keys of the people it matched, and the requests it settles (a request that cannot be
    /// matched now stays due); `None` when this node has no model (any more), or the store
    /// cannot say which requests need matching or read them.
    ///
    /// The store is asked a few times a batch, not a few times a request: the requests, which
    /// of their people are kept, the postings of all their new people's keys and the requests
    /// those postings name are each read in one round trip or a few ([`BatchMatcher::read_ahead`]).
    /// Read a request at a time, the round trips, not the matching, bounded the drain (518
    /// requests/s on PostgreSQL, docs/BENCHMARKS.md).
    fn match_due(
        &self,
        runtime: &tokio::runtime::Handle,
        store: &dyn evac_store::Store,
        due: Vec<RequestId>,
        cache: &mut PreparedCache,
    ) -> Option<MatchedBatch> {
        let model = self
            .state
            .lock()
            .expect("linker lock")
            .as_ref()?
            .model
            .clone();
        let wait_and_give_up = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, "{what}; the due requests stay due");
            std::thread::sleep(std::time::Duration::from_millis(LINK_WAIT_MS));
            None
        };
        // Read before the requests: what the batch makes of one corrected meanwhile is left
        // out of its settlement, and the request stays due (evac_store::LINK_KEYS_GENERATION).
        let read_at = match runtime.block_on(store.generation(evac_store::LINK_KEYS_GENERATION)) {
            Ok(read_at) => read_at,
            Err(e) => return wait_and_give_up("cannot read the link keys' generation", &e),
        };
        cache.forget_before(
            self.epoch.load(std::sync::atomic::Ordering::Acquire),
            read_at,
        );
        // Requests whose people are all kept (a relink matched them) are settled unread.
        let unkeyed: Vec<RequestId> = match runtime
            .block_on(store.requests_with_unkeyed_persons(&due))
        {
            Ok(unkeyed) => unkeyed,
            Err(e) => return wait_and_give_up("cannot tell which due requests need matching", &e),
        };
        let stored = match runtime.block_on(crate::intake::requests_among(store, &unkeyed)) {
            Ok(stored) => stored,
            Err(e) => return wait_and_give_up("cannot read the due requests", &e),
        };
        let mut matcher = BatchMatcher::new(runtime, store, &model, cache);
        let ahead = match matcher.read_ahead(stored.values().map(|s| &s.request)) {
            Ok(ahead) => ahead,
            Err(e) => {
                return wait_and_give_up("cannot read the kept people the due requests meet", &e);
            }
        };
        let mut events = Vec::new();
        let mut requests = Vec::with_capacity(due.len());
        for id in due {
            // Erased since it was stored, or all its people kept: nothing to match.
            if let Some(stored) = stored.get(&id) {
                match matcher.match_request(&stored.request, &ahead) {
                    Ok(found) => events.extend(found),
                    Err(e) => {
                        tracing::warn!(request_id = %id, error = %e, "could not match a request; it stays due");
                        std::thread::sleep(std::time::Duration::from_millis(LINK_WAIT_MS));
                        continue;
                    }
                }
            }
            requests.push(id);
        }
        Some(MatchedBatch {
            events,
            keyed: matcher.keyed,
            requests,
            read_at,
        })
    }
}

/// The people at positions `which` of a relink with their blocking keys, made on every core.
async fn keyed_page(
    prepared: &std::sync::Arc<Vec<Prepared>>,
    persons: &[(PersonId, RequestId)],
    which: Vec<usize>,
) -> Result<Vec<evac_store::KeyedPerson>, AppError> {
    let records = prepared.clone();
    let positions = which.clone();
    let keys = tokio::task::spawn_blocking(move || {
        let page: Vec<&Prepared> = positions.iter().map(|&i| &records[i]).collect();
        evac_link::block::blocking_keys_of_each(&page)
    })
    .await
    .map_err(|e| AppError::Conflict(Refusal::other(format!("keying stopped: {e}"))))?;
    Ok(which
        .into_iter()
        .zip(keys)
        .map(|(i, keys)| evac_store::KeyedPerson {
            person: persons[i].0,
            request: persons[i].1,
            keys,
        })
        .collect())
}

/// A relink's hold on [`RELINK_LEASE`], renewed in the background while the relink runs.
struct RelinkLease {
    store: std::sync::Arc<dyn evac_store::Store>,
    holder: String,
    /// Whether another relink held the lease when this one asked: it may have kept a model.
    waited: bool,
    /// Set when the lease is lost (another holder has it, or renewals failed until it ran
    /// out): the relink keeps no keys and no model after that.
    lost: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<tokio::sync::Notify>,
    renewing: tokio::task::JoinHandle<()>,
}

impl RelinkLease {
    /// Waits until the lease is free (or its holder's ran out), then takes it.
    async fn take(store: std::sync::Arc<dyn evac_store::Store>) -> Result<RelinkLease, AppError> {
        let holder = format!("relink-{}", uuid::Uuid::now_v7());
        let until = || Timestamp::now().plus_seconds((RELINK_LEASE_MS / 1_000) as i64);
        let mut waited = false;
        let mut held_until = until();
        while !store
            .take_lease(RELINK_LEASE, &holder, Timestamp::now(), held_until)
            .await?
        {
            if !waited {
                tracing::info!("another relink is running: this one starts when it ends");
                waited = true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(RELINK_LEASE_ASK_MS)).await;
            held_until = until();
        }
        let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = std::sync::Arc::new(tokio::sync::Notify::new());
        let renewing = tokio::spawn({
            let (store, holder, lost, stop) =
                (store.clone(), holder.clone(), lost.clone(), stop.clone());
            async move {
                loop {
                    tokio::select! {
                        () = stop.notified() => return,
                        () = tokio::time::sleep(std::time::Duration::from_millis(
                            RELINK_LEASE_RENEW_MS,
                        )) => {}
                    }
                    let next = until();
                    match store
                        .take_lease(RELINK_LEASE, &holder, Timestamp::now(), next)
                        .await
                    {
                        Ok(true) => held_until = next,
                        // Taken by another: it ran out before a renewal reached the store.
                        Ok(false) => break,
                        // The store out of reach for a moment: the lease still holds until
                        // it runs out, and the next renewal tries again.
                        Err(e) if Timestamp::now() < held_until => {
                            tracing::warn!(error = %e, "renewing the relink lease failed; trying again");
                        }
                        Err(_) => break,
                    }
                }
                lost.store(true, std::sync::atomic::Ordering::Release);
            }
        });
        Ok(RelinkLease {
            store,
            holder,
            waited,
            lost,
            stop,
            renewing,
        })
    }

    /// Refuses once the lease is lost: another relink may be running now.
    fn still_held(&self) -> Result<(), AppError> {
        if self.lost.load(std::sync::atomic::Ordering::Acquire) {
            return Err(AppError::Conflict(Refusal::other(
                "this relink lost its lease (the store was out of reach, or it stalled past the lease); another may be running, so it keeps nothing more: relink again",
            )));
        }
        Ok(())
    }

    /// Stops renewing (after a renewal in flight lands, so none lands after the release) and
    /// gives the lease up, so a waiting relink starts at once.
    async fn give_up(mut self) {
        self.stop.notify_one();
        let _ = (&mut self.renewing).await;
        if let Err(e) = self.store.release_lease(RELINK_LEASE, &self.holder).await {
            tracing::warn!(error = %e, "the relink lease could not be given up; it runs out by itself");
        }
    }
}

impl Drop for RelinkLease {
    fn drop(&mut self) {
        // A relink dropped midway (its task cancelled) stops renewing; the lease runs out.
        self.renewing.abort();
    }
}

/// Clears one of the linker's flags when dropped, so a task that stops early or panics never
/// leaves it set (a `starting` left set would keep this node from ever matching while it holds
/// the lease).
struct ClearsFlag(
    std::sync::Arc<Linker>,
    fn(&Linker) -> &std::sync::atomic::AtomicBool,
);

impl Drop for ClearsFlag {
    fn drop(&mut self) {
        (self.1)(&self.0).store(false, std::sync::atomic::Ordering::Release);
    }
}

/// What the online linker found for a batch of due requests, stored in one transaction.
struct MatchedBatch {
    events: Vec<LinkEvent>,
    /// The keys of the people it matched, kept with the events.
    keyed: Vec<evac_store::KeyedPerson>,
    requests: Vec<RequestId>,
    /// The generation of the kept keys read before the batch read its requests.
    read_at: i64,
}

/// A request's people with their prepared records, shared between the cache and a batch.
type PreparedPeople = std::sync::Arc<[(PersonId, Prepared)]>;

/// Requests the linker keeps prepared between batches, at most: a family that wrote twenty
/// times is a block of twenty copies, and each new copy would otherwise read every one of them
/// back from the store. About 40 MB.
const PREPARED_CACHE_REQUESTS_MAX: usize = 50_000;

/// Candidate requests a batch reads from the store at once, at most (half the cache's bound:
/// about 20 MB); a batch of common names that offers more reads the rest one at a time.
const READ_AHEAD_REQUESTS_MAX: usize = PREPARED_CACHE_REQUESTS_MAX / 2;

/// The prepared people of the requests the online linker met lately (read as candidates, or
/// matched), kept on its thread between batches: two generations of at most half
/// [`PREPARED_CACHE_REQUESTS_MAX`] each; a request met again moves to the young one, and when
/// the young one is full the old one is dropped. Emptied when this node stops linking.
#[derive(Default)]
pub(crate) struct PreparedCache {
    young: HashMap<RequestId, PreparedPeople>,
    old: HashMap<RequestId, PreparedPeople>,
    /// The linker's epoch it was filled under.
    epoch: u64,
    /// The generation of the kept keys it was filled under: a correction or erasure since
    /// (rare) may have changed any request in it.
    keys_generation: i64,
}

impl PreparedCache {
    /// The request's people if the cache holds them, leaving the cache as it is.
    fn peek(&self, id: RequestId) -> Option<PreparedPeople> {
        self.young.get(&id).or_else(|| self.old.get(&id)).cloned()
    }

    fn get(&mut self, id: RequestId) -> Option<PreparedPeople> {
        if let Some(people) = self.young.get(&id) {
            return Some(people.clone());
        }
        let people = self.old.remove(&id)?;
        self.insert(id, people.clone());
        Some(people)
    }

    fn insert(&mut self, id: RequestId, people: PreparedPeople) {
        if self.young.len() >= PREPARED_CACHE_REQUESTS_MAX / 2 {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(id, people);
    }

    /// Empties the cache if the linker stopped linking since it was filled, or a request was
    /// corrected or erased since (`keys_generation` moved on).
    fn forget_before(&mut self, epoch: u64, keys_generation: i64) {
        if (self.epoch, self.keys_generation) != (epoch, keys_generation) {
            *self = PreparedCache {
                epoch,
                keys_generation,
                ..PreparedCache::default()
            };
        }
    }
}

/// Matching one batch of due requests against the kept people: the store's, found by their
/// kept keys, and the people this batch matched but has not stored yet (a batch's later
/// request meets its earlier ones as it would after they settle). Candidates of equal weight
/// rank by request id (UUID v7: the order requests were stored in), then person id.
struct BatchMatcher<'a> {
    runtime: &'a tokio::runtime::Handle,
    store: &'a dyn evac_store::Store,
    model: &'a evac_link::Model,
    settings: LinkSettings,
    cache: &'a mut PreparedCache,
    /// Requests read ahead for this batch ([`BatchMatcher::read_ahead`]), prepared; each moves
    /// to the cache when a match first offers it.
    read: HashMap<RequestId, PreparedPeople>,
    /// The keys of the people this batch matched, not stored yet.
    unsettled_postings: HashMap<u64, Vec<(PersonId, RequestId)>>,
    keyed: Vec<evac_store::KeyedPerson>,
}

impl<'a> BatchMatcher<'a> {
    fn new(
        runtime: &'a tokio::runtime::Handle,
        store: &'a dyn evac_store::Store,
        model: &'a evac_link::Model,
        cache: &'a mut PreparedCache,
    ) -> Self {
        BatchMatcher {
            runtime,
            store,
            model,
            settings: LinkSettings::default(),
            cache,
            read: HashMap::new(),
            unsettled_postings: HashMap::new(),
            keyed: Vec::new(),
        }
    }

    /// Each person of `request` with their prepared record (the household's size set).
    fn prepared_people(request: &Request) -> Vec<(PersonId, Prepared)> {
        let records = records_of_request(request);
        let household_size = u16::try_from(records.len()).unwrap_or(u16::MAX);
        records
            .iter()
            .zip(&request.body.party)
            .map(|(record, person)| {
                let prepared = Prepared {
                    household_size,
                    ..Prepared::new(record)
                };
                (person.id, prepared)
            })
            .collect()
    }

    /// Reads what a batch of `requests` meets in the store, in a few round trips for the whole
    /// batch: which of their people are kept already, the people kept under the keys of the
    /// others, and the requests those people belong to (where a block is small enough to be
    /// used), prepared.
    fn read_ahead<'r>(
        &mut self,
        requests: impl Iterator<Item = &'r Request>,
    ) -> Result<ReadAhead, StoreError> {
        let people: HashMap<RequestId, PreparedPeople> = requests
            .map(|request| (request.id, Self::prepared_people(request).into()))
            .collect();
        let ids: Vec<PersonId> = people
            .values()
            .flat_map(|everyone| everyone.iter().map(|(id, _)| *id))
            .collect();
        if ids.is_empty() {
            // Every due request erased, or all their people kept: nothing to look up.
            return Ok(ReadAhead {
                people,
                new_keys: HashMap::new(),
                postings: HashMap::new(),
            });
        }
        let kept: HashSet<PersonId> = self
            .runtime
            .block_on(self.store.keyed_persons(&ids))?
            .into_iter()
            .collect();
        let new_keys: HashMap<PersonId, Vec<u64>> = people
            .values()
            .flat_map(|everyone| everyone.iter())
            .filter(|(id, _)| !kept.contains(id))
            .map(|(id, prepared)| (*id, evac_link::block::blocking_keys(prepared)))
            .collect();
        let mut keys: Vec<u64> = new_keys.values().flatten().copied().collect();
        keys.sort_unstable();
        keys.dedup();
        let per_key_max = u32::try_from(self.settings.block_size_max).unwrap_or(u32::MAX);
        let mut postings: HashMap<u64, Vec<(PersonId, RequestId)>> = HashMap::new();
        for p in self
            .runtime
            .block_on(self.store.link_postings(&keys, per_key_max))?
        {
            postings
                .entry(p.key)
                .or_default()
                .push((p.person, p.request));
        }
        let mut offered: Vec<RequestId> = postings
            .values()
            .filter(|block| self.settings.block_is_usable(block.len()))
            .flatten()
            .map(|&(_, request)| request)
            .collect();
        offered.sort_unstable();
        offered.dedup();
        // What the batch or the cache holds is set aside too (the cache may turn over while
        // the batch is matched); of the rest, at most READ_AHEAD_REQUESTS_MAX are read at
        // once, and any beyond are read when a match offers them.
        let mut unread = Vec::new();
        for id in offered {
            match people.get(&id).cloned().or_else(|| self.cache.peek(id)) {
                Some(known) => {
                    self.read.insert(id, known);
                }
                None if unread.len() < READ_AHEAD_REQUESTS_MAX => unread.push(id),
                None => {}
            }
        }
        let mut read = self
            .runtime
            .block_on(crate::intake::requests_among(self.store, &unread))?;
        for id in unread {
            // Erased since its keys were kept: it offers no one.
            let people = read.remove(&id).map_or_else(
                || std::sync::Arc::new([]) as PreparedPeople,
                |stored| Self::prepared_people(&stored.request).into(),
            );
            self.read.insert(id, people);
        }
        Ok(ReadAhead {
            people,
            new_keys,
            postings,
        })
    }

    /// The prepared people of a request a key offers: read ahead, from the cache, else read
    /// from the store (a request erased since has none).
    fn people_of(&mut self, id: RequestId) -> Result<PreparedPeople, StoreError> {
        if let Some(people) = self.read.remove(&id) {
            self.cache.insert(id, people.clone());
            return Ok(people);
        }
        if let Some(people) = self.cache.get(id) {
            return Ok(people);
        }
        let people: PreparedPeople = match self.runtime.block_on(self.store.request(id))? {
            Some(stored) => Self::prepared_people(&stored.request).into(),
            None => std::sync::Arc::new([]),
        };
        self.cache.insert(id, people.clone());
        Ok(people)
    }

    /// Matches a stored request's people not kept yet (all of a new request; one added to a
    /// party since) against the kept people, and keeps them with the batch. `ahead` is what
    /// [`BatchMatcher::read_ahead`] read for the batch the request is in (its people
    /// prepared, their keys made). The answer is the link events to log.
    fn match_request(
        &mut self,
        request: &Request,
        ahead: &ReadAhead,
    ) -> Result<Vec<LinkEvent>, StoreError> {
        let Some(everyone) = ahead.people.get(&request.id).cloned() else {
            return Ok(Vec::new());
        };
        // A person is in one request, and a request is due once: none of these is in the
        // batch's keys already.
        let new: Vec<(PersonId, &Prepared, Vec<u64>)> = everyone
            .iter()
            .filter_map(|(id, prepared)| Some((*id, prepared, ahead.new_keys.get(id)?.clone())))
            .collect();
        let mut events = Vec::new();
        // As it reads now, for a later request of this batch or the next.
        self.cache.insert(request.id, everyone.clone());
        if new.is_empty() {
            return Ok(events);
        }
        // Everyone a key of a new person's offers: the store's, and this batch's.
        let mut all_keys: Vec<u64> = new.iter().flat_map(|(_, _, keys)| keys.clone()).collect();
        all_keys.sort_unstable();
        all_keys.dedup();
        let mut postings: HashMap<u64, Vec<(PersonId, RequestId)>> = all_keys
            .iter()
            .filter_map(|key| Some((*key, ahead.postings.get(key)?.clone())))
            .collect();
        for key in &all_keys {
            if let Some(unsettled) = self.unsettled_postings.get(key) {
                postings.entry(*key).or_default().extend(unsettled);
            }
        }
        // Each new person's candidates: in a block small enough, of another request, and
        // paired by the key's kind as the batch pairs them.
        let mut met: HashMap<RequestId, PreparedPeople> = HashMap::new();
        let mut candidates: Vec<Vec<(RequestId, PersonId)>> = Vec::with_capacity(new.len());
        for (_, record, keys) in &new {
            let mut found = Vec::new();
            for key in keys {
                let Some(block) = postings.get(key) else {
                    continue;
                };
                if !self.settings.block_is_usable(block.len()) {
                    continue;
                }
                for &(person, their_request) in block {
                    if their_request == request.id {
                        continue;
                    }
                    let theirs = match met.get(&their_request) {
                        Some(people) => people.clone(),
                        None => {
                            let people = self.people_of(their_request)?;
                            met.insert(their_request, people.clone());
                            people
                        }
                    };
                    if let Some((_, their_record)) = theirs.iter().find(|(id, _)| *id == person)
                        && evac_link::block::key_proposes(*key, record, their_record)
                    {
                        found.push((their_request, person));
                    }
                }
            }
            found.sort_unstable();
            found.dedup();
            candidates.push(found);
        }
        let offered = |k: usize, tied: &[(PersonId, RequestId)]| offer(&met, &candidates[k], tied);
        let auto_min = self.settings.auto_merge_probability_min;
        // Two passes, as the batch does: first each person alone; then each again, with the
        // requests the others surely matched counting as tied households.
        let sure: Vec<Option<(PersonId, RequestId)>> = (0..new.len())
            .map(|k| {
                evac_link::best_matches(self.model, &self.settings, new[k].1, offered(k, &[]), 1)
                    .first()
                    .filter(|(_, score)| score.match_probability >= auto_min && !score.contradicts)
                    .map(|&((their_request, person), _)| (person, their_request))
            })
            .collect();
        for (k, (person, record, _)) in new.iter().enumerate() {
            let tied_to: Vec<(PersonId, RequestId)> = sure
                .iter()
                .enumerate()
                .filter(|&(other, _)| other != k)
                .filter_map(|(_, s)| *s)
                .collect();
            let found = evac_link::best_matches(
                self.model,
                &self.settings,
                record,
                offered(k, &tied_to),
                ONLINE_CANDIDATES_MAX,
            );
            for (rank, ((_, other), score)) in found.into_iter().enumerate() {
                events.push(online_link_event(
                    rank,
                    *person,
                    other,
                    score,
                    request.received_at,
                    auto_min,
                ));
            }
        }
        // Kept with the batch: a later request of it meets these people.
        for (person, _, keys) in new {
            for &key in &keys {
                self.unsettled_postings
                    .entry(key)
                    .or_default()
                    .push((person, request.id));
            }
            self.keyed.push(evac_store::KeyedPerson {
                person,
                request: request.id,
                keys,
            });
        }
        Ok(events)
    }
}

/// What a batch of due requests meets in the store, read before any of them is matched.
struct ReadAhead {
    /// The batch's requests' people, prepared.
    people: HashMap<RequestId, PreparedPeople>,
    /// The blocking keys of those of them the store does not keep yet (all of a new request;
    /// someone added to a party since), made once for the batch.
    new_keys: HashMap<PersonId, Vec<u64>>,
    /// The people the store keeps under each key of the others, at most a block's size a key.
    postings: HashMap<u64, Vec<(PersonId, RequestId)>>,
}

/// The people `candidates` names (each of a request in `met`), offered for scoring, each in a
/// tied household when its request is one `tied` names and it is not itself the person tied to.
fn offer<'p>(
    met: &'p HashMap<RequestId, PreparedPeople>,
    candidates: &[(RequestId, PersonId)],
    tied: &[(PersonId, RequestId)],
) -> Vec<evac_link::Offered<'p, (RequestId, PersonId)>> {
    candidates
        .iter()
        .filter_map(|&(their_request, person)| {
            let (_, record) = met[&their_request].iter().find(|(id, _)| *id == person)?;
            Some(evac_link::Offered {
                id: (their_request, person),
                record,
                tied_household: tied.iter().any(|(_, r)| *r == their_request)
                    && !tied.iter().any(|(p, _)| *p == person),
            })
        })
        .collect()
}

/// The event for a new person's `rank`-th candidate: an automatic merge for the strongest
/// when it is sure and nothing says two people; else a review item that says why not. A pair
/// whose fields say two people (another sex, a generation between them where documents are
/// shared) goes to a human however high its probability, as clustering keeps it apart in a
/// relink.
fn online_link_event(
    rank: usize,
    person: PersonId,
    other: PersonId,
    mut score: Score,
    at: Timestamp,
    auto_min: f64,
) -> LinkEvent {
    let sure = score.match_probability >= auto_min;
    let auto = rank == 0 && sure && !score.contradicts;
    let kind = if auto {
        LinkEventKind::AutoMerge
    } else {
        LinkEventKind::Review
    };
    if !auto && sure {
        score.doubts.insert(
            0,
            if score.contradicts {
                Doubt::WouldJoinDistinctPeople
            } else {
                Doubt::AnotherRecordMatchesBetter
            },
        );
    }
    link_event(kind, person, other, &score, at, Actor::System, None)
}

/// A request's household as its links make it: the requests, which request each person met
/// belongs to, and each person's merged partners (with the link's sequence number).
pub(crate) struct Walked {
    pub household: Vec<RequestId>,
    pub request_of: HashMap<PersonId, RequestId>,
    /// The reference code of each request met.
    pub reference_of: HashMap<RequestId, String>,
    pub neighbours: HashMap<PersonId, Vec<(PersonId, i64)>>,
}

impl App {
    /// Walks a request's household: each request's people, their merged partners' requests,
    /// and so on.
    pub(crate) async fn walk_household(
        &self,
        stored: &evac_store::StoredRequest,
        view: &LinkView,
    ) -> Result<Walked, AppError> {
        let request_id = stored.request.id;
        // Persons of merged pairs, and which request each belongs to.
        let mut neighbours: HashMap<PersonId, Vec<(PersonId, i64)>> = HashMap::new();
        for &(a, b, seq) in &view.merged {
            neighbours.entry(a).or_default().push((b, seq));
            neighbours.entry(b).or_default().push((a, seq));
        }
        let mut request_of: HashMap<PersonId, RequestId> = HashMap::new();
        let mut reference_of = HashMap::from([(request_id, stored.request.reference.to_string())]);
        let mut household = vec![request_id];
        let mut persons_todo: Vec<(PersonId, RequestId)> = stored
            .request
            .body
            .party
            .iter()
            .map(|p| (p.id, request_id))
            .collect();
        let mut seen_persons: HashSet<PersonId> = HashSet::new();
        // Walk the household: each request's people, their merged partners' requests, …
        while let Some((person, request)) = persons_todo.pop() {
            if !seen_persons.insert(person) {
                continue;
            }
            request_of.insert(person, request);
            for &(other, _) in neighbours.get(&person).map(Vec::as_slice).unwrap_or(&[]) {
                if seen_persons.contains(&other) {
                    continue;
                }
                let Some(other_request) = self.store.request_of_person(other).await? else {
                    continue;
                };
                if !household.contains(&other_request.request.id) {
                    household.push(other_request.request.id);
                    reference_of.insert(
                        other_request.request.id,
                        other_request.request.reference.to_string(),
                    );
                    for p in &other_request.request.body.party {
                        persons_todo.push((p.id, other_request.request.id));
                    }
                }
                persons_todo.push((other, other_request.request.id));
            }
        }
        Ok(Walked {
            household,
            request_of,
            reference_of,
            neighbours,
        })
    }

    /// The households of `requests`, each once: each inner list holds the household's
    /// requests, the given ones among them.
    pub(crate) async fn households_of(
        &self,
        requests: &[RequestId],
    ) -> Result<Vec<Vec<RequestId>>, AppError> {
        let mut households: Vec<Vec<RequestId>> = Vec::new();
        for &request in requests {
            if households.iter().any(|h| h.contains(&request)) {
                continue;
            }
            let Some(stored) = self.store.request(request).await? else {
                continue;
            };
            let view = LinkView::from_events(&self.link_events_around(&stored).await?);
            households.push(self.walk_household(&stored, &view).await?.household);
        }
        Ok(households)
    }

    /// The requests of a request's household (itself first when alone), for telling whether
    /// two requests that gave one phone are one family.
    pub(crate) async fn household_requests(
        &self,
        request: RequestId,
    ) -> Result<Vec<RequestId>, AppError> {
        let Some(stored) = self.store.request(request).await? else {
            return Ok(vec![request]);
        };
        let view = LinkView::from_events(&self.link_events_around(&stored).await?);
        Ok(self.walk_household(&stored, &view).await?.household)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache of prepared requests never holds more than its bound, keeps what is met
    /// again, and forgets everything when the linker stopped linking since it was filled, or a
    /// request was corrected since.
    #[test]
    fn the_prepared_cache_is_bounded_and_keeps_what_is_met_again() {
        let mut cache = PreparedCache::default();
        let people = |n: usize| -> PreparedPeople {
            (0..n)
                .map(|_| (PersonId::new_v7(), Prepared::new(&LinkRecord::default())))
                .collect()
        };
        let hot = RequestId::new_v7();
        cache.insert(hot, people(2));
        for _ in 0..PREPARED_CACHE_REQUESTS_MAX * 3 {
            cache.insert(RequestId::new_v7(), people(1));
            assert!(cache.young.len() + cache.old.len() <= PREPARED_CACHE_REQUESTS_MAX);
            // Met again and again: never dropped.
            assert_eq!(cache.get(hot).map(|p| p.len()), Some(2));
        }
        cache.forget_before(cache.epoch, cache.keys_generation);
        assert!(cache.get(hot).is_some(), "the same epoch keeps the cache");
        cache.forget_before(cache.epoch + 1, cache.keys_generation);
        assert!(cache.get(hot).is_none(), "a new epoch empties it");
        cache.insert(hot, people(2));
        cache.forget_before(cache.epoch, cache.keys_generation + 1);
        assert!(
            cache.get(hot).is_none(),
            "a correction since (the keys' generation moved on) empties it"
        );
    }

    /// A model learnt on the first requests is learnt again once the crisis has doubled, not
    /// before, and not for a small crisis.
    #[test]
    fn a_crisis_that_doubled_outgrows_its_model() {
        let linker = Linker::default();
        let state = |learnt_from: u64, kept: u64| LinkState {
            model: std::sync::Arc::new(
                evac_link::link(Vec::new(), &LinkSettings::default())
                    .unwrap()
                    .model,
            ),
            matches_observed: 0.0,
            learnt_from,
            kept,
        };
        assert!(!linker.outgrown(), "no model, nothing to outgrow");
        assert!(linker.take_up(0, state(10_000, 19_999)));
        assert!(!linker.outgrown());
        linker.count_kept(1);
        assert!(linker.outgrown(), "twice the people the model learnt from");
        assert!(linker.take_up(0, state(100, 900)));
        assert!(!linker.outgrown(), "below RELEARN_PERSONS_MIN");
        // A model an older release kept (before it counted names together) is learnt again
        // whatever the crisis's size: it was read without the field, as that release wrote it.
        let mut older =
            serde_json::to_value(evac_link::StoredModel::from(&*state(10, 10).model)).unwrap();
        older["model"].as_object_mut().unwrap().remove("learning");
        let older: evac_link::StoredModel = serde_json::from_value(older).unwrap();
        assert!(linker.take_up(
            0,
            LinkState {
                model: std::sync::Arc::new(older.into()),
                ..state(10, 10)
            }
        ));
        assert!(linker.outgrown(), "kept by an older release");
        // A relearning that failed is not tried again at once, but after a while.
        assert!(!linker.failed_lately());
        *linker.relearn_failed_at.lock().unwrap() = Some(std::time::Instant::now());
        assert!(linker.failed_lately());
        *linker.relearn_failed_at.lock().unwrap() =
            std::time::Instant::now().checked_sub(RELEARN_RETRY_AFTER);
        assert!(!linker.failed_lately());
        linker.forget();
        assert!(
            !linker.take_up(0, state(10, 10)),
            "stopped linking since epoch 0"
        );
    }

    /// Oracle: on a linked demo crisis (with a merge undone and a pair judged two people), the
    /// household walked from the events around it is the household walked from the whole log,
    /// for every request.
    #[tokio::test]
    async fn the_events_around_a_household_walk_it_as_the_whole_log_does() {
        let (app, store, _dir) = crate::test_support::demo_app(400, 5).await;
        app.relink().await.unwrap();
        app.add_user(
            None,
            "officer",
            evac_model::Role::CaseOfficer,
            "correct horse battery",
        )
        .await
        .unwrap();
        let officer = app.console_staff("officer").await.unwrap();
        let whole = app.all_link_events().await.unwrap();
        let merge = whole
            .iter()
            .find(|e| e.event.kind == LinkEventKind::AutoMerge)
            .expect("the demo has duplicates");
        app.undo_link(&officer, merge.seq).await.unwrap();
        if let Some(review) = LinkView::from_events(&app.all_link_events().await.unwrap())
            .pending
            .first()
        {
            app.decide_link(&officer, review.seq, false).await.unwrap();
        }
        // A chain the walk must follow beyond the first request's own links: a ~ b ~ c,
        // through b's one person, among requests linkage left alone.
        let linked: HashSet<PersonId> = app
            .all_link_events()
            .await
            .unwrap()
            .iter()
            .flat_map(|e| [e.event.person_a, e.event.person_b])
            .collect();
        let alone: Vec<PersonId> = store
            .list_requests(
                &evac_store::RequestFilter::default(),
                evac_store::PageRequest {
                    after: None,
                    limit: 200,
                    order: evac_store::ListOrder::NewestFirst,
                },
            )
            .await
            .unwrap()
            .items
            .iter()
            .filter(|r| r.request.body.party.iter().all(|p| !linked.contains(&p.id)))
            .map(|r| r.request.body.party[0].id)
            .take(5)
            .collect();
        let chain = |a: PersonId, b: PersonId| LinkEvent {
            at: Timestamp::now(),
            actor: Actor::System,
            kind: LinkEventKind::AutoMerge,
            person_a: a,
            person_b: b,
            match_probability: 0.99,
            explanation: "{}".into(),
            refers_to: None,
        };
        // And a merge the fold holds apart: the fourth was told apart from the first, and
        // the fifth, one person with the fourth, was then merged with the third.
        let told_apart = LinkEvent {
            kind: LinkEventKind::Distinct,
            actor: officer.actor(),
            ..chain(alone[3], alone[0])
        };
        store
            .append_link_events(
                vec![
                    chain(alone[0], alone[1]),
                    chain(alone[1], alone[2]),
                    told_apart,
                    chain(alone[3], alone[4]),
                    chain(alone[4], alone[2]),
                ],
                vec![],
                AppendIf::Always,
            )
            .await
            .unwrap();
        let of_fourth = store.request_of_person(alone[3]).await.unwrap().unwrap();
        let around = LinkView::from_events(&app.link_events_around(&of_fourth).await.unwrap());
        assert_eq!(around.held_apart.len(), 1, "{around:?}");
        assert_eq!(
            app.walk_household(&of_fourth, &around)
                .await
                .unwrap()
                .household
                .len(),
            2,
            "the fourth and the fifth, held apart from the chain"
        );
        let first_of_chain = store.request_of_person(alone[0]).await.unwrap().unwrap();
        let around = LinkView::from_events(&app.link_events_around(&first_of_chain).await.unwrap());
        assert_eq!(
            app.walk_household(&first_of_chain, &around)
                .await
                .unwrap()
                .household
                .len(),
            3,
            "the walk follows the chain to its third request"
        );
        let view_of_all = LinkView::from_events(&app.all_link_events().await.unwrap());
        assert!(
            view_of_all.merged.len() > 10,
            "{}",
            view_of_all.merged.len()
        );
        let mut walked_together = 0;
        let mut after = None;
        loop {
            let page = store
                .list_requests(
                    &evac_store::RequestFilter::default(),
                    evac_store::PageRequest {
                        after,
                        limit: 100,
                        order: evac_store::ListOrder::OldestFirst,
                    },
                )
                .await
                .unwrap();
            for stored in &page.items {
                let around = LinkView::from_events(&app.link_events_around(stored).await.unwrap());
                let mut from_all = app
                    .walk_household(stored, &view_of_all)
                    .await
                    .unwrap()
                    .household;
                let mut from_around = app.walk_household(stored, &around).await.unwrap().household;
                from_all.sort();
                from_around.sort();
                assert_eq!(from_around, from_all, "request {}", stored.request.id);
                walked_together += usize::from(from_all.len() > 1);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert!(
            walked_together > 10,
            "households of several requests: {walked_together}"
        );
    }

    fn event(
        seq: i64,
        kind: LinkEventKind,
        a: u128,
        b: u128,
        refers_to: Option<i64>,
    ) -> StoredLinkEvent {
        StoredLinkEvent {
            seq,
            event: LinkEvent {
                at: Timestamp::from_unix_micros(seq),
                actor: Actor::System,
                kind,
                person_a: PersonId(uuid::Uuid::from_u128(a)),
                person_b: PersonId(uuid::Uuid::from_u128(b)),
                match_probability: 0.9,
                explanation: "{}".into(),
                refers_to,
            },
        }
    }

    #[test]
    fn the_log_folds_into_merges_and_a_queue() {
        use LinkEventKind::*;
        let log = vec![
            event(1, AutoMerge, 1, 2, None),
            event(2, Review, 3, 4, None),
            event(3, Review, 5, 6, None),
            event(4, Match, 5, 6, Some(3)),
            event(5, AutoMerge, 7, 8, None),
            event(6, Undo, 7, 8, Some(5)),
            event(7, Review, 9, 10, None),
            event(8, Distinct, 9, 10, Some(7)),
            event(9, Undo, 9, 10, Some(8)),
        ];
        let view = LinkView::from_events(&log);
        let merged: Vec<i64> = view.merged.iter().map(|m| m.2).collect();
        assert_eq!(merged, vec![1, 4], "the auto-merge and the confirmed match");
        let pending: Vec<i64> = view.pending.iter().map(|e| e.seq).collect();
        assert_eq!(
            pending,
            vec![2, 5, 7],
            "open review, undone auto-merge, undone decision"
        );
        assert_eq!(view.known_pairs.len(), 5);
    }

    /// Records 1 and 2 were told apart; 3 is a copy of 2 and merged with it; then the machine
    /// merged 1 with 3. That merge would make one person of 1 and 2: it is held apart and
    /// waits. A staff "same person" is applied as decided (the decision path refuses one that
    /// contradicts), and once the "two people" is undone the held merge applies.
    #[test]
    fn a_machine_merge_never_joins_two_records_told_apart() {
        use LinkEventKind::*;
        let mut log = vec![
            event(1, Review, 1, 2, None),
            event(2, Distinct, 1, 2, Some(1)),
            event(3, AutoMerge, 2, 3, None),
            event(4, AutoMerge, 1, 3, None),
            event(5, AutoMerge, 4, 5, None),
        ];
        let view = LinkView::from_events(&log);
        let merged: Vec<i64> = view.merged.iter().map(|m| m.2).collect();
        assert_eq!(merged, vec![3, 5]);
        assert_eq!(view.held_apart, HashSet::from([4]));
        let pending: Vec<i64> = view.pending.iter().map(|e| e.seq).collect();
        assert_eq!(pending, vec![4]);
        let p = |n: u128| PersonId(uuid::Uuid::from_u128(n));
        let mut groups = view.groups();
        assert_eq!(view.told_apart_if_joined(&mut groups, p(1), p(3)), Some(2));
        assert_eq!(view.told_apart_if_joined(&mut groups, p(1), p(4)), None);
        assert_eq!(
            view.told_apart_if_joined(&mut groups, p(2), p(3)),
            None,
            "one person already"
        );

        // Told apart from a record that joins the group later: the "two people" moves with
        // the group it lands in (3's, taken into 2's).
        let view = LinkView::from_events(&[
            event(1, Review, 1, 3, None),
            event(2, Distinct, 1, 3, Some(1)),
            event(3, AutoMerge, 2, 3, None),
            event(4, AutoMerge, 1, 2, None),
        ]);
        assert_eq!(view.merged.iter().map(|m| m.2).collect::<Vec<_>>(), vec![3]);
        assert_eq!(view.held_apart, HashSet::from([4]));

        // The first merge in the log's order stands, whichever pair it is.
        let view = LinkView::from_events(&[
            event(1, Review, 1, 2, None),
            event(2, Distinct, 1, 2, Some(1)),
            event(3, AutoMerge, 1, 3, None),
            event(4, AutoMerge, 2, 3, None),
        ]);
        assert_eq!(view.merged.iter().map(|m| m.2).collect::<Vec<_>>(), vec![3]);
        assert_eq!(view.held_apart, HashSet::from([4]));

        // Two officers at once, each "same person" on a pair of its own after a "two people"
        // (each passed the check alone): the second in the log is held apart. A "two people"
        // logged after the merges that join its pair parts nothing (deciding it was refused
        // for want of seeing them).
        let view = LinkView::from_events(&[
            event(1, Review, 1, 2, None),
            event(2, Distinct, 1, 2, Some(1)),
            event(3, Review, 1, 3, None),
            event(4, Review, 3, 2, None),
            event(5, Match, 1, 3, Some(3)),
            event(6, Match, 3, 2, Some(4)),
            event(7, AutoMerge, 4, 5, None),
            event(8, AutoMerge, 5, 6, None),
            event(9, Distinct, 4, 6, None),
        ]);
        assert_eq!(
            view.merged.iter().map(|m| m.2).collect::<Vec<_>>(),
            vec![5, 7, 8]
        );
        assert_eq!(view.held_apart, HashSet::from([6]));
        let told_apart: Vec<i64> = view.told_apart.iter().map(|t| t.2).collect();
        assert_eq!(told_apart, vec![2], "the late \"two people\" is not shown");

        // An officer's "same person" confirming the machine's merge keeps the merge where it
        // was in the log: a merge held apart behind it stays held (the review's case: the
        // confirmation moved the join to the end, and the held merge took its place).
        let view = LinkView::from_events(&[
            event(1, Distinct, 10, 12, None),
            event(2, AutoMerge, 11, 12, None),
            event(3, AutoMerge, 10, 11, None),
            event(4, Match, 11, 12, Some(2)),
        ]);
        assert_eq!(view.merged.iter().map(|m| m.2).collect::<Vec<_>>(), vec![4]);
        assert_eq!(view.held_apart, HashSet::from([3]));

        // The "two people" undone: nothing holds the merge back.
        log.push(event(6, Undo, 1, 2, Some(2)));
        let view = LinkView::from_events(&log);
        assert!(view.held_apart.is_empty(), "{view:?}");
        assert_eq!(view.merged.len(), 3, "{view:?}");
        assert!(
            view.pending.is_empty(),
            "the review is answered by the merges: {view:?}"
        );
    }
}
