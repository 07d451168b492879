//! Normalisation: what a record's fields become before they are compared, computed once per
//! record.
//!
//! The heart of it is [`name_key`] (in `evac-model`, where the store's name search uses it
//! too): one matching key for the spellings of a Cyrillic name under the common schemes.

use std::collections::HashMap;
use std::sync::LazyLock;

pub use evac_model::name_key::{name_key, name_tokens, surname_stem};

use crate::dictionary::GIVEN_NAME_GROUPS;

/// The script a name token was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Script {
    Latin,
    Cyrillic,
    Other,
}

/// The script most letters of `text` are written in.
pub fn script_of(text: &str) -> Script {
    let (mut latin, mut cyrillic, mut other) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        match c {
            '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}' => cyrillic += 1,
            'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' => latin += 1,
            _ => other += 1,
        }
    }
    if cyrillic > latin && cyrillic >= other {
        Script::Cyrillic
    } else if latin >= other && latin > 0 {
        Script::Latin
    } else if other > 0 {
        Script::Other
    } else {
        Script::Latin
    }
}

/// Whether a name token (by its key) is a patronymic: -ovich/-evna/-ichna, Kazakh -uly/-kyzy.
pub fn is_patronymic_key(key: &str) -> bool {
    const ENDINGS: &[&str] = &["oviC", "eviC", "ovna", "evna", "iCna", "uli", "kizi"];
    key.len() > 5 && ENDINGS.iter().any(|e| key.ends_with(e))
}

/// The sex a patronymic's ending states (-ovna/-evna/-ichna and Kazakh -kyzy a woman's,
/// -ovich/-evich and -uly a man's), by its key; `None` for anything else.
pub fn sex_of_patronymic_key(key: &str) -> Option<crate::Sex> {
    if !is_patronymic_key(key) {
        return None;
    }
    const FEMALE: &[&str] = &["ovna", "evna", "iCna", "kizi"];
    Some(if FEMALE.iter().any(|e| key.ends_with(e)) {
        crate::Sex::Female
    } else {
        crate::Sex::Male
    })
}

/// Canonical given-name groups a name key belongs to (diminutives and doublets: Саша, Sasha,
/// Alessandro and Alexander share Александр's group). Sorted; empty for names not in the
/// dictionary.
pub fn given_name_groups(key: &str) -> &'static [u16] {
    static INDEX: LazyLock<HashMap<String, Vec<u16>>> = LazyLock::new(|| {
        let mut index: HashMap<String, Vec<u16>> = HashMap::new();
        for (group, line) in GIVEN_NAME_GROUPS.iter().enumerate() {
            for variant in line.split(',') {
                let key = name_key(variant.trim());
                if key.is_empty() {
                    continue;
                }
                let groups = index.entry(key).or_default();
                let group = u16::try_from(group).expect("fewer than 65536 name groups");
                if !groups.contains(&group) {
                    groups.push(group);
                    groups.sort_unstable();
                }
            }
        }
        index
    });
    INDEX.get(key).map(Vec::as_slice).unwrap_or(&[])
}

/// A document number reduced to upper-case letters and digits, with whether it proves itself:
/// the Kazakh IIN and the Italian codice fiscale carry a check character, and one that passes
/// it was not mistyped. Any other number (a passport, a social security number of a format
/// evac does not know) may be mistyped beyond one character or be a second document of the
/// same person, so it never counts as checked.
pub fn clean_document(raw: &str) -> Option<(String, bool)> {
    let cleaned = evac_model::clean_document_number(raw);
    if cleaned.is_empty() {
        return None;
    }
    let bytes = cleaned.as_bytes();
    let checked = if bytes.len() == 12 && bytes.iter().all(u8::is_ascii_digit) {
        iin_is_valid(bytes)
    } else if looks_like_codice_fiscale(bytes) {
        codice_fiscale_is_valid(bytes)
    } else {
        false
    };
    Some((cleaned, checked))
}

