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
        // E.164 is "+", the country code and the national number with its leading zeros: what
        // the crate's E.164 formatter prints, without the pattern matching it does first for
        // the other modes (2.5 % of the HTTP workers' time under intake load, a fifth of phone
        // parsing: docs/BENCHMARKS.md).
        Ok(PhoneE164(format!(
            "+{}{}",
            number.country().code(),
            number.national()
        )))
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

    /// The E.164 form built by hand is the crate's own E.164 formatting, leading zeros and all.
    #[test]
    fn e164_is_what_the_crate_formats() {
        for (raw, region) in [
            ("8 701 123 45 67", "KZ"),
            ("+7 (727) 250 12 34", "KZ"),
            ("8 916 123-45-67", "RU"),
            ("06 6982 1234", "IT"),
            ("+39 347 123 4567", "KZ"),
            ("030 1234567", "DE"),
            ("+44 20 7946 0958", "KZ"),
        ] {
            let region: CountryCode = region.parse().unwrap();
            let number = phonenumber::parse(Some(region.phone_region()), raw).unwrap();
            let ours = PhoneE164::parse(raw, Some(region)).unwrap();
            assert_eq!(
                ours.as_str(),
                number.format().mode(phonenumber::Mode::E164).to_string(),
                "{raw}"
            );
        }
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
        check("06 6982 1234", "IT", Ok("+390669821234"));
        check("12", "KZ", Err(()));
        check("call me", "KZ", Err(()));
    }
}
