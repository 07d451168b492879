//! What evac says to the people it evacuates, and how it reads what they answer. Pure: no I/O
//! and no clock; the app renders a notice here when it queues it in the outbox, and a channel
//! (SMS through Kannel, e-mail, the demo's log) only carries the text.
//!
//! - [`Notice`]s render in the requester's language (English, Russian, Kazakh, Italian, from
//!   Fluent files in `locales/`), falling back to English;
//! - [`Segments`] says how many SMS a text costs: a text in the GSM 03.38 alphabet fits 160
//!   characters in one SMS (153 a part when split), anything else (Cyrillic, Kazakh letters) is
//!   sent as UCS-2 with 70 (67 a part);
//! - [`Reply`] reads a requester's answer (`STATUS K7Q-4F2-9MX`, `YES`/`NO`/`ДА`/`НЕТ`/`ИӘ`/`ЖОҚ`/
//!   `SÌ`) and finds a reference code anywhere in it;
//! - [`Retry`] is the sender's backoff: when to try a failed message again, and when to give up.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use evac_model::ReferenceCode;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static NOTICES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks: they would cost SMS characters and show on old phones.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages notices are written in; a request in another language gets English.
pub const LANGUAGES: [&str; 4] = ["en", "ru", "kk", "it"];

/// A language of the notices, from a request's language tag (`ru`, `kk-KZ`, …).
fn language_id(tag: &str) -> &'static LanguageIdentifier {
    static IDS: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
        LANGUAGES
            .iter()
            .map(|l| l.parse().expect("a language code"))
            .collect()
    });
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let i = LANGUAGES.iter().position(|l| *l == primary).unwrap_or(0);
    &IDS[i]
}

/// A journey's leg after the first, as a seat notice names it: the household is told where to
/// be first (the first leg) and what takes it on from there, leg by leg.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Onward {
    pub transport: String,
    pub hub: String,
    /// In the hub's local time.
    pub departs: String,
}

/// One thing evac tells a requester.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// The request is stored: its reference code and where to look up its status.
    Acknowledgement {
        reference: String,
        status_url: String,
    },
    /// A seat: the transport, where it leaves, when (the hub's local time), when to be there,
    /// the short pass code and where the pass is.
    Seat {
        reference: String,
        transport: String,
        /// The household's seat numbers ("12-15", "12, 14"; see [`seat_numbers`]).
        seats: String,
        hub: String,
        departs: String,
        be_there: String,
        pass_code: String,
        pass_url: String,
        /// The journey's legs after this one, in order, when the transport brings the
        /// household to another hub (a convoy to the airport its flight leaves from).
        onward: Vec<Onward>,
    },
    /// The seat moved to another transport, and why.
    SeatMoved {
        reference: String,
        transport: String,
        seats: String,
        hub: String,
        departs: String,
        why: String,
        pass_code: String,
        pass_url: String,
        /// The journey's legs after this one, as for [`Notice::Seat`].
        onward: Vec<Onward>,
    },
    /// The seat is gone (a closed hub, a cancelled transport), and why; the household waits
    /// for the next plan.
    SeatLost {
        reference: String,
        transport: String,
        why: String,
    },
    /// "Do you still need to leave?" for a request that has waited long.
    Reconfirm { reference: String },
    /// Staff's words to a group, as written.
    Broadcast { text: String },
    /// The answer to `STATUS`: the status in words.
    StatusReply { reference: String, status: String },
    /// The answer to `NO`.
    WithdrawnReply { reference: String },
    /// The answer to `YES`.
    ConfirmedReply { reference: String },
    /// The answer to a message no request could be found for.
    UnknownReply,
    /// A bare YES, NO or STATUS from a number evac wrote to about several requests: which?
    AmbiguousReply { references: String },
    /// A messenger chat's first words: share your number (the messenger's own button) to get
    /// your request's messages here.
    MessengerWelcome,
    /// The chat now gets the messages of `requests` requests that gave the shared number.
    MessengerLinked { requests: String },
    /// A shared number that is someone else's: only one's own links a chat.
    MessengerNotOwn,
}

