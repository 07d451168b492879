//! Identifiers. Every id is a UUID v7 made by the application, so several stateless app nodes
//! can mint them without asking the database, and they sort by creation time (which is what
//! cursor pagination orders by). A request's id takes its time from when the request was
//! received ([`RequestId::received_at`]), so lists of requests are in received order.

use std::fmt;
use std::str::FromStr;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        $crate::schema::string_schema!(
            $name,
            Some(utoipa::openapi::schema::KnownFormat::Uuid),
            concat!("a ", stringify!($name), " (a UUID v7)"),
            "0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11"
        );

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

impl RequestId {
    /// A new id whose time part is when the request was received, so ids sort in received
    /// order: an import or the demo keeps its original times, and the request list (newest
    /// first by id, the order its cursor pages in) is the order the requests came in, not the
    /// order they were stored.
    pub fn received_at(at: crate::Timestamp) -> Self {
        let micros = at.unix_micros().max(0);
        let seconds = u64::try_from(micros / 1_000_000).unwrap_or(0);
        let nanos = u32::try_from((micros % 1_000_000) * 1_000).unwrap_or(0);
        let time = uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos);
        RequestId(uuid::Uuid::new_v7(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_sort_as_the_requests_were_received_whatever_order_they_are_made_in() {
        let at = |s: i64| crate::Timestamp::from_unix_micros(1_641_340_800_000_000 + s * 1_000);
        let made: Vec<(i64, RequestId)> = [5_000, 2, 3_000_000, 1_000, 7]
            .into_iter()
            .map(|ms| (ms, RequestId::received_at(at(ms))))
            .collect();
        let mut by_id = made.clone();
        by_id.sort_by_key(|(_, id)| *id);
        let mut by_time = made;
        by_time.sort_by_key(|(ms, _)| *ms);
        assert_eq!(by_id, by_time);
    }
}
