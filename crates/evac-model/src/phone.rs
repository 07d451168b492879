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
    #[error(
        "{} is not a phone number; write it with its country code, e.g. +7 701 123 45 67",
        crate::quoted(.raw)
    )]
    Unparseable { raw: String },
    #[error(
        "{} is not a valid phone number{}; check the digits or add the country code (+7, +39, ...)",
        crate::quoted(.raw),
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
        match common_mobile_of_code_7(raw, region) {
            Some(phone) => Ok(phone),
            None => Self::parse_with_metadata(raw, region),
        }
    }

    /// The general parser: `phonenumber` with its full metadata (about 10 µs a number).
    fn parse_with_metadata(raw: &str, region: Option<CountryCode>) -> Result<Self, PhoneError> {
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

/// How the numbers below may be written: `d` stands for a digit, the first one being the `7`
/// after `+` or the trunk prefix `8`. Only layouts the general parser reads the same way are
/// here (it refuses some odd ones, such as `+77771305-951`); the property test checks each.
const COMMON_LAYOUTS: &[&str] = &[
    "+ddddddddddd",
    "+d ddd ddd dd dd",
    "+d ddd ddd-dd-dd",
    "+d ddd ddd dddd",
    "+d-ddd-ddd-dd-dd",
    "+d (ddd) ddd-dd-dd",
    "+d (ddd) ddd dd dd",
    "+d(ddd)ddd-dd-dd",
    "ddddddddddd",
    "d ddd ddd dd dd",
    "d ddd ddd-dd-dd",
    "d ddd ddd dddd",
    "d-ddd-ddd-dd-dd",
    "d (ddd) ddd-dd-dd",
    "d (ddd) ddd dd dd",
    "d(ddd)ddd-dd-dd",
];

/// The numbers requesters give most, read without the general parser: a mobile of Kazakhstan
/// or Russia (country code 7), written `+7` and ten digits, or, with either country as the hint,
/// the trunk prefix `8` (or `7` without the `+`) and ten digits, in one of the [`COMMON_LAYOUTS`]. `None` for everything
/// else, which the general parser then reads. The mobile ranges are those of `phonenumber`'s
/// metadata for KZ (`7(?:0[0-25-8]|47|6[0-4]|7[15-8]|85)\d{7}`, the numbers it assigns to KZ
/// by their leading 7) and RU (`9\d{9}`); a property test holds every answer to the general
/// parser's.
fn common_mobile_of_code_7(raw: &str, region: Option<CountryCode>) -> Option<PhoneE164> {
    let text = raw.trim();
    let mut layout = [0u8; 24];
    let mut digits = [0u8; 11];
    let (mut length, mut count) = (0, 0);
    for byte in text.bytes() {
        if length == layout.len() {
            return None;
        }
        if byte.is_ascii_digit() {
            if count == digits.len() {
                return None;
            }
            digits[count] = byte;
            count += 1;
            layout[length] = b'd';
        } else {
            layout[length] = byte;
        }
        length += 1;
    }
    let layout = &layout[..length];
    if count != digits.len() || !COMMON_LAYOUTS.iter().any(|l| l.as_bytes() == layout) {
        return None;
    }
    let prefix_ok = if layout[0] == b'+' {
        digits[0] == b'7'
    } else {
        // The trunk prefix 8, or the country code 7 without its `+` (as often written there);
        // only with either country as the hint, since elsewhere they mean something else.
        matches!(digits[0], b'7' | b'8')
            && matches!(region.as_ref().map(|r| r.as_str()), Some("KZ" | "RU"))
    };
    let national = &digits[1..];
    let mobile = matches!(
        national,
        [b'9', ..]
            | [b'7', b'0', b'0'..=b'2' | b'5'..=b'8', ..]
            | [b'7', b'4', b'7', ..]
            | [b'7', b'6', b'0'..=b'4', ..]
            | [b'7', b'7', b'1' | b'5'..=b'8', ..]
            | [b'7', b'8', b'5', ..]
    );
    if !(prefix_ok && mobile) {
        return None;
    }
    let national = std::str::from_utf8(national).expect("ASCII digits");
    Some(PhoneE164(format!("+7{national}")))
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
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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

    /// Inputs shaped like the common case and around it: every accepted layout, and others,
    /// with the prefix digit right or wrong, national numbers in and out of the mobile ranges,
    /// and now and then a digit too many or too few.
    fn phone_like(rng: &mut impl rand::Rng) -> String {
        const OTHER_LAYOUTS: &[&str] = &[
            "dddddddd-ddd",
            "+ddddddd-dddd",
            "+dd-ddddddddd",
            "+d dddddddddd",
            "+d ddd dd dd ddd",
            "d-ddd-ddd-dddd",
            "+d (ddd) ddd-dddd",
            "+dd ddd ddd dd dd",
            "ddd ddd dd dd",
            "+d ddd ddd dd d",
            "+d/ddd/ddd/dd/dd",
            "+d.ddd.ddd.dd.dd",
        ];
        const STARTS: &[&str] = &[
            "70", "71", "72", "747", "75", "76", "77", "78", "785", "79", "9", "8", "3", "4", "0",
            "700", "702", "703", "705", "708", "709", "760", "764", "765", "771", "774",
        ];
        let layout = if rng.random_bool(0.7) {
            COMMON_LAYOUTS[rng.random_range(0..COMMON_LAYOUTS.len())]
        } else {
            OTHER_LAYOUTS[rng.random_range(0..OTHER_LAYOUTS.len())]
        };
        let mut national = STARTS[rng.random_range(0..STARTS.len())].to_string();
        let wanted = layout.bytes().filter(|&b| b == b'd').count();
        while national.len() + 1 < wanted {
            national.push(char::from(b'0' + rng.random_range(0..10u8)));
        }
        national.truncate(wanted.saturating_sub(1));
        let prefix = ['7', '8', '7', '8', '9', '0'][rng.random_range(0..6)];
        let mut digits = std::iter::once(prefix).chain(national.chars());
        let mut text: String = layout
            .chars()
            .map(|c| {
                if c == 'd' {
                    digits.next().unwrap_or('5')
                } else {
                    c
                }
            })
            .collect();
        match rng.random_range(0..10) {
            0 => text.push('3'),
            1 => {
                text.pop();
            }
            2 => text = format!(" {text} "),
            _ => {}
        }
        text
    }

    /// Every number the common-case reader accepts is the general parser's answer too.
    #[test]
    fn the_common_case_reader_agrees_with_the_general_parser() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let regions: Vec<Option<CountryCode>> =
            [Some("KZ"), Some("RU"), Some("IT"), Some("KG"), None]
                .iter()
                .map(|r| r.map(|r| r.parse().unwrap()))
                .collect();
        let mut accepted = 0;
        let cases = 40_000;
        for _ in 0..cases {
            let raw = phone_like(&mut rng);
            let region = regions[rng.random_range(0..regions.len())];
            if let Some(fast) = common_mobile_of_code_7(&raw, region) {
                accepted += 1;
                let general = PhoneE164::parse_with_metadata(&raw, region);
                assert_eq!(Ok(&fast), general.as_ref(), "{raw:?} with hint {region:?}");
            }
        }
        // Not vacuous: a good share of the inputs took the short way.
        assert!(accepted > cases / 20, "only {accepted} of {cases} accepted");
    }

    #[test]
    fn kazakh_and_russian_numbers_in_mixed_formats() {
        check("8 701 123 45 67", "KZ", Ok("+77011234567"));
        check("+7 (701) 123-45-67", "KZ", Ok("+77011234567"));
        check("87011234567", "RU", Ok("+77011234567"));
        check("77011234567", "KZ", Ok("+77011234567"));
        check("8 (727) 250 12 34", "KZ", Ok("+77272501234"));
        check("8 916 123-45-67", "KZ", Ok("+79161234567"));
        check("+39 347 123 4567", "KZ", Ok("+393471234567"));
        check("347 123 4567", "IT", Ok("+393471234567"));
        check("06 6982 1234", "IT", Ok("+390669821234"));
        check("12", "KZ", Err(()));
        check("call me", "KZ", Err(()));
    }
}
