//! The desk's view of triage: every household ranked, kept between views.
//!
//! Ranking reads every request and the link log (seconds at a million requests), so the desk
//! does not rank on every view. It keeps the last ranking — how many households each priority
//! class holds, and the first [`RANKING_KEPT_MAX`] households in order with their reasons —
//! and serves it while it is younger than [`RANKING_FRESH_MS_MAX`] and no staff change made it
//! stale. A staff change on any node makes every node's kept ranking stale: it moves the
//! ranking's generation in the store on (`evac_store::RANKING_GENERATION`), and each view
//! compares the generation its ranking was made at (one read of one row). Otherwise it ranks again at once when ranking is cheap (the last one took under
//! [`RANKING_WAIT_MS_MAX`]); when it is not, the kept one is served (the page says when it was
//! ranked) while one background task ranks anew. The API's `/triage` ranks live.

use crate::{Refusal, RefusalKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use evac_model::{Permission, Timestamp};
use evac_store::RANKING_GENERATION;

use crate::triage::RankedRequest;
use crate::{App, AppError, Staff};

/// Households kept in order, with their reasons, in a ranking (the head of the queue, which
/// is what staff page through; further pages rank live).
pub const RANKING_KEPT_MAX: usize = 5_000;
/// How long a ranking is served before it is ranked again.
pub const RANKING_FRESH_MS_MAX: u64 = 60_000;
/// A view waits for a new ranking only when the last one took less than this.
pub const RANKING_WAIT_MS_MAX: u64 = 1_000;

/// The threat level from which a household counts as in a zone of high threat (the default
/// policy's class of people in zones of high threat starts there).
pub const HIGH_THREAT_LEVEL_MIN: u8 = 4;

/// What the dashboard counts households by, beside their class: each a filter of the case
/// list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseMark {
    /// A request of it says "medical emergency".
    MedicalEmergency,
    /// A child in it travels without an adult of theirs.
    UnaccompaniedMinor,
    /// It is in a zone whose threat is [`HIGH_THREAT_LEVEL_MIN`] or more.
    HighThreat,
}

impl CaseMark {
    pub const ALL: [CaseMark; 3] = [
        CaseMark::MedicalEmergency,
        CaseMark::UnaccompaniedMinor,
        CaseMark::HighThreat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseMark::MedicalEmergency => "medical_emergency",
            CaseMark::UnaccompaniedMinor => "unaccompanied_minor",
            CaseMark::HighThreat => "high_threat",
        }
    }

    pub fn parse(text: &str) -> Option<CaseMark> {
        CaseMark::ALL.into_iter().find(|m| m.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The marks a household's facts give it, as bits.
    fn of(facts: &evac_triage::CaseFacts) -> u8 {
        let medical = facts
            .urgency
            .iter()
            .any(|u| u == evac_model::Urgency::MedicalEmergency.as_str());
        let alone = facts.members.iter().any(|m| m.unaccompanied_minor);
        let threat = facts.threat_level >= HIGH_THREAT_LEVEL_MIN;
        [
            (medical, CaseMark::MedicalEmergency),
            (alone, CaseMark::UnaccompaniedMinor),
            (threat, CaseMark::HighThreat),
        ]
        .into_iter()
        .filter(|(has, _)| *has)
        .fold(0, |bits, (_, mark)| bits | mark.bit())
    }
}

/// How many households and people carry one mark.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MarkCount {
    pub mark: CaseMark,
    pub households: usize,
    pub people: usize,
}

/// How many households and people one priority class holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ClassCount {
    pub class: u8,
    pub name: String,
    pub households: usize,
    pub people: usize,
}

