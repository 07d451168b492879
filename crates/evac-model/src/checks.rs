//! The checks every draft's validation is made of, and the lenient reading of a draft's fields.
//!
//! A draft (`RequestDraft`, `TransportDraft`, …) holds what a front door received as plain
//! text; its `validate` walks it with a [`Checker`], which parses each field into its type or
//! notes a [`FieldError`] with the field's path and what to do, so that every problem of an
//! input is reported at once. The JSON API and the desk's forms decode into the same draft:
//! [`scalar`] lets a field arrive as a JSON string, number or boolean, or as a form's text.

use std::fmt;
use std::ops::RangeInclusive;

use jiff::civil::Date;
use serde::Deserialize;

use crate::request::{Email, PHONES_PER_CONTACT_MAX, SHORT_TEXT_CHARS_MAX};
use crate::{Choice, CountryCode, FieldError, PersonName, Phone, PhoneE164, Timestamp};

/// A field's JSON path as something to display (`"location.text"`, or
/// `format_args!("{person}.birth_date")` for `party[2].birth_date`), spelled out only when an
/// error names the field: formatting every path of every valid request was a fifth of
/// validation's work.
pub(crate) trait FieldPath: fmt::Display + Copy {}

impl<T: fmt::Display + Copy> FieldPath for T {}

/// Collects field errors while validation walks a draft.
#[derive(Default)]
pub(crate) struct Checker {
    pub errors: Vec<FieldError>,
    /// The time zone a time written without an offset is read in (a time picker's
    /// "2022-01-07T12:00" is the crisis's wall clock); UTC when none is given.
    pub zone: Option<jiff::tz::TimeZone>,
}

/// The most of a value an error quotes back, in characters: enough to recognise what was
/// typed, never a whole hostile body (a field may be as long as the body limit allows).
pub const QUOTED_CHARS_MAX: usize = 40;

/// A value as an error quotes it: in single quotes, cut after [`QUOTED_CHARS_MAX`] characters
/// with "…", on one line (line breaks and tabs shown as "␊", "␍", "␉", so a problem stays one
/// line of a CSV or a console), and hidden characters (controls, bidirectional marks) shown as
/// "�" so that the quote reads as typed wherever it is shown.
pub fn quoted<T: AsRef<str> + ?Sized>(value: &T) -> Quoted<'_> {
    Quoted(value.as_ref())
}

/// See [`quoted`].
pub struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('\'')?;
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(QUOTED_CHARS_MAX) {
            f.write_char(match c {
                '\n' => '␊',
                '\r' => '␍',
                '\t' => '␉',
                c if hidden_character(c) => '\u{FFFD}',
                c => c,
            })?;
        }
        if chars.next().is_some() {
            f.write_char('…')?;
        }
        f.write_char('\'')
    }
}

/// What the checks every text field shares found, for a front door to say in its own language
/// whatever the field: its English words are a [`FieldError`]'s reason, made and read here
/// alone ([`TextProblem::of`]), so another language says "too long" of a too-long surname
/// instead of the surname's own advice ("without digits or signs").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    TooLong { chars_max: usize },
    HiddenCharacter { code: u32 },
    LineBreak { code: u32 },
}

const TOO_LONG: (&str, &str) = ("is longer than ", " characters; shorten it");
const HIDDEN: (&str, &str) = (
    "holds an invisible control or direction character (U+",
    ") that could hide or reorder what staff read; remove it",
);
const LINE_BREAK: (&str, &str) = ("holds a line break or tab (U+", "); write it on one line");

impl TextProblem {
    /// The English words, as a field error's reason.
    pub fn reason(self) -> String {
        match self {
            TextProblem::TooLong { chars_max } => {
                format!("{}{chars_max}{}", TOO_LONG.0, TOO_LONG.1)
            }
            TextProblem::HiddenCharacter { code } => format!("{}{code:04X}{}", HIDDEN.0, HIDDEN.1),
            TextProblem::LineBreak { code } => {
                format!("{}{code:04X}{}", LINE_BREAK.0, LINE_BREAK.1)
            }
        }
    }

