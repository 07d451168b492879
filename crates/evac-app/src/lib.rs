//! evac's use cases: what staff and requesters can do, over the model, the store and (later)
//! the linkage and planning cores. Both front-ends — the web crate and the CLI — call this
//! crate and nothing below it, so access rules, auditing and validation cannot be bypassed by
//! choosing another door.
//!
//! Every use case that reads or writes a person's data takes the acting [`Staff`] (or the public
//! actor for intake), checks the permission here and writes an audit event.

mod accounts;
mod audit;
mod boarding;
mod broadcast;
mod calls;
mod casework;
mod data_protection;
mod demo;
pub use demo::DEMO_BUS_STATION;
mod desk;
mod household;
mod import;
mod intake;
mod linkage;
mod login_guard;
mod mail;
mod messaging;
mod messenger;
mod pass_keys;
mod planning;
mod ranking;
mod reconfirm;
mod refusal;
mod situation;
mod store_url;
#[cfg(test)]
mod test_support;
mod transports;
mod triage;

use std::sync::Arc;

use evac_model::{Actor, CountryCode, FieldError, Permission, Role, UserId};
use evac_store::{Store, StoreError};

pub use accounts::{NewToken, SESSION_S_MAX, TokenView, hash_password};
pub use audit::{AuditSealer, SEAL_INTERVAL_MS};
pub use boarding::{
    BoardingPass, CALL_TIME_AHEAD_OF_CLOCK_MAX_S, Manifest, NoShows, PRESENCE_HOURS_MAX, Present,
    Published, Scanned, SeatChangeView, call_time_not_ahead,
};
pub use broadcast::{BROADCAST_RECIPIENTS_MAX, BroadcastPreview, BroadcastSample, BroadcastSent};
pub use calls::{
    CALLBACK_BACKOFF_MINUTES, CALLBACK_LEASE_MS, CALLBACKS_LISTED_MAX, LoggedCall, QueuedCallback,
    callback_after, direction_words, outcome_words,
};
pub use casework::{BulkOutcome, BulkRefusal, HistoryLine, SeatView};
pub use data_protection::{Erased, Retention};
pub use desk::{
    DashboardView, PUBLIC_MESSAGES_MAX, PlaceCount, PublicSeat, PublicStatus, SESSION_TOKEN_LABEL,
};
pub use evac_model::NOTE_CHARS_MAX;
pub use evac_model::PASSWORD_CHARS_MIN;
pub use evac_model::{NewRoute, NewZone, ZoneCentre};
pub use evac_model::{PersonAddition, PersonCorrection, RequestCorrection};
pub use household::{HeldBy, HouseholdLink, HouseholdView, MY_CASES_MAX};
pub use import::{IMPORTS_IN_FLIGHT_MAX, ImportSummary};
pub use intake::{ExportActor, ExportCursor, LIST_COUNT_MAX, Submitted};
pub use linkage::{
    LINK_POLL_MS, LINKAGE_LEASE_MS, LINKAGE_LEASE_RENEW_MS, LinkView, LinkageWorker, LinkedPerson,
    PersonLinks, RelinkSummary, RelinkTimes, RequestLinks, ReviewItem, ReviewOrder, ReviewQuery,
    ReviewQueuePage, SameAs,
};
pub use login_guard::{
    LOGIN_ACCOUNT_FAILURES_MAX, LOGIN_ADDRESS_FAILURES_MAX, LOGIN_LOCK_S, LOGIN_WINDOW_S,
};
pub use mail::{
    ATTACHMENTS_READ_MAX, EMAIL_BYTES_MAX, EmailChannel, EmailSettings, ImapSettings, MailboxPass,
};
pub use messaging::{
    CALLBACK_SECRET_CHARS_MIN, Channel, ChannelError, KANNEL_REPORTS_WITHIN_S, KannelChannel,
    KannelSettings, LogChannel, MessagingSettings, Received, SEND_LEASE_MS, SENDS_IN_FLIGHT_MAX,
    SLOW_ANSWER_MS, Senders, sends_in_flight,
};
pub use messenger::{
    MESSENGER_CHANNEL, MESSENGER_UPDATE_BYTES_MAX, MessengerChannel, MessengerSettings, Update,
};
pub use pass_keys::{PassKey, PassKeys};
pub use planning::{FeederLeg, HubLoad, PlanRun, Seated, Waiting};
pub use ranking::{
    CASE_EXPORT_COLUMNS, CaseEntry, CaseExport, CaseFilter, CaseListPage, CaseMark, ClassCount,
    HIGH_THREAT_LEVEL_MIN, MarkCount, RANKING_FRESH_MS_MAX, RANKING_KEPT_MAX, Ranking,
};
pub use reconfirm::Reconfirmed;
pub use refusal::{Refusal, RefusalArg, RefusalKind, refused_by_store};
pub use situation::{
    Ingested, LocationReading, SituationView, SubjectView, geonames_id, read_location,
};
pub use store_url::{DatabaseUrl, grant_app_role, open_store, postgres_database_and};
pub use transports::{TransportFilter, TransportOrder};
pub use triage::{Household, PolicyChange, PolicyInForce, RankedRequest, case_facts, households};

