//! Name pools and the spellings people really use: Russian and Kazakh names in Cyrillic and in
//! Latin under several transliteration schemes, diminutives, and Latin-script nationalities.

/// (given name, diminutive, patronymic stem for a son, for a daughter)
pub const RU_MALE: &[(&str, &str, &str, &str)] = &[
    ("Александр", "Саша", "Александрович", "Александровна"),
    ("Дмитрий", "Дима", "Дмитриевич", "Дмитриевна"),
    ("Сергей", "Серёжа", "Сергеевич", "Сергеевна"),
    ("Андрей", "Андрюша", "Андреевич", "Андреевна"),
    ("Алексей", "Лёша", "Алексеевич", "Алексеевна"),
    ("Иван", "Ваня", "Иванович", "Ивановна"),
    ("Михаил", "Миша", "Михайлович", "Михайловна"),
    ("Николай", "Коля", "Николаевич", "Николаевна"),
    ("Юрий", "Юра", "Юрьевич", "Юрьевна"),
    ("Пётр", "Петя", "Петрович", "Петровна"),
    ("Максим", "Макс", "Максимович", "Максимовна"),
    ("Владимир", "Вова", "Владимирович", "Владимировна"),
    ("Евгений", "Женя", "Евгеньевич", "Евгеньевна"),
    ("Олег", "Олежка", "Олегович", "Олеговна"),
];
pub const RU_FEMALE: &[(&str, &str)] = &[
    ("Анна", "Аня"),
    ("Мария", "Маша"),
    ("Елена", "Лена"),
    ("Ольга", "Оля"),
    ("Наталья", "Наташа"),
    ("Юлия", "Юля"),
    ("Татьяна", "Таня"),
    ("Екатерина", "Катя"),
    ("Ирина", "Ира"),
    ("Светлана", "Света"),
    ("Дарья", "Даша"),
    ("Ксения", "Ксюша"),
    ("Александра", "Саша"),
    ("Евгения", "Женя"),
];
/// Masculine surnames; the feminine form is derived.
pub const RU_SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Щербаков",
    "Юдин",
    "Ковалевский",
    "Чайковский",
    "Жуков",
    "Белов",
    "Киселёв",
    "Шевченко",
    "Ткаченко",
    "Ершов",
    "Хохлов",
    "Цветков",
    "Яковлев",
];
pub const KZ_MALE: &[(&str, &str)] = &[
    ("Нұрлан", "Нұрланұлы"),
    ("Асқар", "Асқарұлы"),
    ("Ерлан", "Ерланұлы"),
    ("Қайрат", "Қайратұлы"),
    ("Дәурен", "Дәуренұлы"),
    ("Айдос", "Айдосұлы"),
    ("Бауыржан", "Бауыржанұлы"),
    ("Арман", "Арманұлы"),
    ("Ержан", "Ержанұлы"),
    ("Санжар", "Санжарұлы"),
    ("Тимур", "Тимурұлы"),
    ("Әлихан", "Әлиханұлы"),
];
pub const KZ_FEMALE: &[&str] = &[
    "Әйгерім",
    "Айгүл",
    "Гүлнар",
    "Дана",
    "Жанар",
    "Ақмарал",
    "Аружан",
    "Мәдина",
    "Аяулым",
    "Салтанат",
    "Динара",
    "Әсем",
];
pub const KZ_SURNAMES: &[&str] = &[
    "Тоқаев",
    "Нұрланов",
    "Жұмабаев",
    "Қасымов",
    "Оспанов",
    "Ахметов",
    "Серікбаев",
    "Бекмұхамбетов",
    "Омаров",
    "Сәрсенбаев",
    "Әбілов",
    "Мұхамедов",
    "Сейітов",
    "Құлмағамбетов",
    "Ибраев",
    "Смағұлов",
    "Байжанов",
    "Есенов",
];

/// A Latin-script nationality: (ISO country, surnames, male names, female names, nicknames).
pub struct LatinPool {
    pub country: &'static str,
    pub surnames: &'static [&'static str],
    pub male: &'static [&'static str],
    pub female: &'static [&'static str],
    pub nicknames: &'static [(&'static str, &'static str)],
}

pub const LATIN_POOLS: &[LatinPool] = &[
    LatinPool {
        country: "IT",
        surnames: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "De Luca", "D'Angelo",
        ],
        male: &[
            "Marco",
            "Luca",
            "Giuseppe",
            "Francesco",
            "Alessandro",
            "Matteo",
            "Lorenzo",
            "Nicolò",
        ],
        female: &[
            "Giulia",
            "Francesca",
            "Chiara",
            "Sara",
            "Martina",
            "Alessandra",
            "Elisa",
        ],
        nicknames: &[
            ("Giuseppe", "Peppe"),
            ("Francesco", "Franco"),
            ("Alessandro", "Sandro"),
            ("Alessandra", "Sandra"),
        ],
    },
    LatinPool {
        country: "DE",
        surnames: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
        ],
        male: &["Jonas", "Lukas", "Felix", "Maximilian", "Jürgen", "Stefan"],
        female: &["Anna", "Lena", "Julia", "Sophie", "Käthe", "Sabine"],
        nicknames: &[("Maximilian", "Max"), ("Stefan", "Steffi")],
    },
    LatinPool {
        country: "FR",
        surnames: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Lefèvre",
        ],
        male: &["Jean", "Pierre", "Louis", "Hugo", "François"],
        female: &["Marie", "Camille", "Léa", "Chloé", "Élodie"],
        nicknames: &[("François", "Franck")],
    },
    LatinPool {
        country: "GB",
        surnames: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        ],
        male: &["James", "William", "Thomas", "Robert", "Michael"],
        female: &["Emma", "Olivia", "Elizabeth", "Sarah", "Catherine"],
        nicknames: &[
            ("William", "Bill"),
            ("Robert", "Bob"),
            ("Elizabeth", "Liz"),
            ("Michael", "Mike"),
            ("Catherine", "Kate"),
        ],
    },
];

