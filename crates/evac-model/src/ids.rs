//! Identifiers. Every id is a UUID v7 made by the application, so several stateless app nodes
//! can mint them without asking the database, and they sort by creation time (which is what
//! cursor pagination orders by).

use std::fmt;
use std::str::FromStr;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new_v7() -> Self {
                $name(uuid::Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name(s.parse()?))
            }
        }
    };
}

uuid_id!(
    /// One submission.
    RequestId
);
uuid_id!(
    /// One human being as evac knows them (several records may later be linked to one).
    PersonId
);
uuid_id!(
    /// A household that travels together.
    CaseId
);
uuid_id!(
    /// A staff account.
    UserId
);
uuid_id!(
    /// A situation report.
    ReportId
);
uuid_id!(
    /// A flight, bus, train or convoy.
    TransportId
);
uuid_id!(
    /// A message to a requester in the outbox.
    MessageId
);
uuid_id!(
    /// A message from a requester (an SMS, an e-mail, a logged call).
    InboundId
);
