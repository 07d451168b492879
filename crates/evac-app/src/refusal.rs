//! Why a write was refused because of how things stand — a pass already scanned, a transport
//! already gone, a pair already decided — said so that each front door can word it in its own
//! language: the kind names the message (`refusal-{kind}` in the desk's locales), the
//! arguments fill it, and the English words are the API's, the command line's and the log's.

use std::fmt;

use evac_model::{PersonStatus, TransportStatus};

/// `refusal_kinds!`: the kinds of refusal, each with the key of its message.
macro_rules! refusal_kinds {
    ($($(#[$doc:meta])* $variant:ident = $key:literal),+ $(,)?) => {
        /// What a refusal is about; [`RefusalKind::key`] names its message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum RefusalKind { $($(#[$doc])* $variant),+ }

        impl RefusalKind {
            pub const ALL: &'static [RefusalKind] = &[$(RefusalKind::$variant),+];

            /// The message's key: `refusal-{key}` in a desk's locale.
            pub fn key(self) -> &'static str {
                match self { $(RefusalKind::$variant => $key),+ }
            }
        }
    };
}

refusal_kinds! {
    /// A transport with this code and departure exists already.
    TransportExists = "transport-exists",
    /// A departed or cancelled transport keeps its status.
    TransportStatusFinal = "transport-status-final",
    /// Someone changed the person's status since the page was read.
    PersonMoved = "person-moved",
    /// Someone corrected the request since it was read.
    RequestChanged = "request-changed",
    /// The household changed since the page was opened.
    HouseholdChanged = "household-changed",
    /// Someone changed who holds the requests since the page was read.
    HoldersChanged = "holders-changed",
    /// The pair of records was decided already.
    PairDecided = "pair-decided",
    /// The link decision was undone already.
    LinkUndone = "link-undone",
    /// "Two people" on a pair that other links make one person: those links decide.
    PairJoinedThroughOthers = "pair-joined-through-others",
    /// "Same person" on a pair whose other records a case officer told apart: that decision
    /// stands until undone.
    PairToldApartThroughOthers = "pair-told-apart-through-others",
    /// A decision asked of a link event that records none to decide (an undo, a decision).
    LinkNotDecidable = "link-not-decidable",
    /// An undo asked of a link event that is not a merge or a decision.
    LinkNotUndoable = "link-not-undoable",
    /// The broadcast's group holds more recipients than one broadcast sends to.
    BroadcastTooLarge = "broadcast-too-large",
    /// The broadcast's group changed since its preview.
    BroadcastGroupChanged = "broadcast-group-changed",
    /// Others kept changing the seat log; the write gave up.
    LogBusy = "log-busy",
    /// The pass was replaced by a newer one.
    PassReplaced = "pass-replaced",
    /// The pass's person has no seat now.
    PassWithoutSeat = "pass-without-seat",
    /// The pass is for another transport than the gate's.
    PassWrongGate = "pass-wrong-gate",
    /// The pass was scanned already (checked in, or boarded).
    AlreadyScanned = "already-scanned",
    /// Boarding needs check-in first.
    NotCheckedIn = "not-checked-in",
    /// The transport takes no people now.
    TransportClosed = "transport-closed",
    /// No-shows are released too early: the transport is neither boarding nor about to leave.
    NoShowsTooEarly = "no-shows-too-early",
    /// No pass on the transport has the typed short code.
    PassCodeUnknown = "pass-code-unknown",
    /// Several passes on the transport share the short code.
    ShortCodeShared = "short-code-shared",
    /// The households are being ranked.
    RankingBusy = "ranking-busy",
    /// A user of this name exists.
    UserExists = "user-exists",
    /// Nobody disables their own account.
    OwnAccount = "own-account",
    /// Anything else, in the store's or the system's words (`detail`).
    Other = "other",
}

/// A value a refusal's message names, kept typed so a desk can name it in its language.
#[derive(Debug, Clone, PartialEq)]
pub enum RefusalArg {
    Text(String),
    Count(u64),
    PersonStatus(PersonStatus),
    TransportStatus(TransportStatus),
    /// A duplicate-review decision (merged by hand, kept apart, merged automatically), as
    /// the state it leaves a pair in.
    LinkDecision(evac_model::LinkEventKind),
    /// A link event as a thing ("an undo", "a decision \"two people\"").
    LinkEvent(evac_model::LinkEventKind),
}

/// A refusal: its kind, the values its message names, and its English words.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub args: Vec<(&'static str, RefusalArg)>,
    pub english: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, english: impl Into<String>) -> Self {
        Refusal {
            kind,
            args: Vec::new(),
            english: english.into(),
        }
    }

    /// A refusal in the store's or the system's own words.
    pub fn other(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Refusal::new(RefusalKind::Other, detail.clone()).with("detail", RefusalArg::Text(detail))
    }

    pub fn with(mut self, name: &'static str, value: RefusalArg) -> Self {
        self.args.push((name, value));
        self
    }

    pub fn text(self, name: &'static str, value: impl fmt::Display) -> Self {
        self.with(name, RefusalArg::Text(value.to_string()))
    }

    /// Whether the English words contain `part` (for tests and callers that read them).
    pub fn contains(&self, part: &str) -> bool {
        self.english.contains(part)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

/// A store's refusal as the app says it: the two that name a change someone made meanwhile
/// in words a desk translates, any other in the store's words; other errors stay errors.
pub fn refused_by_store(e: evac_store::StoreError) -> crate::AppError {
    use evac_store::StoreError;
    let english = e.to_string();
    match e {
        StoreError::Refused(what) => crate::AppError::Conflict(Refusal::other(what)),
        StoreError::PersonMoved { now, expected, .. } => {
            let now =
                PersonStatus::parse(&now).map_or(RefusalArg::Text(now), RefusalArg::PersonStatus);
            crate::AppError::Conflict(
                Refusal::new(RefusalKind::PersonMoved, english)
                    .with("now", now)
                    .with("seen", RefusalArg::PersonStatus(expected)),
            )
        }
        StoreError::RequestMoved { .. } => {
            crate::AppError::Conflict(Refusal::new(RefusalKind::RequestChanged, english))
        }
        e => crate::AppError::Store(e),
    }
}

impl From<String> for Refusal {
    fn from(detail: String) -> Self {
        Refusal::other(detail)
    }
}