/// A ranking of every household at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub ranked_at: Timestamp,
    /// Households ranked.
    pub total: usize,
    /// Per class, the most urgent first.
    pub by_class: Vec<ClassCount>,
    /// Per mark (every mark, counted or not).
    pub by_mark: Vec<MarkCount>,
    /// Pairs of records waiting in the duplicate review queue.
    pub reviews_waiting: usize,
    /// Requests with someone linked to, or suggested as, another record, sorted (planned
    /// for or not): the request list's "has duplicates".
    pub with_duplicates: Arc<[evac_model::RequestId]>,
    /// Seats free against people waiting, per hub, busiest first.
    pub hubs: Vec<crate::HubLoad>,
    /// The first [`RANKING_KEPT_MAX`] households, first served first.
    pub head: Vec<RankedRequest>,
    /// Every household in order, as little as a filtered case list needs (its class, marks
    /// and requests): the list filters this, then reads the page's households.
    pub order: Vec<CaseEntry>,
    /// The households' requests, one after another ([`Ranking::requests_of`]): one allocation
    /// for a million households, not one each.
    pub order_requests: Vec<evac_model::RequestId>,
}

impl Ranking {
    /// A household's requests, the one it is named by first.
    pub fn requests_of(&self, entry: &CaseEntry) -> &[evac_model::RequestId] {
        let start = entry.requests_from as usize;
        &self.order_requests[start..start + usize::from(entry.requests)]
    }

    /// A class's name under the policy the ranking used ("" for a class it does not name).
    pub fn class_name(&self, class: u8) -> String {
        self.by_class
            .iter()
            .find(|c| c.class == class)
            .map_or_else(String::new, |c| c.name.clone())
    }
}

/// A household's place in a ranking, for filtering the case list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEntry {
    pub class: u8,
    pub people: u32,
    /// Its [`CaseMark`]s, as bits.
    pub marks: u8,
    /// How many requests it has, and where they start in [`Ranking::order_requests`].
    pub requests: u16,
    pub requests_from: u32,
}

/// A ranking as kept: when it was made, how long making it took, and the store's ranking
/// generation it was made at.
#[derive(Clone)]
struct Kept {
    made: std::time::Instant,
    took_ms: u64,
    generation: i64,
    ranking: Arc<Ranking>,
}

/// The last ranking and whether a task is ranking anew.
#[derive(Default)]
pub(crate) struct RankingCache {
    last: std::sync::Mutex<Option<Kept>>,
    refreshing: AtomicBool,
}

impl App {
    /// Ranks every household now, keeping the class counts and the head of the queue.
    async fn rank_all(&self, now: Timestamp) -> Result<Ranking, AppError> {
        let policy = self.policy_in_force().await?.policy;
        let situation = self.situation_at(now).await?;
        let (names, mut facts, duplicates) =
            self.case_facts_under(&[&situation], None, true).await?;
        let duplicates = duplicates.expect("asked for the duplicates");
        let facts = facts.pop().expect("one situation, one set of facts");
        let hubs = self.hub_loads(&situation, &names, now).await?;
        let order = policy.order(&facts, now.unix_micros());
        let head =
            crate::triage::ranked_slice(&policy, &names, &facts, &order, now, 0, RANKING_KEPT_MAX);
        let mut by_class: Vec<ClassCount> = Vec::new();
        for placement in &order {
            let people = names[placement.case as usize].persons.len();
            match by_class.iter_mut().find(|c| c.class == placement.class) {
                Some(count) => {
                    count.households += 1;
                    count.people += people;
                }
                None => by_class.push(ClassCount {
                    class: placement.class,
                    name: policy
                        .classes
                        .get(usize::from(placement.class).saturating_sub(1))
                        .map_or_else(|| "no class of this policy".to_string(), |c| c.name.clone()),
                    households: 1,
                    people,
                }),
            }
        }
        by_class.sort_by_key(|c| c.class);
        let mut order_requests = Vec::with_capacity(names.len());
        let entries = order
            .iter()
            .map(|placement| {
                let name = &names[placement.case as usize];
                // (A household of more than 65,535 requests keeps the first of them here.)
                let requests = &name.requests[..name.requests.len().min(usize::from(u16::MAX))];
                let entry = CaseEntry {
                    class: placement.class,
                    people: u32::try_from(name.persons.len()).unwrap_or(u32::MAX),
                    marks: CaseMark::of(&facts[placement.case as usize]),
                    requests: requests.len() as u16,
                    requests_from: u32::try_from(order_requests.len()).unwrap_or(u32::MAX),
                };
                order_requests.extend_from_slice(requests);
                entry
            })
            .collect::<Vec<CaseEntry>>();
        let by_mark = CaseMark::ALL
            .into_iter()
            .map(|mark| {
                let marked = entries.iter().filter(|e| e.marks & mark.bit() != 0);
                MarkCount {
                    mark,
                    households: marked.clone().count(),
                    people: marked.map(|e| e.people as usize).sum(),
                }
            })
            .collect();
        Ok(Ranking {
            ranked_at: now,
            total: order.len(),
            by_class,
            by_mark,
            reviews_waiting: duplicates.reviews_waiting,
            with_duplicates: duplicates.requests,
            hubs,
            head,
            order: entries,
            order_requests,
        })
    }

