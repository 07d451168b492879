//! Names exactly as written, and their normalised Latin form.
//!
//! The Latin form follows ICAO Doc 9303 (part 3, the transliteration for machine-readable
//! passports) for Cyrillic. Doc 9303 has no rows for the Kazakh letters; Kazakhstan's passport
//! office writes them as their nearest Russian letter, and so does evac:
//! Ә→A, Ғ→G, Қ→K, Ң→N, Ө→O, Ұ→U, Ү→U, Һ→H, І→I. Latin letters lose their diacritics
//! (Doc 9303 allows both `Ä→AE` and `Ä→A`; evac takes the plain letter so that a name typed on
//! a keyboard without umlauts normalises to the same form). The result is upper case, with single
//! spaces and hyphens kept and other punctuation dropped. Cross-scheme matching keys (Tokayev /
//! Tokaev) are the linkage crate's business, not this one's.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A name part as written (any script, trimmed, NFC) plus its ICAO Latin form.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PersonName {
    pub as_written: String,
    pub latin: String,
}

impl PersonName {
    /// `None` for a blank input: an absent name part is not an empty string.
    pub fn new(as_written: &str) -> Option<Self> {
        let trimmed: String = as_written.split_whitespace().collect::<Vec<_>>().join(" ");
        if trimmed.is_empty() {
            return None;
        }
        let as_written: String = trimmed.nfc().collect();
        let latin = to_icao_latin(&as_written);
        Some(PersonName { as_written, latin })
    }
}

impl fmt::Debug for PersonName {
    // Names are personal data: debug output (and so logs) never show them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(..)")
    }
}

/// ICAO 9303 transliteration of one upper-case Cyrillic letter, or `None` if not Cyrillic.
fn cyrillic_to_latin(upper: char) -> Option<&'static str> {
    Some(match upper {
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Д' => "D",
        'Е' | 'Ё' | 'Э' => "E",
        'Ж' => "ZH",
        'З' => "Z",
        'И' | 'Й' | 'І' | 'Ї' => "I",
        'К' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' | 'Ў' => "U",
        'Ф' => "F",
        'Х' => "KH",
        'Ц' => "TS",
        'Ч' => "CH",
        'Ш' => "SH",
        'Щ' => "SHCH",
        'Ъ' | 'Є' => "IE",
        'Ы' => "Y",
        'Ь' => "",
        'Ю' => "IU",
        'Я' => "IA",
        // Ukrainian, Belarusian and South Slavic letters in Doc 9303's table.
        'Ґ' | 'Ѓ' => "G",
        'Ђ' => "D",
        'Ѕ' | 'Џ' => "DZ",
        'Ј' => "J",
        'Љ' => "LJ",
        'Њ' => "NJ",
        'Ћ' => "C",
        'Ќ' => "K",
        // Kazakh letters, as Kazakh passports write them (see the module note).
        'Ә' => "A",
        'Ғ' => "G",
        'Қ' => "K",
        'Ң' => "N",
        'Ө' => "O",
        'Ұ' | 'Ү' => "U",
        'Һ' => "H",
        _ => return None,
    })
}

/// Latin letters that do not decompose into a base letter and combining marks.
fn special_latin(upper: char) -> Option<&'static str> {
    Some(match upper {
        'ß' | 'ẞ' => "SS",
        'Æ' => "AE",
        'Œ' | 'Ø' => "OE",
        'Þ' => "TH",
        'Đ' | 'Ð' => "D",
        'Ł' => "L",
        'Ħ' => "H",
        'ı' => "I",
        _ => return None,
    })
}

/// The normalised Latin form of a name written in any mix of Latin and Cyrillic.
pub fn to_icao_latin(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.nfkc() {
        // Upper-casing first lets one table serve both cases (and handles 'ё' → 'Ё').
        for upper in c.to_uppercase() {
            let mut ascii = [0u8; 4];
            let piece: Option<std::borrow::Cow<'_, str>> = if upper.is_whitespace() {
                pending_space = !out.is_empty();
                None
            } else if matches!(upper, '-' | '\u{2010}'..='\u{2015}') {
                pending_space = false;
                if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
                None
            } else if let Some(latin) = cyrillic_to_latin(upper).or_else(|| special_latin(upper)) {
                Some(latin.into())
            } else if upper.is_ascii_alphanumeric() {
                Some((&*upper.encode_utf8(&mut ascii)).into())
            } else if upper.is_alphabetic() {
                let base: String = upper.nfd().filter(|m| !is_combining_mark(*m)).collect();
                base.chars()
                    .all(|b| b.is_ascii_alphabetic())
                    .then(|| base.to_uppercase().into())
            } else {
                None // apostrophes, dots, digits-like symbols: dropped, as in an MRZ
            };
            if let Some(piece) = piece {
                if piece.is_empty() {
                    continue;
                }
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push_str(&piece);
            }
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(written: &str, latin: &str) {
        assert_eq!(to_icao_latin(written), latin, "{written}");
    }

    #[test]
    fn russian_names_follow_doc_9303() {
        check("Токаев", "TOKAEV");
        check("Юлия Щербакова", "IULIIA SHCHERBAKOVA");
        check("Пётр Ильич Чайковский", "PETR ILICH CHAIKOVSKII");
        check("Хрущёв", "KHRUSHCHEV");
        check("Подъячев", "PODIEIACHEV");
        check("  Анна   Мария  ", "ANNA MARIIA");
    }

    #[test]
    fn kazakh_letters_are_covered() {
        check("Қасым-Жомарт Тоқаев", "KASYM-ZHOMART TOKAEV");
        check("Нұр-Сұлтан", "NUR-SULTAN");
        check("Әлихан Бөкейхан", "ALIKHAN BOKEIKHAN");
        check("Ғабит Мүсірепов", "GABIT MUSIREPOV");
        check("Шаңырақ Һ", "SHANYRAK H");
    }

    #[test]
    fn latin_names_lose_diacritics_and_punctuation() {
        check("Nicolò D'Angelo", "NICOLO DANGELO");
        check("Müller-Lüdenscheidt", "MULLER-LUDENSCHEIDT");
        check("Straße", "STRASSE");
        check("Łukasz Øster", "LUKASZ OESTER");
        check("Tokayev", "TOKAYEV");
    }

    #[test]
    fn blank_names_are_absent() {
        assert!(PersonName::new("   ").is_none());
        let name = PersonName::new(" Алия ").unwrap();
        assert_eq!(name.as_written, "Алия");
        assert_eq!(name.latin, "ALIIA");
    }
}