/// What evac needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Region for phone numbers given without a country code, when the request names no country.
    pub default_region: Option<CountryCode>,
    /// Which reports the situation picture trusts without confirmation, and how fast they fade.
    pub trust: evac_model::TrustPolicy,
    /// How travel time to a hub is estimated from distance.
    pub travel: evac_geo::TravelModel,
    /// How requesters are told and heard (channels, links, this node's name).
    pub messaging: MessagingSettings,
    /// How fast one address may write to the public side or look up statuses.
    pub public_limit: PublicLimit,
    /// How fast one staff account may call the API (a leaked token, a runaway script).
    pub account_limit: AccountLimit,
    /// When the crisis's personal data is anonymised by itself (`None`: only by hand).
    pub retention: Option<RetentionSchedule>,
    /// The boarding-pass key file (0600, the same on every node); `None` keeps a key in
    /// memory for this process only (tests, library use).
    pub pass_key_file: Option<std::path::PathBuf>,
    /// The crisis's time zone, in which the desk shows every time (the crisis cell thinks in
    /// the hubs' local time; machines and the API keep UTC).
    pub desk_time_zone: jiff::tz::TimeZone,
    /// Load balancers on other hosts whose `X-Forwarded-For` names the caller (a proxy on
    /// this host is always believed): the public limit and the sign-in lock-out count the
    /// caller, not the balancer.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The desk's time zone unless configured: the crisis evac was first built for.
pub const DEFAULT_DESK_TIME_ZONE: &str = "Asia/Almaty";

/// The public side's flood limit per address: a steady rate and a burst (`per_address_per_s`
/// 0 switches it off). A family submits once and looks its status up now and then; a hotel's
/// shared connection carries many families, hence the burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicLimit {
    pub per_address_per_s: u32,
    pub burst: u32,
}

/// The API's limit per staff account: a steady rate and a burst (`per_account_per_s` 0
/// switches it off). A planner's script importing a spreadsheet row by row stays under it; a
/// stolen token used to page through every request does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLimit {
    pub per_account_per_s: u32,
    pub burst: u32,
}

impl Default for AccountLimit {
    fn default() -> Self {
        AccountLimit {
            per_account_per_s: 50,
            burst: 500,
        }
    }
}

/// Retention after a crisis: once it was closed (`crisis_closed_at`, set by the crisis centre
/// when the evacuation is over) and `anonymise_after_days` have passed, the nodes anonymise
/// every request received before the closing, as `evac retention --apply` does by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSchedule {
    pub crisis_closed_at: evac_model::Timestamp,
    pub anonymise_after_days: u32,
}

impl RetentionSchedule {
    /// When the anonymisation is due.
    pub fn due_at(&self) -> evac_model::Timestamp {
        self.crisis_closed_at
            .plus_seconds(i64::from(self.anonymise_after_days) * 24 * 3600)
    }
}

/// How often a node looks whether the retention schedule is due (s).
pub const RETENTION_CHECK_S: u64 = 3_600;