    fn kept_ranking(&self) -> Option<Kept> {
        self.ranking
            .last
            .lock()
            .expect("the ranking lock is never poisoned")
            .clone()
    }

    async fn rank_and_keep(&self) -> Result<Arc<Ranking>, AppError> {
        let started = std::time::Instant::now();
        // A change after this read makes this ranking stale again.
        let generation = self.store.generation(RANKING_GENERATION).await?;
        let ranking = Arc::new(self.rank_all(Timestamp::now()).await?);
        *self
            .ranking
            .last
            .lock()
            .expect("the ranking lock is never poisoned") = Some(Kept {
            made: std::time::Instant::now(),
            took_ms: started.elapsed().as_millis() as u64,
            generation,
            ranking: ranking.clone(),
        });
        Ok(ranking)
    }

    /// Starts one background ranking unless one is running.
    fn refresh_ranking_in_background(&self) {
        if self.ranking.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(e) = app.rank_and_keep().await {
                tracing::warn!(error = %e, "ranking households failed");
            }
            app.ranking.refreshing.store(false, Ordering::Release);
        });
    }

    /// The ranking for the desk: the kept one while fresh; a new one at once when ranking is
    /// cheap (or none is kept and `wait_if_none`); else the kept one while a new one is made in
    /// the background (`None` when there is none yet: the dashboard never waits for it).
    pub async fn desk_ranking(
        &self,
        staff: &Staff,
        wait_if_none: bool,
    ) -> Result<Option<Arc<Ranking>>, AppError> {
        staff.require(Permission::ReadRequests)?;
        let kept = self.kept_ranking();
        let generation = self.store.generation(RANKING_GENERATION).await?;
        let stale = kept.as_ref().is_some_and(|k| k.generation != generation);
        match kept {
            Some(k) if !stale && k.made.elapsed().as_millis() as u64 <= RANKING_FRESH_MS_MAX => {
                Ok(Some(k.ranking))
            }
            Some(k) if k.took_ms < RANKING_WAIT_MS_MAX => Ok(Some(self.rank_and_keep().await?)),
            Some(k) => {
                self.refresh_ranking_in_background();
                Ok(Some(k.ranking))
            }
            None if wait_if_none => Ok(Some(self.rank_and_keep().await?)),
            None => {
                self.refresh_ranking_in_background();
                Ok(None)
            }
        }
    }

    /// The requests with someone linked to, or suggested as, another record (the request
    /// list's "has duplicates"), sorted, as of the kept ranking (which a link decision makes
    /// stale).
    pub async fn requests_with_duplicates(
        &self,
        staff: &Staff,
    ) -> Result<Arc<[evac_model::RequestId]>, AppError> {
        Ok(self
            .desk_ranking(staff, true)
            .await?
            .map_or_else(|| Arc::from(Vec::new()), |r| r.with_duplicates.clone()))
    }

    /// Marks every node's kept ranking stale after a change staff expect to see ranked (a
    /// status set by hand, a correction, a published plan, a new policy, a link decision).
    /// The change is stored already: if the store cannot take the mark, the rankings are
    /// fresh again within [`RANKING_FRESH_MS_MAX`].
    pub(crate) async fn ranking_is_stale(&self) {
        if let Err(e) = self.store.bump_generation(RANKING_GENERATION).await {
            tracing::warn!(error = %e, "cannot mark the kept rankings stale; they age out");
        }
    }
}

