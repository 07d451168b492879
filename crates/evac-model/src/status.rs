//! Statuses and the events that change them. Every change is an event with who, when and why;
//! the current status is the last event's target.

use crate::{Timestamp, UserId};

/// Where a person stands on the way home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Registered,
    Verified,
    Assigned,
    Notified,
    CheckedIn,
    Boarded,
    Arrived,
    /// A duplicate record folded into another person.
    Merged,
    /// Left by own means or no longer wants to leave.
    Withdrawn,
    Unreachable,
    Ineligible,
}

impl PersonStatus {
    pub const ALL: [PersonStatus; 11] = [
        PersonStatus::Registered,
        PersonStatus::Verified,
        PersonStatus::Assigned,
        PersonStatus::Notified,
        PersonStatus::CheckedIn,
        PersonStatus::Boarded,
        PersonStatus::Arrived,
        PersonStatus::Merged,
        PersonStatus::Withdrawn,
        PersonStatus::Unreachable,
        PersonStatus::Ineligible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Registered => "registered",
            PersonStatus::Verified => "verified",
            PersonStatus::Assigned => "assigned",
            PersonStatus::Notified => "notified",
            PersonStatus::CheckedIn => "checked_in",
            PersonStatus::Boarded => "boarded",
            PersonStatus::Arrived => "arrived",
            PersonStatus::Merged => "merged",
            PersonStatus::Withdrawn => "withdrawn",
            PersonStatus::Unreachable => "unreachable",
            PersonStatus::Ineligible => "ineligible",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Who did something: a staff member, the public intake, or evac itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Actor {
    User(UserId),
    /// A requester without an account (the public form or API).
    Public,
    /// evac itself: imports run from the command line, the demo generator, migrations.
    System,
}

impl Actor {
    /// The text stored in audit and event rows.
    pub fn label(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Public => "public".to_string(),
            Actor::System => "system".to_string(),
        }
    }
}

/// One change of a person's status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub from: Option<PersonStatus>,
    pub to: PersonStatus,
    pub reason: String,
}