impl Notice {
    /// The template's name (the Fluent message id), stored with the message.
    pub fn template(&self) -> &'static str {
        match self {
            Notice::Acknowledgement { .. } => "ack",
            Notice::Seat { .. } => "seat",
            Notice::SeatMoved { .. } => "seat-moved",
            Notice::SeatLost { .. } => "seat-lost",
            Notice::Reconfirm { .. } => "reconfirm",
            Notice::Broadcast { .. } => "broadcast",
            Notice::StatusReply { .. } => "reply-status",
            Notice::WithdrawnReply { .. } => "reply-withdrawn",
            Notice::ConfirmedReply { .. } => "reply-confirmed",
            Notice::UnknownReply => "reply-unknown",
            Notice::AmbiguousReply { .. } => "reply-ambiguous",
            Notice::MessengerWelcome => "messenger-welcome",
            Notice::MessengerLinked { .. } => "messenger-linked",
            Notice::MessengerNotOwn => "messenger-not-own",
        }
    }

    /// How soon it should go, 1 first: a seat and its changes before acknowledgements and
    /// answers, those before broadcasts.
    pub fn priority(&self) -> u8 {
        match self {
            Notice::Seat { .. } | Notice::SeatMoved { .. } | Notice::SeatLost { .. } => 1,
            Notice::StatusReply { .. }
            | Notice::WithdrawnReply { .. }
            | Notice::ConfirmedReply { .. }
            | Notice::UnknownReply
            | Notice::AmbiguousReply { .. }
            | Notice::MessengerWelcome
            | Notice::MessengerLinked { .. }
            | Notice::MessengerNotOwn => 2,
            Notice::Acknowledgement { .. } | Notice::Reconfirm { .. } => 3,
            Notice::Broadcast { .. } => 5,
        }
    }

    fn arguments(&self) -> Vec<(&'static str, &str)> {
        match self {
            Notice::Acknowledgement {
                reference,
                status_url,
            } => vec![("reference", reference), ("status_url", status_url)],
            Notice::Seat {
                reference,
                transport,
                seats,
                hub,
                departs,
                be_there,
                pass_code,
                pass_url,
                onward: _,
            } => vec![
                ("reference", reference),
                ("transport", transport),
                ("seats", seats),
                ("hub", hub),
                ("departs", departs),
                ("be_there", be_there),
                ("pass_code", pass_code),
                ("pass_url", pass_url),
            ],
            Notice::SeatMoved {
                reference,
                transport,
                seats,
                hub,
                departs,
                why,
                pass_code,
                pass_url,
                onward: _,
            } => vec![
                ("reference", reference),
                ("transport", transport),
                ("seats", seats),
                ("hub", hub),
                ("departs", departs),
                ("why", why),
                ("pass_code", pass_code),
                ("pass_url", pass_url),
            ],
            Notice::SeatLost {
                reference,
                transport,
                why,
            } => vec![
                ("reference", reference),
                ("transport", transport),
                ("why", why),
            ],
            Notice::Reconfirm { reference }
            | Notice::WithdrawnReply { reference }
            | Notice::ConfirmedReply { reference } => vec![("reference", reference)],
            Notice::Broadcast { text } => vec![("text", text)],
            Notice::StatusReply { reference, status } => {
                vec![("reference", reference), ("status", status)]
            }
            Notice::MessengerLinked { requests } => vec![("requests", requests)],
            Notice::AmbiguousReply { references } => vec![("references", references)],
            Notice::UnknownReply | Notice::MessengerWelcome | Notice::MessengerNotOwn => Vec::new(),
        }
    }

    /// The text in `language` (English where evac has no notices in it).
    pub fn render(&self, language: &str) -> String {
        let language = language_id(language);
        let mut args: HashMap<Cow<'static, str>, FluentValue> = self
            .arguments()
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), FluentValue::from(v.to_string())))
            .collect();
        if let Notice::Seat { onward, .. } | Notice::SeatMoved { onward, .. } = self {
            // Each next leg is a sentence of its own in the same language.
            let then: String = onward
                .iter()
                .map(|leg| {
                    let leg_args: HashMap<Cow<'static, str>, FluentValue> = [
                        ("transport", &leg.transport),
                        ("hub", &leg.hub),
                        ("departs", &leg.departs),
                    ]
                    .into_iter()
                    .map(|(k, v)| (Cow::Borrowed(k), FluentValue::from(v.to_string())))
                    .collect();
                    NOTICES.lookup_with_args(language, "seat-onward", &leg_args)
                })
                .collect();
            args.insert(Cow::Borrowed("onward"), FluentValue::from(then));
        }
        NOTICES.lookup_with_args(language, self.template(), &args)
    }
}

