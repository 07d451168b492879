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

use std::borrow::Cow;
use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfkc_quick};

/// A name part as written (any script, trimmed, NFC) plus its ICAO Latin form.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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
        let as_written = match is_nfc_quick(trimmed.chars()) {
            IsNormalized::Yes => trimmed,
            IsNormalized::No | IsNormalized::Maybe => trimmed.nfc().collect(),
        };
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
    let mut out = LatinForm::with_capacity(name.len());
    for c in in_nfkc(name).chars() {
        if c.is_ascii() {
            // Most letters of most names: no case table, no transliteration table.
            out.push(c.to_ascii_uppercase());
        } else {
            // Upper-casing first lets one table serve both cases (and handles 'ё' → 'Ё').
            for upper in c.to_uppercase() {
                out.push(upper);
            }
        }
    }
    out.finish()
}

/// A Latin form being built: upper-case letters and digits, single spaces and hyphens.
struct LatinForm {
    text: String,
    /// A space was seen after some letters: it is written before the next letter.
    pending_space: bool,
}

impl LatinForm {
    fn with_capacity(bytes: usize) -> Self {
        LatinForm {
            text: String::with_capacity(bytes),
            pending_space: false,
        }
    }

    /// The form without a trailing hyphen.
    fn finish(mut self) -> String {
        while self.text.ends_with('-') {
            self.text.pop();
        }
        self.text
    }

    /// Adds one upper-case character: its Latin letters, or a separator, or nothing
    /// (apostrophes, dots, digit-like symbols are dropped, as in an MRZ).
    fn push(&mut self, upper: char) {
        if upper.is_whitespace() {
            self.pending_space = !self.text.is_empty();
        } else if matches!(upper, '-' | '\u{2010}'..='\u{2015}') {
            self.pending_space = false;
            if !self.text.is_empty() && !self.text.ends_with('-') {
                self.text.push('-');
            }
        } else if upper.is_ascii_alphanumeric() {
            self.push_letters(upper.encode_utf8(&mut [0u8; 4]));
        } else if let Some(latin) = cyrillic_to_latin(upper).or_else(|| special_latin(upper)) {
            self.push_letters(latin);
        } else if upper.is_alphabetic() {
            let base: String = upper.nfd().filter(|m| !is_combining_mark(*m)).collect();
            if base.chars().all(|b| b.is_ascii_alphabetic()) {
                self.push_letters(&base.to_uppercase());
            }
        }
    }

    fn push_letters(&mut self, letters: &str) {
        if letters.is_empty() {
            return;
        }
        if self.pending_space {
            self.text.push(' ');
            self.pending_space = false;
        }
        self.text.push_str(letters);
    }
}

/// `text` in Unicode's compatibility composition (NFKC). Most names already are, which a quick
/// check finds without running the normaliser (intake reads several names per request).
fn in_nfkc(text: &str) -> Cow<'_, str> {
    match is_nfkc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfkc().collect()),
    }
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

    /// The shortcuts only skip work: text the normaliser leaves alone is not normalised, and an
    /// ASCII letter is upper-cased without the Unicode tables. Names mixing letters that do
    /// normalise (a decomposed Й or ö, a ligature, full-width and compatibility letters) with
    /// ASCII letters, digits and punctuation come out as the straightforward definition makes
    /// them.
    #[test]
    fn shortcuts_give_what_the_straightforward_definition_gives() {
        use rand::{Rng, SeedableRng};
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "7",
            ".",
            "'",
            "\t",
            " ",
            "-",
            "Й",
            "И\u{306}",
            "o\u{308}",
            "ö",
            "ﬁ",
            "Ａ",
            "ᴬ",
            "ǅ",
            "Ω",
            "Ω",
            "ё",
            "Ә",
            "\u{301}",
            "ß",
            "Ł",
            "ı",
            "Ⅳ",
            "㎏",
            "\u{2010}",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..5_000 {
            let text: String = (0..rng.random_range(1..8))
                .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                .collect();
            let nfkc: String = text.nfkc().collect();
            assert_eq!(in_nfkc(&text), nfkc, "{text:?}");
            assert_eq!(
                to_icao_latin(&text),
                straightforward_latin(&text),
                "{text:?}"
            );
            if let Some(name) = PersonName::new(&text) {
                let nfc: String = name.as_written.nfc().collect();
                assert_eq!(name.as_written, nfc, "{text:?}");
            }
        }
    }

    /// [`to_icao_latin`] by its definition: normalise, upper-case, transliterate each letter.
    fn straightforward_latin(name: &str) -> String {
        let mut out = LatinForm::with_capacity(name.len());
        for upper in name.nfkc().flat_map(char::to_uppercase) {
            out.push(upper);
        }
        out.finish()
    }
}