/// Which households the case list shows: every one, or those of a class, or the caller's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CaseFilter {
    pub class: Option<u8>,
    /// Households with this mark.
    pub mark: Option<CaseMark>,
    /// Households one of whose requests the caller holds.
    pub mine: bool,
}

/// A page of the case list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseListPage {
    pub ranked_at: Timestamp,
    /// Households the filter lets through.
    pub total: usize,
    /// (rank in the whole queue, 1 first; the household) for each line.
    pub lines: Vec<(usize, RankedRequest)>,
}

impl App {
    /// Households `from..from + limit` of the case list under `filter`, in the order triage
    /// serves them. Unfiltered, the kept head serves and further pages rank live; filtered,
    /// the kept order is filtered and households past the head are read by their first
    /// request (their reasons are on their page: keeping every household's reasons would
    /// cost the ranking its memory bound). `None` while the first ranking is being made.
    pub async fn case_list(
        &self,
        staff: &Staff,
        filter: CaseFilter,
        from: usize,
        limit: usize,
    ) -> Result<Option<CaseListPage>, AppError> {
        let Some(ranking) = self.desk_ranking(staff, true).await? else {
            return Ok(None);
        };
        if filter == CaseFilter::default() {
            if from + limit <= ranking.head.len() || ranking.head.len() == ranking.total {
                return Ok(Some(CaseListPage {
                    ranked_at: ranking.ranked_at,
                    total: ranking.total,
                    lines: ranking
                        .head
                        .iter()
                        .enumerate()
                        .skip(from)
                        .take(limit)
                        .map(|(i, r)| (i + 1, r.clone()))
                        .collect(),
                }));
            }
            let now = Timestamp::now();
            let (total, page) = self.rank_cases(staff, now, from, limit).await?;
            return Ok(Some(CaseListPage {
                ranked_at: now,
                total,
                lines: page
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (from + i + 1, r))
                    .collect(),
            }));
        }
        let chosen = self.chosen_cases(staff, &ranking, filter).await?;
        let mut lines = Vec::new();
        for &position in chosen.iter().skip(from).take(limit) {
            let entry = &ranking.order[position];
            if let Some(kept) = ranking.head.get(position) {
                lines.push((position + 1, kept.clone()));
                continue;
            }
            let requests = ranking.requests_of(entry).to_vec();
            let Some(first) = self.store.request(requests[0]).await? else {
                continue;
            };
            let class_name = ranking.class_name(entry.class);
            lines.push((
                position + 1,
                RankedRequest {
                    request_id: first.request.id,
                    reference: first.request.reference.to_string(),
                    requests,
                    people: entry.people as usize,
                    place: first.request.body.location.text.clone(),
                    priority: evac_triage::Priority {
                        id: first.request.id.to_string(),
                        class: entry.class,
                        class_name,
                        score: 0.0,
                        reasons: Vec::new(),
                        policy: String::new(),
                    },
                },
            ));
        }
        self.audit_read(
            staff,
            "cases.read",
            None,
            serde_json::json!({
                "skip": from,
                "cases": lines.len(),
                "class": filter.class,
                "mark": filter.mark.map(CaseMark::as_str),
                "mine": filter.mine,
            }),
        )
        .await?;
        Ok(Some(CaseListPage {
            ranked_at: ranking.ranked_at,
            total: chosen.len(),
            lines,
        }))
    }
}

impl App {
    /// The positions in `ranking`'s order of the households `filter` lets through.
    async fn chosen_cases(
        &self,
        staff: &Staff,
        ranking: &Ranking,
        filter: CaseFilter,
    ) -> Result<Vec<usize>, AppError> {
        let mine: std::collections::HashSet<evac_model::RequestId> = if filter.mine {
            self.my_cases(staff).await?.into_iter().collect()
        } else {
            Default::default()
        };
        Ok(ranking
            .order
            .iter()
            .enumerate()
            .filter(|(_, e)| filter.class.is_none_or(|c| e.class == c))
            .filter(|(_, e)| filter.mark.is_none_or(|m| e.marks & m.bit() != 0))
            .filter(|(_, e)| {
                !filter.mine || ranking.requests_of(e).iter().any(|r| mine.contains(r))
            })
            .map(|(position, _)| position)
            .collect())
    }

