//! evac's entities and the value types that prove their contents were checked.
//!
//! Nothing here does I/O or reads the clock: "now" and randomness are passed in. Every
//! constrained value (a phone, a reference code, a country) is a type built once at the edge
//! by parsing; code that holds one does not check it again. Personal data types print as
//! `(..)` in `Debug`, so a stray `{:?}` cannot leak a name or a phone into a log.

#[macro_use]
mod macros;

mod boarding;
mod checks;
mod country;
mod drafts;
mod ids;
mod linkage;
mod name;
pub mod name_key;
mod phone;
mod reference;
mod request;
mod role;
pub mod schema;
mod situation;
mod status;
mod time;
mod transport;
mod trust;

pub use boarding::{
    HeldSeat, JourneyStatus, PASS_TOKEN_PREFIX, PassClaims, PassError, PassId, PassSigner, Seat,
    SeatBook, SeatEvent, SeatEventKind, StoredSeatEvent, verify_pass,
};
pub use checks::{
    QUOTED_CHARS_MAX, Quoted, TextProblem, hidden_character, parse_date, quoted, scalar,
};
pub use country::{CountryCode, CountryCodeError};
pub use drafts::*;
pub use ids::{InboundId, MessageId, PersonId, ReportId, RequestId, TransportId, UserId};
pub use linkage::{LinkEvent, LinkEventKind, StoredLinkEvent};
pub use macros::Choice;
pub use name::{PersonName, to_icao_latin};
pub use name_key::name_search_keys;
pub use phone::{Phone, PhoneE164, PhoneError};
pub use reference::{ReferenceCode, ReferenceCodeError, ReferenceSequence};
pub use request::*;
pub use role::{Permission, Role};
pub use situation::*;
pub use status::{Actor, PersonStatus, StatusEvent};
pub use time::Timestamp;
pub use transport::{
    BAGGAGE_KG_PER_PERSON_MAX, Feed, TRANSPORT_PAYLOAD_KG_MAX, TRANSPORT_PAYLOAD_KG_MIN,
    TRANSPORT_SEATS_MAX, Transport, TransportKind, TransportStatus,
};
pub use trust::{Claim, DerivedStatus, TrustPolicy, WeighedClaim};
