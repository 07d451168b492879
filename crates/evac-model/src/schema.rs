//! How the model's values look in the API's OpenAPI document (`utoipa`). Most types derive
//! their schema beside their serde attributes; the few whose wire form is a string written by
//! hand (ids, times, codes, phones) say so here, once.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// A string schema with an optional known format, what it is, and one example.
pub fn string_of(format: Option<KnownFormat>, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(format.map(SchemaFormat::KnownFormat))
        .description(Some(description))
        .examples([example])
        .into()
}

/// `impl ToSchema` for a type written on the wire as one string.
macro_rules! string_schema {
    ($ty:ty, $format:expr, $description:expr, $example:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                $crate::schema::string_of($format, $description, $example)
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use string_schema;

string_schema!(
    crate::Timestamp,
    Some(KnownFormat::DateTime),
    "a moment, RFC 3339 in UTC",
    "2022-01-06T08:30:00Z"
);
string_schema!(
    crate::PassId,
    Some(KnownFormat::Uuid),
    "a boarding pass's id",
    "5f0c2a7e-3b1d-4c8e-9a6f-2d4b8e1c7a90"
);
string_schema!(
    crate::ReferenceCode,
    None,
    "a request's reference code: nine characters of an unambiguous alphabet, checked by its last",
    "K7Q-4F2-9MX"
);
string_schema!(
    crate::CountryCode,
    None,
    "an ISO 3166-1 alpha-2 country code",
    "KZ"
);
string_schema!(
    crate::PhoneE164,
    None,
    "a phone number in E.164",
    "+77012345678"
);
string_schema!(
    crate::Subject,
    None,
    "what a statement is about: `hub:CODE`, `route:CODE` or `zone:CODE`",
    "hub:ALA"
);
string_schema!(
    crate::Effect,
    None,
    "what a statement says: `open`, `closed`, `restricted`, `curfew:HH:MM-HH:MM` (a hub or a road), `military_only` (a hub) or `threat:0`…`threat:5` (a zone)",
    "closed"
);
string_schema!(
    crate::Grade,
    None,
    "a report's grade: source reliability A–F and information credibility 1–6 (the Admiralty code)",
    "B2"
);

/// A calendar day (`jiff::civil::Date`), as a field's `schema(schema_with = …)`.
pub fn date() -> RefOr<Schema> {
    string_of(Some(KnownFormat::Date), "a calendar day", "2014-06-15")
}