    /// The problem a reason made by [`TextProblem::reason`] names; `None` for any other reason.
    pub fn of(reason: &str) -> Option<TextProblem> {
        let between =
            |(before, after): (&str, &str)| reason.strip_prefix(before)?.strip_suffix(after);
        if let Some(n) = between(TOO_LONG) {
            return n
                .parse()
                .ok()
                .map(|chars_max| TextProblem::TooLong { chars_max });
        }
        if let Some(code) = between(HIDDEN) {
            return u32::from_str_radix(code, 16)
                .ok()
                .map(|code| TextProblem::HiddenCharacter { code });
        }
        let code = between(LINE_BREAK)?;
        u32::from_str_radix(code, 16)
            .ok()
            .map(|code| TextProblem::LineBreak { code })
    }

    /// Its message key in a front door's locale (`text-too-long`, …) and the values it names.
    pub fn message(self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            TextProblem::TooLong { chars_max } => {
                ("text-too-long", vec![("max", chars_max.to_string())])
            }
            TextProblem::HiddenCharacter { code } => (
                "text-hidden-character",
                vec![("code", format!("{code:04X}"))],
            ),
            TextProblem::LineBreak { .. } => ("text-line-break", Vec::new()),
        }
    }
}

/// A character text may not hold: a control character other than line breaks and tabs, or a
/// bidirectional control (marks, embeddings, overrides, isolates).
pub fn hidden_character(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A field given as text: trimmed, `None` when empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Checker {
    /// A time as an error names it: to the minute, in the zone the draft is read in (the
    /// crisis's on the desk), not as the machine keeps it.
    pub fn shown(&self, at: crate::Timestamp) -> String {
        at.to_minute_in(self.zone.as_ref().unwrap_or(&jiff::tz::TimeZone::UTC))
    }

    pub fn fail(&mut self, path: impl fmt::Display, reason: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.to_string(),
            reason: reason.into(),
        });
    }

    /// The value, or every problem found (and none of the value).
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            // A draft whose check forgot to name a missing field: never answer "invalid" with
            // nothing to fix.
            None if self.errors.is_empty() => Err(vec![FieldError {
                path: String::new(),
                reason: "a required field is missing; send every field the form asks for".into(),
            }]),
            _ => Err(self.errors),
        }
    }

    /// One line of text (a name, a place, a document number) of at most
    /// `SHORT_TEXT_CHARS_MAX` characters; `None` when empty.
    pub fn short_text(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<String> {
        let text = self.text(path, value, SHORT_TEXT_CHARS_MAX)?;
        if let Some(c) = text.chars().find(|c| matches!(c, '\n' | '\r' | '\t')) {
            self.fail(path, TextProblem::LineBreak { code: u32::from(c) }.reason());
            return None;
        }
        Some(text)
    }

    /// Trimmed text of at most `chars_max` characters; `None` when empty. Control characters
    /// (NUL and the like) and direction overrides are refused: they can hide or reorder what
    /// staff read on a list or a manifest (a name spoofed right-to-left), and some databases
    /// refuse them.
    pub fn text(
        &mut self,
        path: impl FieldPath,
        value: &Option<String>,
        chars_max: usize,
    ) -> Option<String> {
        let value = given(value)?;
        if value.chars().count() > chars_max {
            self.fail(path, TextProblem::TooLong { chars_max }.reason());
            return None;
        }
        if let Some(c) = value.chars().find(|c| hidden_character(*c)) {
            self.fail(
                path,
                TextProblem::HiddenCharacter { code: u32::from(c) }.reason(),
            );
            return None;
        }
        Some(value.to_string())
    }

    /// As [`Checker::short_text`], noting `what_to_give` when the field is empty.
    pub fn required(
        &mut self,
        path: impl FieldPath,
        value: &Option<String>,
        what_to_give: &str,
    ) -> Option<String> {
        let text = self.short_text(path, value);
        if text.is_none() && given(value).is_none() {
            self.fail(path, format!("is required; {what_to_give}"));
        }
        text
    }

    pub fn name(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<PersonName> {
        self.short_text(path, value)
            .and_then(|v| PersonName::new(&v))
    }

    pub fn country(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<CountryCode> {
        let value = given(value)?;
        match value.parse() {
            Ok(c) => Some(c),
            Err(e) => {
                self.fail(path, e.to_string());
                None
            }
        }
    }

    /// A date as people write it: `2012-05-31`, `31.05.2012` or `31/05/2012` (day first, as
    /// in Kazakhstan, Russia and Italy).
    pub fn date(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<Date> {
        let value = given(value)?;
        let parsed = parse_date(value);
        if parsed.is_none() {
            self.fail(
                path,
                format!(
                    "{} is not a date; write it as DD.MM.YYYY or YYYY-MM-DD, e.g. 31.05.2012",
                    quoted(value)
                ),
            );
        }
        parsed
    }

    pub fn phones(
        &mut self,
        path: impl FieldPath,
        raw: &[String],
        region: Option<CountryCode>,
    ) -> Vec<Phone> {
        if raw.len() > PHONES_PER_CONTACT_MAX {
            self.fail(
                path,
                format!(
                    "has {} numbers; give at most {PHONES_PER_CONTACT_MAX}",
                    raw.len()
                ),
            );
            return Vec::new();
        }
        let mut phones: Vec<Phone> = Vec::new();
        for (i, raw) in raw.iter().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            match PhoneE164::parse(raw, region) {
                Ok(e164) if phones.iter().any(|p| p.e164 == e164) => {}
                Ok(e164) => phones.push(Phone {
                    raw: raw.trim().to_string(),
                    e164,
                }),
                Err(e) => self.fail(format!("{path}[{i}]"), e.to_string()),
            }
        }
        phones
    }

    pub fn email(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<Email> {
        let value = given(value)?;
        let email = Email::parse(value);
        if email.is_none() {
            self.fail(
                path,
                format!(
                    "{} is not an e-mail address; write it as name@example.org",
                    quoted(value)
                ),
            );
        }
        email
    }

    pub fn one_of<T: Copy>(
        &mut self,
        path: impl FieldPath,
        value: &str,
        parse: fn(&str) -> Option<T>,
        choices: fn() -> String,
    ) -> Option<T> {
        let parsed = parse(value);
        if parsed.is_none() {
            self.fail(
                path,
                format!("{} is not one of: {}", quoted(value.trim()), choices()),
            );
        }
        parsed
    }

    /// One of a closed set of words; `None` (and no problem) when the field is empty.
    pub fn choice<T: Choice>(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<T> {
        let value = given(value)?;
        let parsed = T::parse_choice(value);
        if parsed.is_none() {
            self.fail(
                path,
                format!("{} is not one of: {}", quoted(value), T::choices()),
            );
        }
        parsed
    }

    /// Parses a list of choices, reporting each bad entry by index and dropping repeats.
    pub fn distinct_list<T: Copy + PartialEq>(
        &mut self,
        path: impl FieldPath,
        raw: &[String],
        parse: fn(&str) -> Option<T>,
        choices: fn() -> String,
    ) -> Vec<T> {
        let mut out = Vec::new();
        for (i, item) in raw.iter().enumerate() {
            if let Some(value) = self.one_of(format_args!("{path}[{i}]"), item, parse, choices)
                && !out.contains(&value)
            {
                out.push(value);
            }
        }
        out
    }

    /// A whole number in `range`; `None` (and no problem) when the field is empty.
    pub fn whole(
        &mut self,
        path: impl FieldPath,
        value: &Option<String>,
        range: RangeInclusive<u32>,
    ) -> Option<u32> {
        let value = given(value)?;
        match value.parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.fail(
                    path,
                    format!(
                        "{} is not a whole number from {} to {}",
                        quoted(value),
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A decimal number in `range`; `None` (and no problem) when the field is empty.
    pub fn decimal(
        &mut self,
        path: impl FieldPath,
        value: &Option<String>,
        range: RangeInclusive<f64>,
    ) -> Option<f64> {
        let value = given(value)?;
        match value.replace(',', ".").parse::<f64>() {
            Ok(x) if range.contains(&x) => Some(x),
            _ => {
                self.fail(
                    path,
                    format!(
                        "{} is not a number from {} to {}",
                        quoted(value),
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A moment: RFC 3339 (`2022-01-06T14:00:00Z`, `2022-01-06T20:00:00+06:00`), or a date and
    /// time without an offset (`2022-01-06T14:00`, what a browser's time picker sends), read
    /// as UTC. `None` (and no problem) when the field is empty.
    pub fn time(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<Timestamp> {
        let value = given(value)?;
        let zone = self.zone.clone().unwrap_or(jiff::tz::TimeZone::UTC);
        let parsed = value.parse::<Timestamp>().ok().or_else(|| {
            let civil: jiff::civil::DateTime = value.replace(' ', "T").parse().ok()?;
            let at = civil.to_zoned(zone.clone()).ok()?.timestamp();
            Some(Timestamp::from_unix_micros(at.as_microsecond()))
        });
        if parsed.is_none() {
            self.fail(
                path,
                format!(
                    "{} is not a time; write it as 2022-01-06T14:00:00Z (UTC) or 2022-01-06T20:00 (local time)",
                    quoted(value)
                ),
            );
        }
        parsed
    }

    /// Yes or no (`true`/`false`, `yes`/`no`, `on` from a checkbox); `None` when empty.
    pub fn yes_no(&mut self, path: impl FieldPath, value: &Option<String>) -> Option<bool> {
        let value = given(value)?;
        match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => {
                self.fail(path, format!("{} is neither yes nor no", quoted(value)));
                None
            }
        }
    }
}

/// A date in one of the formats [`Checker::date`] takes.
pub fn parse_date(value: &str) -> Option<Date> {
    let value = value.trim();
    if value.len() == 10
        && let Ok(d) = value.parse::<Date>()
    {
        return Some(d);
    }
    let mut parts = value.split(['.', '/']);
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || day.len() > 2 || month.len() > 2 {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}

/// Reads a draft's field from whatever the door sent: a JSON string, number or boolean (as
/// their text), null, or a form's text. For `#[serde(deserialize_with = "scalar")]` on an
/// `Option<String>` field.
pub fn scalar<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize, utoipa::ToSchema)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Whole(i64),
        Decimal(f64),
        YesNo(bool),
    }
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| match s {
        Scalar::Text(t) => t,
        Scalar::Whole(n) => n.to_string(),
        Scalar::Decimal(x) => x.to_string(),
        Scalar::YesNo(b) => b.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_people_write_them() {
        let may_31 = Date::new(2012, 5, 31).unwrap();
        for written in ["2012-05-31", "31.05.2012", "31/05/2012", " 31.5.2012 "] {
            assert_eq!(parse_date(written), Some(may_31), "{written}");
        }
        for wrong in [
            "31.13.2012",
            "2012-5-31",
            "31.05.12",
            "05/31/2012",
            "tomorrow",
        ] {
            assert_eq!(parse_date(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn a_number_names_its_field_and_range() {
        let mut c = Checker::default();
        assert_eq!(c.whole("seats", &Some("146".into()), 1..=2000), Some(146));
        assert_eq!(c.whole("seats", &Some("x".into()), 1..=2000), None);
        assert_eq!(c.whole("seats", &None, 1..=2000), None);
        assert_eq!(c.errors.len(), 1);
        assert_eq!(c.errors[0].path, "seats");
        assert!(c.errors[0].reason.contains("from 1 to 2000"));
    }

    #[test]
    fn a_time_picker_value_is_read_as_utc() {
        let mut c = Checker::default();
        let at = c.time("at", &Some("2022-01-06T14:00".into())).unwrap();
        assert_eq!(at.to_string(), "2022-01-06T14:00:00Z");
        assert!(c.time("at", &Some("6 Jan".into())).is_none());
        assert_eq!(c.errors.len(), 1);
    }
}
