//! Statuses and the events that change them. Every change is an event with who, when and why;
//! the current status is the last event's target.

use crate::{Timestamp, UserId};

/// Where a person stands on the way home.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
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

impl std::fmt::Display for PersonStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

    /// The statuses staff set by hand, each with the permission it takes. Seats (assigned,
    /// notified, checked in, boarded) come only from the seat log, and merges only from
    /// linkage, so a hand cannot contradict the plan or the gate.
    pub const SET_BY_HAND: [(PersonStatus, crate::Permission); 6] = [
        (PersonStatus::Registered, crate::Permission::WriteRequests),
        (PersonStatus::Verified, crate::Permission::VerifyPeople),
        (PersonStatus::Withdrawn, crate::Permission::WriteRequests),
        (PersonStatus::Unreachable, crate::Permission::WriteRequests),
        (PersonStatus::Ineligible, crate::Permission::VerifyPeople),
        (PersonStatus::Arrived, crate::Permission::CheckIn),
    ];

    /// The permission a hand needs to move a person from `self` to `to`, beyond the one
    /// setting `to` needs: a verification decision (verified, ineligible) is undone only by
    /// whoever may make one (an operator may withdraw an ineligible person, not make them
    /// eligible again by setting them back to registered).
    pub fn leaving_needs(self, to: PersonStatus) -> crate::Permission {
        match (self, to) {
            (PersonStatus::Ineligible, to)
                if !matches!(to, PersonStatus::Ineligible | PersonStatus::Withdrawn) =>
            {
                crate::Permission::VerifyPeople
            }
            (PersonStatus::Verified, PersonStatus::Registered) => crate::Permission::VerifyPeople,
            _ => crate::Permission::WriteRequests,
        }
    }

    /// Why staff may not move a person from `self` to `to`, if they may not (the permission
    /// is checked apart).
    pub fn hand_change_refused(self, to: PersonStatus) -> Option<String> {
        if !Self::SET_BY_HAND.iter().any(|(s, _)| *s == to) {
            return Some(format!(
                "'{}' is set by the plan, the gate or linkage, not by hand; set one of: {}",
                to.as_str(),
                Self::SET_BY_HAND.map(|(s, _)| s.as_str()).join(", ")
            ));
        }
        match (self, to) {
            (PersonStatus::Merged, _) => {
                Some("this record was merged into another person: change that one".into())
            }
            (from, PersonStatus::Arrived) if from != PersonStatus::Boarded => Some(format!(
                "only a boarded person arrives; this one is {}",
                from.as_str()
            )),
            (PersonStatus::Boarded | PersonStatus::Arrived, to) if to != PersonStatus::Arrived => {
                Some(format!(
                    "this person already left ({}); only 'arrived' follows",
                    self.as_str()
                ))
            }
            _ => None,
        }
    }

    /// Whether planning still looks for a seat for a person in this status.
    pub fn wants_a_seat(self) -> bool {
        !matches!(
            self,
            PersonStatus::Withdrawn
                | PersonStatus::Ineligible
                | PersonStatus::Merged
                | PersonStatus::Arrived
        )
    }
}

/// Who did something: a staff member, the public intake, or evac itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StatusEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub from: Option<PersonStatus>,
    pub to: PersonStatus,
    pub reason: String,
}

impl crate::Choice for PersonStatus {
    const WHAT: &'static str = "PersonStatus";

    fn parse_choice(s: &str) -> Option<Self> {
        PersonStatus::parse(s)
    }

    fn choices() -> String {
        PersonStatus::ALL.map(PersonStatus::as_str).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_set_only_what_no_log_owns() {
        use PersonStatus::*;
        assert_eq!(Registered.hand_change_refused(Verified), None);
        assert_eq!(Notified.hand_change_refused(Withdrawn), None);
        assert_eq!(Boarded.hand_change_refused(Arrived), None);
        for seat in [Assigned, Notified, CheckedIn, Boarded, Merged] {
            let refused = Registered.hand_change_refused(seat).expect("refused");
            assert!(refused.contains("not by hand"), "{refused}");
        }
        assert!(Registered.hand_change_refused(Arrived).is_some());
        assert!(Boarded.hand_change_refused(Withdrawn).is_some());
        assert!(Merged.hand_change_refused(Verified).is_some());
    }
}
