//! Phone numbers: the text as given, and its E.164 form.
//!
//! Requesters write `8 701 123 45 67`, `+7 (701) 123-45-67` or `87011234567`; all are the same
//! Kazakh mobile. Parsing needs a region hint for numbers without a `+`: the country the request
//! comes from. Russia and Kazakhstan share the country code +7, so a hint of either gives the
//! same E.164 number; the metadata then tells which country the number belongs to.

use std::fmt;

use crate::CountryCode;

/// A phone number in E.164 form (`+77011234567`): the proof that it was parsed and valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneE164(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("'{raw}' is not a phone number; write it with its country code, e.g. +7 701 123 45 67")]
    Unparseable { raw: String },
    #[error(
        "'{raw}' is not a valid phone number{}; check the digits or add the country code (+7, +39, ...)",
        .region.map(|r| format!(" for {r}")).unwrap_or_default()
    )]
    Invalid {
        raw: String,
        region: Option<CountryCode>,
    },
}

impl PhoneE164 {
    /// Parses `raw` as written, using `region` for numbers given without a country code.
    pub fn parse(raw: &str, region: Option<CountryCode>) -> Result<Self, PhoneError> {
        let hint = region.map(|r| r.phone_region());
        let number = phonenumber::parse(hint, raw).map_err(|_| PhoneError::Unparseable {
            raw: raw.to_string(),
        })?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid {
                raw: raw.to_string(),
                region,
            });
        }
        Ok(PhoneE164(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneE164 {
    // Phones are personal data: debug output (and so logs) never show the digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneE164(..)")
    }
}

/// A phone as the requester gave it, and what it means.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    pub raw: String,
    pub e164: PhoneE164,
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone(..)")
    }
}

impl serde::Serialize for PhoneE164 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PhoneE164 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(PhoneE164(String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, region: &str, expect: Result<&str, ()>) {
        let region: CountryCode = region.parse().unwrap();
        let got = PhoneE164::parse(raw, Some(region))
            .map(|p| p.as_str().to_string())
            .map_err(|_| ());
        assert_eq!(got.as_deref(), expect.map_err(|_| &()), "{raw} in {region}");
    }

    #[test]
    fn kazakh_and_russian_numbers_in_mixed_formats() {
        check("8 701 123 45 67", "KZ", Ok("+77011234567"));
        check("+7 (701) 123-45-67", "KZ", Ok("+77011234567"));
        check("87011234567", "RU", Ok("+77011234567"));
        check("8 (727) 250 12 34", "KZ", Ok("+77272501234"));
        check("8 916 123-45-67", "KZ", Ok("+79161234567"));
        check("+39 347 123 4567", "KZ", Ok("+393471234567"));
        check("347 123 4567", "IT", Ok("+393471234567"));
        check("12", "KZ", Err(()));
        check("call me", "KZ", Err(()));
    }
}