/// The label of the messenger's "share my number" button, in `language`.
pub fn share_number_button(language: &str) -> String {
    NOTICES.lookup(language_id(language), "messenger-share-button")
}

/// A person's status in words, in `language`, for `STATUS` answers.
pub fn status_words(status: evac_model::PersonStatus, language: &str) -> String {
    NOTICES.lookup(
        language_id(language),
        &format!("status-{}", status.as_str()),
    )
}

/// How a text travels by SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// The GSM 03.38 alphabet: 7 bits a character (an extension character takes two).
    Gsm7,
    /// Anything else: UCS-2, 16 bits a character.
    Ucs2,
}

/// What a text costs as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Segments {
    pub encoding: SmsEncoding,
    /// Characters as the encoding counts them (a GSM extension character counts two; a
    /// character outside the basic plane counts two in UCS-2).
    pub units: usize,
    /// SMS it is sent as.
    pub parts: usize,
}

/// The GSM 03.38 basic character set.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table (each costs an escape and the character).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// One SMS holds 160 GSM-7 units or 70 UCS-2 units; a split message loses 7 and 3 of them
/// to the header that joins the parts.
pub const SMS_GSM7_SINGLE: usize = 160;
pub const SMS_GSM7_PART: usize = 153;
pub const SMS_UCS2_SINGLE: usize = 70;
pub const SMS_UCS2_PART: usize = 67;

impl Segments {
    pub fn of(text: &str) -> Segments {
        let gsm_units: Option<usize> = text
            .chars()
            .map(|c| {
                if GSM7_BASIC.contains(c) {
                    Some(1)
                } else if GSM7_EXTENSION.contains(c) {
                    Some(2)
                } else {
                    None
                }
            })
            .sum();
        let (encoding, units, single, part) = match gsm_units {
            Some(units) => (SmsEncoding::Gsm7, units, SMS_GSM7_SINGLE, SMS_GSM7_PART),
            None => (
                SmsEncoding::Ucs2,
                text.chars().map(char::len_utf16).sum(),
                SMS_UCS2_SINGLE,
                SMS_UCS2_PART,
            ),
        };
        let parts = match units {
            0 => 1,
            u if u <= single => 1,
            u => u.div_ceil(part),
        };
        Segments {
            encoding,
            units,
            parts,
        }
    }
}

/// What a requester's message asks, read from its words in any of the four languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `STATUS`, `СТАТУС`, `МӘРТЕБЕ`, `STATO` (with or without a code).
    Status,
    /// `YES`, `ДА`, `ИӘ`, `SÌ`/`SI`: still needs to leave.
    Yes,
    /// `NO`, `НЕТ`, `ЖОҚ`: no longer needs to leave.
    No,
    /// Anything else: for a human to read.
    Other,
}

impl Reply {
    /// Reads a message's keyword. `STATUS` may be followed by anything (a code); `YES` and
    /// `NO` count only as the whole answer (with a reference code, thanks or punctuation at
    /// most): "No problem, we are coming" is no withdrawal, it is for a human to read.
    pub fn read(text: &str) -> Reply {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | ':' | ';'))
            .filter(|w| !w.is_empty())
            .map(str::to_uppercase)
            .collect();
        let Some(first) = words.first() else {
            return Reply::Other;
        };
        // What may follow a bare YES or NO: a reference code (whole or in three parts) and
        // a word of thanks.
        let only_code_or_thanks = || {
            let rest: Vec<&String> = words[1..]
                .iter()
                .filter(|w| {
                    !matches!(
                        w.as_str(),
                        "THANKS" | "THANK" | "YOU" | "СПАСИБО" | "РАХМЕТ" | "РАҚМЕТ" | "GRAZIE"
                    )
                })
                .collect();
            let joined: String = rest.iter().map(|w| w.as_str()).collect();
            rest.is_empty() || reference_in(&joined).is_some() && joined.replace('-', "").len() == 9
        };
        match first.as_str() {
            "STATUS" | "СТАТУС" | "МӘРТЕБЕ" | "МАРТЕБЕ" | "STATO" => {
                Reply::Status
            }
            "YES" | "Y" | "ДА" | "ИӘ" | "ИА" | "SÌ" | "SI" if only_code_or_thanks() => {
                Reply::Yes
            }
            "NO" | "N" | "НЕТ" | "ЖОҚ" | "ЖОК" if only_code_or_thanks() => Reply::No,
            _ => Reply::Other,
        }
    }
}