/// Feminine form of a Russian or Kazakh masculine surname.
pub fn feminine_surname(masculine: &str) -> String {
    if let Some(stem) = masculine.strip_suffix("ский") {
        format!("{stem}ская")
    } else if masculine.ends_with("ов")
        || masculine.ends_with("ев")
        || masculine.ends_with("ин")
        || masculine.ends_with("ёв")
    {
        format!("{masculine}а")
    } else {
        masculine.to_string() // -енко and the like do not inflect
    }
}

/// How a Cyrillic name gets written in Latin letters by someone who is not a passport office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ICAO 9303, as in passports since 2013 (Tokaev, Iuliia).
    Icao,
    /// BGN/PCGN, as in the English-language press (Tokayev, Yuliya).
    Press,
    /// German press spelling (Tokajew, Julija).
    German,
    /// French press spelling (Tokaïev, Ioulia).
    French,
    /// The Kazakh Latin alphabet of 2021 (Toqaev).
    KazakhLatin,
}

pub const SCHEMES: [Scheme; 5] = [
    Scheme::Icao,
    Scheme::Press,
    Scheme::German,
    Scheme::French,
    Scheme::KazakhLatin,
];

fn letter(scheme: Scheme, c: char, word_start: bool, after_vowel: bool) -> Option<&'static str> {
    use Scheme::*;
    let iotated = word_start || after_vowel;
    Some(match (scheme, c) {
        (KazakhLatin, 'ә') => "ä",
        (KazakhLatin, 'ғ') => "ğ",
        (KazakhLatin, 'қ') => "q",
        (KazakhLatin, 'ң') => "ñ",
        (KazakhLatin, 'ө') => "ö",
        (KazakhLatin, 'ұ') => "ū",
        (KazakhLatin, 'ү') => "ü",
        (KazakhLatin, 'і') => "ı",
        (KazakhLatin, 'ш') => "ş",
        (KazakhLatin, 'ж') => "j",
        (KazakhLatin, 'й') => "i",
        (KazakhLatin, 'х') => "h",
        (Press, 'е') if iotated => "ye",
        (Press, 'ё') => "yo",
        (Press, 'й') => "y",
        (Press, 'ю') => "yu",
        (Press, 'я') => "ya",
        (Press, 'ь' | 'ъ') => "",
        (German, 'ж') => "sch",
        (German, 'ш') => "sch",
        (German, 'ч') => "tsch",
        (German, 'щ') => "schtsch",
        (German, 'в') => "w",
        (German, 'з') => "s",
        (German, 'й') => "j",
        (German, 'ю') => "ju",
        (German, 'я') => "ja",
        (German, 'ё') => "jo",
        (German, 'х') => "ch",
        (German, 'ц') => "z",
        (German, 'е') if iotated => "je",
        (French, 'ж') => "j",
        (French, 'ш') => "ch",
        (French, 'ч') => "tch",
        (French, 'щ') => "chtch",
        (French, 'у') => "ou",
        (French, 'й') => "ï",
        (French, 'ю') => "iou",
        (French, 'я') => "ia",
        (French, 'ё') => "io",
        (French, 'х') => "kh",
        (French, 'е') if iotated => "ie",
        _ => return None,
    })
}

/// Writes a Cyrillic name in Latin letters under `scheme`, capitalised as names are.
pub fn romanize(name: &str, scheme: Scheme) -> String {
    let mut out = String::new();
    let mut word_start = true;
    let mut after_vowel = false;
    for c in name.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let piece = match letter(scheme, lower, word_start, after_vowel) {
            Some(p) => p.to_string(),
            None => evac_model::to_icao_latin(&lower.to_string()).to_lowercase(),
        };
        let piece = if !c.is_alphabetic() {
            c.to_string()
        } else {
            piece
        };
        if word_start && c.is_alphabetic() {
            let mut chars = piece.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(&piece);
        }
        word_start = !c.is_alphabetic();
        after_vowel = "аеёиоуыэюяәөұүі".contains(lower);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_give_the_spellings_seen_in_the_press() {
        assert_eq!(romanize("Токаев", Scheme::Icao), "Tokaev");
        assert_eq!(romanize("Токаев", Scheme::Press), "Tokayev");
        assert_eq!(romanize("Токаев", Scheme::German), "Tokajew");
        assert_eq!(romanize("Юлия", Scheme::Icao), "Iuliia");
        assert_eq!(romanize("Юлия", Scheme::Press), "Yuliya");
        assert_eq!(romanize("Юлия", Scheme::French), "Iouliia");
        assert_eq!(romanize("Тоқаев", Scheme::KazakhLatin), "Toqaev");
        assert_eq!(romanize("Нұр-Сұлтан", Scheme::KazakhLatin), "Nūr-Sūltan");
        assert_eq!(feminine_surname("Чайковский"), "Чайковская");
        assert_eq!(feminine_surname("Иванов"), "Иванова");
        assert_eq!(feminine_surname("Шевченко"), "Шевченко");
    }
}