impl Default for PublicLimit {
    fn default() -> Self {
        PublicLimit {
            per_address_per_s: 5,
            burst: 60,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_region: Some("KZ".parse().expect("KZ is a country")),
            trust: evac_model::TrustPolicy::default(),
            travel: evac_geo::TravelModel::default(),
            messaging: MessagingSettings::default(),
            public_limit: PublicLimit::default(),
            account_limit: AccountLimit::default(),
            retention: None,
            pass_key_file: None,
            // Falls back to UTC where the system has no time zone database.
            desk_time_zone: jiff::tz::TimeZone::get(DEFAULT_DESK_TIME_ZONE)
                .unwrap_or(jiff::tz::TimeZone::UTC),
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Every problem of the input, each naming its field.
    #[error("{}", invalid_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    #[error("sign in first: this needs a staff account")]
    Unauthenticated,
    #[error("your role ({role}) may not {action}")]
    Forbidden {
        role: Role,
        action: &'static str,
        /// What the role lacks (for a desk to say it in its language).
        permission: Permission,
    },
    #[error(
        "this Idempotency-Key was already used with a different body; use a new key for a new request"
    )]
    IdempotencyConflict,
    /// Refused because of how things stand, in words each front door can translate.
    #[error("{0}")]
    Conflict(Refusal),
    #[error("{0}")]
    BadInput(String),
    /// Too many failed sign-ins for the account or from the address: locked for a while.
    #[error(
        "too many failed sign-ins for this account or from this address; try again in {retry_after_s} s"
    )]
    TooManyAttempts { retry_after_s: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// "2 invalid fields: kind: 'boat' is not one of: …; seats: …", for the console and logs.
fn invalid_fields(errors: &[FieldError]) -> String {
    let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
    match errors.len() {
        1 => format!("1 invalid field: {}", list[0]),
        n => format!("{n} invalid fields: {}", list.join("; ")),
    }
}

/// A signed-in staff member: the proof that authentication happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
}

impl Staff {
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }

    /// The single gate every use case passes: the role table in `evac-model` decides.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.role.allows(permission) {
            return Ok(());
        }
        let action = match permission {
            Permission::ReadRequests => "read requests",
            Permission::ReadContacts => "see people's phones, e-mail addresses, messages or calls",
            Permission::ReadCaseNotes => "see what people wrote of their situation and health",
            Permission::WriteRequests => "enter or change requests",
            Permission::ExportRequests => "export requests",
            Permission::ManageUsers => "manage users",
            Permission::ReadAudit => "read the audit trail",
            Permission::ReadSituation => "read the situation picture",
            Permission::ReviewDuplicates => "decide on duplicates",
            Permission::VerifyPeople => "mark people verified or ineligible",
            Permission::EditSituation => "change the situation picture",
            Permission::ChangePolicy => "change the triage policy",
            Permission::PlanTransports => "add transports or plan",
            Permission::ReadManifests => "read manifests or boarding passes",
            Permission::CheckIn => "check passengers in or board them",
            Permission::Broadcast => "send broadcasts to requesters",
            Permission::ProtectData => "export or erase a person's data",
            Permission::AssignCases => "give cases to other staff or take them from their holder",
        };
        Err(AppError::Forbidden {
            role: self.role,
            action,
            permission,
        })
    }
}

/// The application: one `Arc`, so cloning it for every request handler is one atomic increment.
#[derive(Clone)]
pub struct App(Arc<AppParts>);

pub struct AppParts {
    store: Arc<dyn Store>,
    settings: Settings,
    linker: Arc<linkage::Linker>,
    /// The background thread that matches new requests, started with the first of them.
    online_linker: std::sync::OnceLock<linkage::OnlineLinker>,
    /// Signs boarding passes; its key is read from (or made in) the store on first use.
    pass_keys: tokio::sync::OnceCell<PassKeys>,
    /// The desk's last ranking of every household (see `ranking.rs`).
    ranking: Arc<ranking::RankingCache>,
    /// Where new requests' reference codes come from: counting, so they sort together in the
    /// store's index (see [`evac_model::ReferenceSequence`]).
    references: evac_model::ReferenceSequence,
    /// Wakes this node's senders when something was queued (see `messaging.rs`).
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Password checks running at once (argon2 takes 19 MiB and a core's time each).
    login_checks: tokio::sync::Semaphore,
}

impl std::ops::Deref for App {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl App {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        App(Arc::new(AppParts {
            store,
            settings,
            linker: Arc::default(),
            online_linker: std::sync::OnceLock::new(),
            pass_keys: tokio::sync::OnceCell::new(),
            ranking: Arc::default(),
            references: evac_model::ReferenceSequence::starting_anywhere(&mut rand::rng()),
            outbox_wake: Arc::default(),
            login_checks: tokio::sync::Semaphore::new(login_guard::LOGIN_CHECKS_AT_ONCE),
        }))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A moment as staff read it: to the minute in the crisis's time zone, with its offset
    /// ("2022-01-06 20:05 +06"): the desk's columns and the words of a refusal alike.
    pub fn shown_time(&self, at: evac_model::Timestamp) -> String {
        at.to_minute_in(&self.settings.desk_time_zone)
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }
}