/// The first reference code written anywhere in a text (`K7Q-4F2-9MX`, `k7q4f29mx`,
/// `K7Q 4F2 9MX`), checked by its check character. Only whole words count (a code, or three
/// words of three symbols): a run of letters inside other words is no code, even when its
/// check character happens to fit.
pub fn reference_in(text: &str) -> Option<ReferenceCode> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches('-').to_string())
        .collect();
    let symbols = |w: &str| w.chars().filter(|c| *c != '-').count();
    words.iter().enumerate().find_map(|(i, word)| {
        let alone = (symbols(word) == 9).then(|| word.clone());
        let spaced = words
            .get(i..i + 3)
            .filter(|three| three.iter().all(|w| symbols(w) == 3))
            .map(|three| three.concat());
        [alone, spaced]
            .into_iter()
            .flatten()
            .find_map(|candidate| candidate.parse().ok())
    })
}

/// The new words of an e-mail reply: the lines before the quoted message (`> …`, a line
/// ending in "wrote:" or its Russian and Italian forms, an "Original Message" rule) and before
/// a signature (`-- `). A reply of "NO" above the quoted seat notice reads as "NO".
pub fn fresh_text(body: &str) -> String {
    let mut fresh = Vec::new();
    for line in body.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        let quote_starts = trimmed.starts_with('>')
            || line == "-- "
            || trimmed == "--"
            || lower.contains("original message")
            || lower.contains("исходное сообщение")
            || ((lower.ends_with("wrote:")
                || lower.ends_with("написал:")
                || lower.ends_with("написал(а):")
                || lower.ends_with("ha scritto:"))
                && !fresh.is_empty());
        if quote_starts {
            break;
        }
        fresh.push(line);
    }
    fresh.join("\n").trim().to_string()
}

/// When a failed message is tried again: after `base_s`, doubling each attempt up to `max_s`,
/// and not after [`Retry::ATTEMPTS_MAX`] attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub base_s: u32,
    pub max_s: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            base_s: 10,
            max_s: 1_800,
        }
    }
}

impl Retry {
    /// A message is given up after this many attempts that failed (about a day with the
    /// default waits: long enough to outlast a cut mobile network for a while, short enough
    /// that staff see who was never reached).
    pub const ATTEMPTS_MAX: u32 = 60;

    /// Seconds to wait after `attempts` failed attempts, or `None` to give up.
    pub fn wait_s(&self, attempts: u32) -> Option<u32> {
        if attempts >= Self::ATTEMPTS_MAX {
            return None;
        }
        let doubled = u64::from(self.base_s) << attempts.saturating_sub(1).min(20);
        Some(doubled.min(u64::from(self.max_s)) as u32)
    }
}