/// Kazakh individual identification number: 12 digits, the last a mod-11 check over two weight
/// sequences.
fn iin_is_valid(digits: &[u8]) -> bool {
    let d: Vec<u32> = digits.iter().map(|b| u32::from(b - b'0')).collect();
    let weighted = |weights: [u32; 11]| -> u32 {
        weights.iter().zip(&d).map(|(w, x)| w * x).sum::<u32>() % 11
    };
    let mut check = weighted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    if check == 10 {
        check = weighted([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
        if check == 10 {
            return false;
        }
    }
    check == d[11]
}

fn looks_like_codice_fiscale(b: &[u8]) -> bool {
    b.len() == 16 && b[..6].iter().all(u8::is_ascii_uppercase) && b[15].is_ascii_uppercase()
}

/// Italian codice fiscale: the 16th letter checks the first 15 (odd and even positions weigh
/// differently, as the Ministry's decree defines).
fn codice_fiscale_is_valid(b: &[u8]) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let value = |c: u8| -> Option<u32> {
        match c {
            b'0'..=b'9' => Some(u32::from(c - b'0')),
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            _ => None,
        }
    };
    let mut sum = 0;
    for (i, &c) in b[..15].iter().enumerate() {
        let Some(v) = value(c) else { return false };
        // Positions are counted from 1: odd positions use the odd table.
        sum += if i % 2 == 0 { ODD[v as usize] } else { v };
    }
    u32::from(b[15] - b'A') == sum % 26
}

/// A phone number as a comparable key: its digits with the country code. Numbers already in
/// E.164, and Kazakh/Russian numbers written with 8 or 7 in front, take a fast path; others go
/// through the `phonenumber` metadata with the region hint. `None` when it is no phone number.
pub fn phone_key(raw: &str, region: Option<evac_model::CountryCode>) -> Option<String> {
    let trimmed = raw.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return None;
    }
    if trimmed.starts_with('+') {
        return Some(digits);
    }
    if let Some(international) = digits.strip_prefix("00") {
        return Some(international.to_string());
    }
    let plus_seven_region = region.is_none_or(|r| matches!(r.as_str(), "KZ" | "RU"));
    if plus_seven_region && digits.len() == 11 && matches!(digits.as_bytes()[0], b'7' | b'8') {
        return Some(format!("7{}", &digits[1..]));
    }
    evac_model::PhoneE164::parse(trimmed, region)
        .ok()
        .map(|p| p.as_str()[1..].to_string())
}

/// An e-mail address compared case-insensitively, without dots or +tags in the local part of
/// the big free mail services (which ignore them).
pub fn email_key(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let (local, domain) = lower.split_once('@')?;
    if local.is_empty() || !domain.contains('.') {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    let local = if matches!(domain, "gmail.com" | "googlemail.com") {
        local.replace('.', "")
    } else {
        local.to_string()
    };
    Some(format!("{local}@{domain}"))
}

/// A place or address as a comparable key: the name keys of its tokens, in order.
pub fn place_key(raw: &str) -> Option<String> {
    let key: Vec<String> = name_tokens(raw).map(name_key).collect();
    let key = key.join(" ");
    (!key.is_empty()).then_some(key)
}

/// A street address as a comparable key: the name keys of its words and its numbers as they
/// are (a house number tells two addresses of one street apart), in order.
pub fn address_key(raw: &str) -> Option<String> {
    let key: Vec<String> = raw
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '/' | '-' | '№' | '#'))
        .map(|token| {
            // Digits first, then the letters' name key: "12A" and "12а" are one house number,
            // "12A" and "14A" two.
            let digits: String = token.chars().filter(char::is_ascii_digit).collect();
            if token.chars().any(char::is_alphabetic) {
                digits + &name_key(token)
            } else {
                digits
            }
        })
        .filter(|k| !k.is_empty())
        .collect();
    let key = key.join(" ");
    (!key.is_empty()).then_some(key)
}

