//! Place names in Arabic script and Chinese characters.
//!
//! Reports in Arabic, Persian, Uyghur and Chinese name towns in scripts the name key (built
//! for Latin and Cyrillic) cannot fold, and Chinese writes no spaces between words. These
//! names are found as substrings instead, all at once (Aho-Corasick, leftmost-longest), after
//! folding both names and text the same way: traditional Chinese characters of the shipped
//! names to simplified ones (阿拉木圖 and 阿拉木图 are one name), and Arabic letters without
//! their vowel marks and tatweel, with the forms of alef as one. Arabic prefixes
//! ("بألماتي", in Almaty) need nothing: a substring is found inside its word.

use aho_corasick::{AhoCorasick, MatchKind};

/// Arabic-script names shorter than this many letters are not matched (too many words hold
/// a two-letter run).
const ARABIC_NAME_CHARS_MIN: usize = 3;

/// Traditional characters of the shipped Chinese names and their simplified forms.
const TRADITIONAL_TO_SIMPLIFIED: &[(char, char)] = &[
    ('亞', '亚'),
    ('倫', '伦'),
    ('傑', '杰'),
    ('內', '内'),
    ('別', '别'),
    ('勞', '劳'),
    ('區', '区'),
    ('參', '参'),
    ('圖', '图'),
    ('奧', '奥'),
    ('寧', '宁'),
    ('庫', '库'),
    ('樂', '乐'),
    ('溝', '沟'),
    ('溫', '温'),
    ('烏', '乌'),
    ('熱', '热'),
    ('爛', '烂'),
    ('爾', '尔'),
    ('瑪', '玛'),
    ('盧', '卢'),
    ('納', '纳'),
    ('維', '维'),
    ('緬', '缅'),
    ('羅', '罗'),
    ('聖', '圣'),
    ('茲', '兹'),
    ('葉', '叶'),
    ('蓋', '盖'),
    ('薩', '萨'),
    ('蘇', '苏'),
    ('蘭', '兰'),
    ('諾', '诺'),
    ('謝', '谢'),
    ('豐', '丰'),
    ('豊', '丰'),
    ('賈', '贾'),
    ('賓', '宾'),
    ('賽', '赛'),
    ('車', '车'),
    ('連', '连'),
    ('達', '达'),
    ('邁', '迈'),
    ('鎮', '镇'),
    ('鐵', '铁'),
    ('門', '门'),
    ('韋', '韦'),
    ('馬', '马'),
    ('魯', '鲁'),
    ('麥', '麦'),
    ('齊', '齐'),
    ('舊', '旧'),
    ('機', '机'),
    ('場', '场'),
    ('閉', '闭'),
    ('關', '关'),
    ('開', '开'),
    ('復', '复'),
];

fn is_chinese(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn is_arabic(c: char) -> bool {
    ('\u{0600}'..='\u{06ff}').contains(&c) || ('\u{0750}'..='\u{077f}').contains(&c)
}

/// A text folded for matching (see the module documentation); other characters unchanged.
pub(crate) fn fold(text: &str) -> String {
    text.chars()
        .filter(|&c| !matches!(c, '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{0640}'))
        .map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' => 'ي',
            c if is_chinese(c) => TRADITIONAL_TO_SIMPLIFIED
                .iter()
                .find(|(t, _)| *t == c)
                .map_or(c, |(_, s)| *s),
            c => c,
        })
        .collect()
}

/// Whether a text has letters in the scripts this index reads.
pub(crate) fn has_other_script(text: &str) -> bool {
    text.chars().any(|c| is_chinese(c) || is_arabic(c))
}

/// The names in Arabic script and Chinese characters, and the places they name.
#[derive(Debug)]
pub(crate) struct OtherScripts {
    matcher: AhoCorasick,
    /// For each pattern: its places.
    places: Vec<Vec<u32>>,
}

/// A name found in a text: the places it names and the words as found (folded).
pub(crate) struct Found {
    pub places: Vec<u32>,
    pub words: String,
    /// Where it ends in the folded text (in bytes), for the airport word after it.
    pub end: usize,
    pub start: usize,
}

impl OtherScripts {
    pub(crate) fn build(names: &[(u32, &str)]) -> OtherScripts {
        let mut patterns: Vec<String> = Vec::new();
        let mut places: Vec<Vec<u32>> = Vec::new();
        for &(place, name) in names {
            let name = fold(name.trim());
            let letters = name.chars().filter(|c| !c.is_whitespace()).count();
            let arabic = name.chars().any(is_arabic);
            if letters < 2 || (arabic && letters < ARABIC_NAME_CHARS_MIN) {
                continue;
            }
            match patterns.iter().position(|p| *p == name) {
                Some(k) if !places[k].contains(&place) => places[k].push(place),
                Some(_) => {}
                None => {
                    patterns.push(name);
                    places.push(vec![place]);
                }
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("the shipped names build an automaton");
        OtherScripts { matcher, places }
    }

    /// The names a folded text holds, leftmost-longest, without overlaps.
    pub(crate) fn find(&self, folded: &str) -> Vec<Found> {
        self.matcher
            .find_iter(folded)
            .map(|m| Found {
                places: self.places[m.pattern().as_usize()].clone(),
                words: folded[m.start()..m.end()].to_string(),
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_simplified_and_vowelled_arabic_fold_to_one() {
        assert_eq!(fold("阿拉木圖"), fold("阿拉木图"));
        assert_eq!(fold("ألماتي"), fold("الماتي"));
        assert_eq!(fold("أَلْمَاتِي"), fold("الماتي"));
    }
}
