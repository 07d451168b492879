//! Name keys: what a name token becomes for matching and searching, in any script.
//!
//! [`name_key`] is a matching key that maps the spellings of one Cyrillic
//! name under the common schemes onto one form: ICAO 9303 (Tokaev, Iuliia), its pre-2013
//! passport scheme and BGN/PCGN press spellings (Tokayev, Yuliya), GOST 7.79, German
//! (Tokajew, Julija) and French (Tokaïev, Ioulia) press spellings and the Kazakh Latin
//! alphabet of 2021 (Toqaev). Cyrillic goes to ICAO Latin first (Kazakh letters included),
//! then every Latin spelling is folded: the hushing sounds (sh, ch, zh, sch, tsch, tch, š, č,
//! ş, ç …) into one class, iotation glides (y, j, i before a vowel) dropped, ou → u, w → v,
//! ts/tz → z, kh → h, doubled letters single. The key is deliberately lossy: a collision costs a
//! little precision, which the other fields win back; a miss costs recall, which nothing can.
//!
//! Record linkage compares people by these keys; the store indexes them (with the sex
//! inflection of surnames removed, [`surname_stem`]) so that a search for Tokayev finds
//! Токаев and Tokaeva.

/// Splits a name field into its tokens: whitespace, hyphens, commas and dots separate.
pub fn name_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '-' | ',' | '.' | '/' | '‐' | '–'))
        .filter(|t| t.chars().any(char::is_alphabetic))
}

/// Letters whose Latin spelling differs between schemes and that `to_icao_latin` would only
/// strip of their diacritic (ş would become s, but it is the Kazakh Latin Ш).
fn premap(c: char) -> Option<&'static str> {
    Some(match c {
        'ş' | 'Ş' | 'š' | 'Š' | 'ș' | 'Ș' => "sh",
        'ç' | 'Ç' | 'č' | 'Č' | 'ć' | 'Ć' => "ch",
        'ž' | 'Ž' => "zh",
        'ı' => "i",
        _ => return None,
    })
}

/// The matching key of one name token (see the module documentation); empty when the token has
/// no letters.
pub fn name_key(token: &str) -> String {
    let mut premapped = String::with_capacity(token.len() + 4);
    for c in token.chars() {
        match premap(c) {
            Some(s) => premapped.push_str(s),
            None => premapped.push(c),
        }
    }
    let latin = crate::to_icao_latin(&premapped);
    fold_latin(latin.as_bytes())
}

/// Folds an upper- or lower-case ASCII Latin spelling into the key alphabet: lower-case letters
/// plus `C` for the hushing class.
fn fold_latin(latin: &[u8]) -> String {
    // Greedy longest match, left to right. Order within a length does not matter: no two
    // patterns of one length overlap in a way that changes the result.
    const RULES: &[(&[u8], &[u8])] = &[
        (b"schtsch", b"C"),
        (b"shtch", b"C"),
        (b"chtch", b"C"),
        (b"shch", b"C"),
        (b"tsch", b"C"),
        (b"sch", b"C"),
        (b"tch", b"C"),
        (b"zh", b"C"),
        (b"sh", b"C"),
        (b"ch", b"C"),
        (b"kh", b"h"),
        (b"ph", b"f"),
        (b"ts", b"z"),
        (b"tz", b"z"),
        (b"ck", b"k"),
        (b"ou", b"u"),
        (b"x", b"ks"),
        (b"w", b"v"),
        (b"y", b"i"),
        (b"j", b"i"),
        (b"c", b"k"),
        (b"q", b"k"),
    ];
    let lower: Vec<u8> = latin
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    let mut mapped: Vec<u8> = Vec::with_capacity(lower.len() + 2);
    let mut i = 0;
    'outer: while i < lower.len() {
        for (pattern, replacement) in RULES {
            if lower[i..].starts_with(pattern) {
                mapped.extend_from_slice(replacement);
                i += pattern.len();
                continue 'outer;
            }
        }
        mapped.push(lower[i]);
        i += 1;
    }
    // Ё is e in ICAO and yo/jo/io elsewhere: fold io (after y/j → i) into e.
    let mut folded: Vec<u8> = Vec::with_capacity(mapped.len());
    let mut i = 0;
    while i < mapped.len() {
        if mapped[i] == b'i' && mapped.get(i + 1) == Some(&b'o') {
            folded.push(b'e');
            i += 2;
        } else {
            folded.push(mapped[i]);
            i += 1;
        }
    }
    folded.dedup();
    // An i before another vowel is a glide (ia, iu, ie: я, ю, е after a vowel): dropped.
    let is_vowel = |b: u8| matches!(b, b'a' | b'e' | b'o' | b'u');
    let mut out = String::with_capacity(folded.len());
    for (k, &b) in folded.iter().enumerate() {
        if b == b'i' && folded.get(k + 1).is_some_and(|&n| is_vowel(n)) {
            continue;
        }
        out.push(b as char);
    }
    // Dropping a glide can put two equal letters side by side again (iuliia → ula).
    let mut bytes = out.into_bytes();
    bytes.dedup();
    String::from_utf8(bytes).expect("the key alphabet is ASCII")
}

/// The key of a surname with its sex inflection removed, so that a husband and wife, a father
/// and daughter, share it: Иванов/Иванова, Чайковский/Чайковская, Tokayev/Tokayeva.
pub fn surname_stem(key: &str) -> &str {
    for (feminine, keep) in [("ska", 2), ("ski", 2), ("ova", 2), ("eva", 2), ("ina", 2)] {
        if key.len() > feminine.len() + 1 && key.ends_with(feminine) {
            return &key[..key.len() - feminine.len() + keep];
        }
    }
    key
}

/// The keys a name field is searched by: each token's key without the sex inflection, so that
/// Иванова, Ivanov and Iwanowa find each other. Empty tokens give none.
pub fn name_search_keys(text: &str) -> impl Iterator<Item = String> + '_ {
    name_tokens(text)
        .map(|token| surname_stem(&name_key(token)).to_string())
        .filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_share_a_search_key() {
        let keys = |text: &str| name_search_keys(text).collect::<Vec<_>>();
        for spelling in [
            "Токаева",
            "Tokayeva",
            "Tokaev",
            "Tokajew",
            "TOKAEVA",
            "Тоқаев",
        ] {
            assert_eq!(keys(spelling), keys("Токаев"), "{spelling}");
        }
        assert_eq!(keys("Юлия Иванова"), keys("Iuliia Ivanov"));
        assert_eq!(keys("Анна-Мария"), keys("Anna Maria"));
        assert!(keys(" - ").is_empty());
        assert_ne!(keys("Petrov"), keys("Ivanov"));
    }
}