/// Jaro-Winkler similarity of two keys (ASCII), 0.0 to 1.0.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    if a == b {
        return 1.0;
    }
    // Names are short: the bookkeeping lives on the stack up to 64 letters.
    const STACK: usize = 64;
    if a.len() > STACK || b.len() > STACK {
        return jaro_winkler(
            std::str::from_utf8(&a[..STACK.min(a.len())]).unwrap_or(""),
            std::str::from_utf8(&b[..STACK.min(b.len())]).unwrap_or(""),
        );
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_taken = [false; STACK];
    let mut a_matched = [0u8; STACK];
    let mut matches = 0;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_taken[j] && b[j] == ca {
                b_taken[j] = true;
                a_matched[matches] = ca;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let b_matched = b
        .iter()
        .zip(&b_taken)
        .filter(|(_, taken)| **taken)
        .map(|(c, _)| *c);
    let transpositions = a_matched[..matches]
        .iter()
        .zip(b_matched)
        .filter(|(x, y)| **x != *y)
        .count()
        / 2;
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_key(spellings: &[&str]) {
        let keys: Vec<String> = spellings.iter().map(|s| name_key(s)).collect();
        for (s, k) in spellings.iter().zip(&keys) {
            assert_eq!(
                k, &keys[0],
                "{s} -> {k}, but {} -> {}",
                spellings[0], keys[0]
            );
        }
    }

    #[test]
    fn the_schemes_meet_in_one_key() {
        same_key(&[
            "Токаев",
            "Tokaev",
            "Tokayev",
            "Tokajew",
            "Tokaïev",
            "Toqaev",
            "Тоқаев",
        ]);
        same_key(&[
            "Юлия", "Iuliia", "Yuliya", "Julija", "Ioulia", "Julia", "Iouliia",
        ]);
        same_key(&["Наталья", "Natalia", "Natalya", "Natalja", "Nataliya"]);
        same_key(&["Дмитрий", "Dmitrii", "Dmitriy", "Dmitrij", "Dmitri"]);
        same_key(&["Фёдоров", "Fedorov", "Fyodorov", "Fjodorow"]);
        same_key(&["Евгений", "Evgenii", "Yevgeniy", "Jewgeni"]);
        same_key(&["Щербаков", "Shcherbakov", "Schtscherbakow", "Chtcherbakov"]);
        same_key(&[
            "Шевченко",
            "Shevchenko",
            "Schewtschenko",
            "Chevtchenko",
            "Ševčenko",
        ]);
        same_key(&["Цветков", "Tsvetkov", "Zwetkow"]);
        same_key(&["Алексей", "Aleksei", "Alexei", "Aleksey", "Alexej"]);
        same_key(&["Әйгерім", "Aigerim", "Aygerim", "Äigerım"]);
        same_key(&["Ақмарал", "Akmaral", "Aqmaral"]);
        same_key(&["Шаңырақ", "Shanyraq", "Şañyraq"]);
        same_key(&["Müller", "MULLER", "muller"]);
    }

    #[test]
    fn different_names_keep_different_keys() {
        for (a, b) in [
            ("Иванов", "Петров"),
            ("Anna", "Ivan"),
            ("Tokaev", "Tokarev"),
            ("Сергей", "Андрей"),
        ] {
            assert_ne!(name_key(a), name_key(b), "{a} / {b}");
        }
    }

    #[test]
    fn sex_inflected_surnames_share_a_stem() {
        for (m, f) in [
            ("Иванов", "Иванова"),
            ("Чайковский", "Чайковская"),
            ("Tokayev", "Tokayeva"),
            ("Никитин", "Никитина"),
        ] {
            assert_eq!(
                surname_stem(&name_key(m)),
                surname_stem(&name_key(f)),
                "{m}/{f}"
            );
        }
        assert_eq!(surname_stem(&name_key("Шевченко")), name_key("Shevchenko"));
    }

    #[test]
    fn patronymics_are_recognised() {
        for p in [
            "Иванович",
            "Petrovna",
            "Нұрланұлы",
            "Asqarqyzy",
            "Ильинична",
        ] {
            assert!(is_patronymic_key(&name_key(p)), "{p}");
        }
        for n in ["Иванов", "Anna", "Tokaev"] {
            assert!(!is_patronymic_key(&name_key(n)), "{n}");
        }
        for (p, sex) in [
            ("Петровна", crate::Sex::Female),
            ("Қайратқызы", crate::Sex::Female),
            ("Ильинична", crate::Sex::Female),
            ("Ivanovich", crate::Sex::Male),
            ("Нұрланұлы", crate::Sex::Male),
        ] {
            assert_eq!(sex_of_patronymic_key(&name_key(p)), Some(sex), "{p}");
        }
        assert_eq!(sex_of_patronymic_key(&name_key("Ivanova")), None);
    }

    #[test]
    fn diminutives_and_doublets_share_a_group() {
        let groups = |n: &str| given_name_groups(&name_key(n));
        let shares = |a: &str, b: &str| groups(a).iter().any(|g| groups(b).contains(g));
        assert!(shares("Саша", "Александр"));
        assert!(shares("Sasha", "Alessandro"));
        assert!(shares("Саша", "Александра"));
        assert!(shares("Peppe", "Giuseppe"));
        assert!(shares("Юля", "Giulia"));
        assert!(shares("Бауржан", "Бауыржан"));
        assert!(!shares("Саша", "Мария"));
        assert!(groups("Zzyzx").is_empty());
    }

    #[test]
    fn documents_are_checked_where_they_carry_a_check_character() {
        // A passport has no check character: cleaned, never counted as checked.
        assert_eq!(
            clean_document("n 1234-5678"),
            Some(("N12345678".into(), false))
        );
        // A valid IIN (computed by the published algorithm) and the same with one digit changed.
        assert_eq!(clean_document("900101300017").map(|d| d.1), Some(true));
        assert_eq!(clean_document("900101300018").map(|d| d.1), Some(false));
        assert_eq!(clean_document("RSSMRA85T10A562S").map(|d| d.1), Some(true));
        assert_eq!(clean_document("RSSMRA85T10A562T").map(|d| d.1), Some(false));
        assert_eq!(clean_document(" - "), None);
    }

    #[test]
    fn phones_become_digits_with_country_code() {
        let kz = "KZ".parse().ok();
        for raw in [
            "8 701 123 45 67",
            "+7 (701) 123-45-67",
            "87011234567",
            "77011234567",
        ] {
            assert_eq!(phone_key(raw, kz).as_deref(), Some("77011234567"), "{raw}");
        }
        let it = "IT".parse().ok();
        assert_eq!(
            phone_key("347 123 4567", it).as_deref(),
            Some("393471234567")
        );
        assert_eq!(
            phone_key("0039 347 123 4567", None).as_deref(),
            Some("393471234567")
        );
        assert_eq!(phone_key("12", kz), None);
    }

    #[test]
    fn jaro_winkler_matches_the_textbook_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-3);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-3);
        assert_eq!(jaro_winkler("abc", "abc"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
    }

    #[test]
    fn scripts_are_told_apart() {
        assert_eq!(script_of("Тоқаев"), Script::Cyrillic);
        assert_eq!(script_of("Tokayev"), Script::Latin);
        assert_eq!(script_of("Müller"), Script::Latin);
    }

    #[test]
    fn emails_ignore_case_and_gmail_dots() {
        assert_eq!(
            email_key(" A.Ivanova+evac@Gmail.com ").as_deref(),
            Some("aivanova@gmail.com")
        );
        assert_eq!(email_key("no-at-sign"), None);
    }
}