    /// Starts an export of the case list under `filter`, in the order triage serves the
    /// households (audited; for roles that may export requests). The rows come a chunk at a
    /// time ([`CaseExport::next_chunk`]), so memory stays flat however many households.
    pub async fn begin_case_export(
        &self,
        staff: &Staff,
        filter: CaseFilter,
        format: &str,
    ) -> Result<CaseExport, AppError> {
        staff.require(Permission::ExportRequests)?;
        let ranking = self.desk_ranking(staff, true).await?.ok_or_else(|| {
            AppError::Conflict(Refusal::new(
                RefusalKind::RankingBusy,
                "the households are being ranked; try again in a moment",
            ))
        })?;
        let chosen = self.chosen_cases(staff, &ranking, filter).await?;
        self.store
            .append_audit(vec![evac_store::AuditEvent {
                at: Timestamp::now(),
                actor: staff.actor(),
                action: "cases.export".into(),
                subject: None,
                detail: serde_json::json!({
                    "format": format,
                    "cases": chosen.len(),
                    "class": filter.class,
                    "mark": filter.mark.map(CaseMark::as_str),
                    "mine": filter.mine,
                }),
            }])
            .await?;
        Ok(CaseExport {
            app: self.clone(),
            ranking,
            chosen,
            next: 0,
        })
    }
}

/// Households a case export reads the requests of at once (one store read per chunk).
const CASE_EXPORT_CHUNK_HOUSEHOLDS: usize = 200;

/// The columns of a case export, as (header, HXL tag).
pub const CASE_EXPORT_COLUMNS: [evac_exchange::export::Column; 8] = {
    use evac_exchange::export::ColumnKind::{Number, Text};
    [
        ("rank", "#priority+rank", Number),
        ("class", "#priority+class+code", Number),
        ("class_name", "#priority+class+name", Text),
        ("people", "#affected+num", Number),
        ("marks", "#indicator+marks", Text),
        ("references", "#case+code", Text),
        ("place", "#loc+name", Text),
        ("first_received_utc", "#date+received", Text),
    ]
};

/// An export of the case list in progress.
pub struct CaseExport {
    app: App,
    ranking: Arc<Ranking>,
    chosen: Vec<usize>,
    next: usize,
}

impl CaseExport {
    /// Households in the export.
    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// The next chunk of rows, a value per [`CASE_EXPORT_COLUMNS`] column; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<Vec<String>>>, AppError> {
        let chunk: Vec<usize> = self
            .chosen
            .iter()
            .skip(self.next)
            .take(CASE_EXPORT_CHUNK_HOUSEHOLDS)
            .copied()
            .collect();
        if chunk.is_empty() {
            return Ok(None);
        }
        self.next += chunk.len();
        let ranking = &self.ranking;
        let ids: Vec<evac_model::RequestId> = chunk
            .iter()
            .flat_map(|&p| ranking.requests_of(&ranking.order[p]).iter().copied())
            .collect();
        let read = crate::intake::requests_among(&*self.app.store, &ids).await?;
        let rows = chunk
            .iter()
            .map(|&position| {
                let entry = &ranking.order[position];
                let requests: Vec<&evac_model::Request> = ranking
                    .requests_of(entry)
                    .iter()
                    .filter_map(|id| read.get(id).map(|stored| &stored.request))
                    .collect();
                let first = requests.first();
                vec![
                    (position + 1).to_string(),
                    entry.class.to_string(),
                    ranking.class_name(entry.class),
                    entry.people.to_string(),
                    CaseMark::ALL
                        .into_iter()
                        .filter(|m| entry.marks & m.bit() != 0)
                        .map(CaseMark::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                    requests
                        .iter()
                        .map(|r| r.reference.to_string())
                        .collect::<Vec<_>>()
                        .join(";"),
                    first.map_or_else(String::new, |r| r.body.location.text.clone()),
                    first.map_or_else(String::new, |r| r.received_at.to_string()),
                ]
            })
            .collect();
        Ok(Some(rows))
    }
}