/// A household's seat numbers as a notice writes them: runs joined ("12-15", "3, 7-8"), in
/// ascending order; empty when the seats have no numbers.
pub fn seat_numbers(numbers: &[u32]) -> String {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        runs.push(if sorted[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", sorted[i])
        });
        i += 1;
    }
    runs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seat() -> Notice {
        Notice::Seat {
            reference: "K7Q-4F2-9MX".into(),
            transport: "SU 1942".into(),
            seats: "12-15".into(),
            hub: "NQZ".into(),
            departs: "07.01 14:00".into(),
            be_there: "07.01 12:00".into(),
            pass_code: "4F7K2Q".into(),
            pass_url: "https://evac.example/p/4F7K2Q".into(),
            onward: Vec::new(),
        }
    }

    #[test]
    fn every_notice_renders_in_every_language_with_all_its_values() {
        let notices = [
            Notice::Acknowledgement {
                reference: "K7Q-4F2-9MX".into(),
                status_url: "https://evac.example/status".into(),
            },
            seat(),
            Notice::SeatMoved {
                reference: "K7Q-4F2-9MX".into(),
                transport: "KC 2".into(),
                seats: "3".into(),
                hub: "NQZ".into(),
                departs: "08.01 09:00".into(),
                why: "hub ALA closed".into(),
                pass_code: "9MX4F7".into(),
                pass_url: "https://evac.example/p/9MX4F7".into(),
                onward: Vec::new(),
            },
            Notice::SeatLost {
                reference: "K7Q-4F2-9MX".into(),
                transport: "KC 2".into(),
                why: "cancelled".into(),
            },
            Notice::Reconfirm {
                reference: "K7Q-4F2-9MX".into(),
            },
            Notice::Broadcast {
                text: "Road to NQZ open".into(),
            },
            Notice::AmbiguousReply {
                references: "K7Q-4F2-9MX, 4F2-K7Q-9MX".into(),
            },
            Notice::MessengerWelcome,
            Notice::MessengerLinked {
                requests: "2".into(),
            },
            Notice::MessengerNotOwn,
        ];
        for lang in LANGUAGES {
            for notice in &notices {
                let text = notice.render(lang);
                assert!(!text.contains('{'), "{lang} {}: {text}", notice.template());
                for (name, value) in notice.arguments() {
                    assert!(
                        text.contains(value),
                        "{lang} {}: {name} missing in {text}",
                        notice.template()
                    );
                }
            }
        }
        assert!(seat().render("ru").contains("вылет"));
        assert!(
            seat().render("de").contains("departs"),
            "English for others"
        );
    }

    /// A convoy's seat notice told the household of the convoy only: it names the flight
    /// that takes it on from the convoy's end, in every language, and a direct seat's notice
    /// is as before.
    #[test]
    fn a_seat_on_a_journey_names_its_next_leg_in_every_language() {
        let mut via = seat();
        if let Notice::Seat {
            transport,
            hub,
            onward,
            ..
        } = &mut via
        {
            *transport = "CONVOY 1".into();
            *hub = "ALABUS".into();
            *onward = vec![Onward {
                transport: "RF 7042".into(),
                hub: "NQZ".into(),
                departs: "09.01 14:00".into(),
            }];
        }
        let moved = Notice::SeatMoved {
            reference: "K7Q-4F2-9MX".into(),
            transport: "CONVOY 1".into(),
            seats: "3".into(),
            hub: "ALABUS".into(),
            departs: "08.01 09:00".into(),
            why: "an earlier journey".into(),
            pass_code: "4F7K2Q".into(),
            pass_url: "https://evac.example/p/4F7K2Q".into(),
            onward: vec![
                Onward {
                    transport: "KC 9".into(),
                    hub: "KGFBUS".into(),
                    departs: "08.01 20:00".into(),
                },
                Onward {
                    transport: "RF 7042".into(),
                    hub: "NQZ".into(),
                    departs: "09.01 14:00".into(),
                },
            ],
        };
        for lang in LANGUAGES {
            for text in [via.render(lang), moved.render(lang)] {
                for value in [
                    "CONVOY 1",
                    "ALABUS",
                    "RF 7042",
                    "NQZ",
                    "09.01 14:00",
                    "4F7K2Q",
                ] {
                    assert!(text.contains(value), "{lang}: {value} missing in {text}");
                }
                assert!(
                    !text.contains('{') && !text.contains("  "),
                    "{lang}: {text}"
                );
            }
            let text = via.render(lang);
            assert!(
                !text.contains('{') && !text.contains("  "),
                "{lang}: {text}"
            );
            // A journey of three legs names both legs after the first, in order.
            let both = moved.render(lang);
            let (middle, last) = (both.find("KGFBUS"), both.find("RF 7042"));
            assert!(
                middle.is_some() && both.contains("08.01 20:00") && middle < last,
                "{lang}: {both}"
            );
            let direct = seat().render(lang);
            assert!(
                !direct.contains("  ") && !direct.contains(" ."),
                "{lang}: {direct}"
            );
        }
    }

    #[test]
    fn seat_numbers_are_written_as_runs() {
        assert_eq!(seat_numbers(&[14, 12, 13, 15]), "12-15");
        assert_eq!(seat_numbers(&[8, 3, 7]), "3, 7-8");
        assert_eq!(seat_numbers(&[5]), "5");
        assert_eq!(seat_numbers(&[]), "");
    }

    #[test]
    fn cyrillic_costs_more_segments_than_latin() {
        let latin = Segments::of(&seat().render("en"));
        let cyrillic = Segments::of(&seat().render("ru"));
        assert_eq!(latin.encoding, SmsEncoding::Gsm7);
        assert_eq!(cyrillic.encoding, SmsEncoding::Ucs2);
        assert!(cyrillic.parts > latin.parts, "{latin:?} {cyrillic:?}");
        assert_eq!(Segments::of(&"a".repeat(160)).parts, 1);
        assert_eq!(Segments::of(&"a".repeat(161)).parts, 2);
        assert_eq!(Segments::of(&"ж".repeat(70)).parts, 1);
        assert_eq!(Segments::of(&"ж".repeat(71)).parts, 2);
        assert_eq!(
            Segments::of(&"€".repeat(80)).units,
            160,
            "extension costs two"
        );
        assert_eq!(Segments::of("").parts, 1);
    }

    #[test]
    fn replies_are_read_in_four_languages_and_find_their_code() {
        for (text, reply) in [
            ("STATUS K7Q-4F2-9MX", Reply::Status),
            ("статус k7q4f29mx", Reply::Status),
            ("Нет", Reply::No),
            ("ЖОҚ, рахмет", Reply::No),
            ("No problem, we are coming", Reply::Other),
            ("да, но нас пятеро", Reply::Other),
            ("yes!", Reply::Yes),
            ("Sì", Reply::Yes),
            ("ИӘ", Reply::Yes),
            ("we are at the hotel", Reply::Other),
        ] {
            assert_eq!(Reply::read(text), reply, "{text}");
        }
        // A valid code: the last symbol is the check character.
        let code: ReferenceCode = ('A'..='Z')
            .chain('0'..='9')
            .find_map(|c| format!("K7Q-4F2-9M{c}").parse().ok())
            .unwrap();
        let written = code.to_string();
        assert_eq!(reference_in(&format!("STATUS {written}")), Some(code));
        let loose = written.to_lowercase().replace('-', " ");
        assert_eq!(reference_in(&format!("статус {loose} please")), Some(code));
        assert_eq!(reference_in("no code here at all, sorry"), None);
        // Letters of other words never make a code.
        assert_eq!(reference_in(&format!("STATUS{written}")), None);
        assert_eq!(reference_in(&format!("status,{written}.")), Some(code));
    }

    #[test]
    fn retries_back_off_and_end() {
        let r = Retry::default();
        assert_eq!(r.wait_s(1), Some(10));
        assert_eq!(r.wait_s(2), Some(20));
        assert_eq!(r.wait_s(30), Some(1_800));
        assert_eq!(r.wait_s(Retry::ATTEMPTS_MAX), None);
    }

    proptest! {
        /// Parts are always enough for the units, and one more unit never needs fewer parts.
        #[test]
        fn segments_hold_the_text(text in "\\PC{0,400}") {
            let s = Segments::of(&text);
            let single = match s.encoding { SmsEncoding::Gsm7 => SMS_GSM7_SINGLE, SmsEncoding::Ucs2 => SMS_UCS2_SINGLE };
            let part = match s.encoding { SmsEncoding::Gsm7 => SMS_GSM7_PART, SmsEncoding::Ucs2 => SMS_UCS2_PART };
            prop_assert!(s.parts >= 1);
            let holds = if s.parts == 1 {
                s.units <= single
            } else {
                s.units <= s.parts * part && s.units > single
            };
            prop_assert!(holds, "{:?}", s);
        }
    }

    #[test]
    fn an_email_reply_is_read_without_what_it_quotes() {
        let reply = "NO\r\n\r\nOn Fri, 7 Jan 2022, evac <crisis@evac.test> wrote:\r\n> evac K7Q-4F2-9MX: seat on KC901";
        assert_eq!(fresh_text(reply), "NO");
        assert_eq!(Reply::read(&fresh_text(reply)), Reply::No);
        assert_eq!(fresh_text("ДА\n-- \nАнна"), "ДА");
        assert_eq!(fresh_text("> quoted only"), "");
        // "wrote:" as the first line is the writer's own words, not a quote header.
        assert_eq!(
            fresh_text("My brother wrote:\nplease help"),
            "My brother wrote:\nplease help"
        );
        assert_eq!(
            fresh_text("Help us\n-----Original Message-----\nevac: ..."),
            "Help us"
        );
    }
}
