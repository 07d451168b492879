//! Countries evac's crises meet, with their names in the languages of its staff and sources
//! (English, Russian, Kazakh, Italian, German, French), the inflected Russian forms the press
//! uses ("из Казахстана", "в России") and the adjectives that name a country in a report ("il
//! premier armeno", "cittadini russi"). Coordinates are the capital's: distances to a country
//! are to its capital. Names are facts, written here by hand.

/// (ISO 3166 code, capital latitude, capital longitude, names separated by `|`).
pub const COUNTRIES: &[(&str, f64, f64, &str)] = &[
    (
        "KZ",
        51.1801,
        71.44598,
        "Kazakhstan|Kazakhstan Republic|Казахстан|Казахстана|Казахстане|Қазақстан|Qazaqstan|Kazakistan|Kasachstan|Kazakh|kazako|kazaka|kazaki|kazake|казахский|казахские|казахстанский",
    ),
    (
        "RU",
        55.75222,
        37.61556,
        "Russia|Russian Federation|Россия|России|Россию|Российская Федерация|Ресей|Russland|Russie|Russian|russo|russa|russi|russe|российский|российские|российского",
    ),
    (
        "BY",
        53.9,
        27.56667,
        "Belarus|Беларусь|Белоруссия|Белоруссии|Беларуси|Беларусь|Bielorussia|Weißrussland|Biélorussie|Belarusian|bielorusso|bielorussa|белорусский",
    ),
    (
        "AM",
        40.18111,
        44.51361,
        "Armenia|Армения|Армении|Армения|Armenien|Arménie|Armenian|armeno|armena|armeni|армянский|армянского",
    ),
    (
        "KG",
        42.87,
        74.59,
        "Kyrgyzstan|Kirghizistan|Киргизия|Киргизии|Кыргызстан|Қырғызстан|Kirgisistan|Kirghizstan|Kyrgyz|kirghiso|киргизский",
    ),
    (
        "TJ",
        38.53575,
        68.77905,
        "Tajikistan|Таджикистан|Таджикистана|Тәжікстан|Tagikistan|Tadschikistan|Tadjikistan",
    ),
    (
        "UZ",
        41.26465,
        69.21627,
        "Uzbekistan|Узбекистан|Узбекистана|Өзбекстан|Usbekistan|Ouzbékistan|Uzbek|uzbeko|узбекский",
    ),
    (
        "TM",
        37.95,
        58.38333,
        "Turkmenistan|Туркмения|Туркменистан|Түрікменстан|Turkménistan",
    ),
    (
        "CN",
        39.9075,
        116.39723,
        "China|Китай|Китая|Қытай|Cina|Chine|Chinese|cinese|китайский",
    ),
    (
        "MN",
        47.90771,
        106.88324,
        "Mongolia|Монголия|Монголии|Моңғолия|Mongolei|Mongolie",
    ),
    (
        "AZ",
        40.37767,
        49.89201,
        "Azerbaijan|Азербайджан|Әзірбайжан|Azerbaigian|Aserbaidschan|Azerbaïdjan",
    ),
    (
        "GE",
        41.69411,
        44.83368,
        "Georgia|Грузия|Грузии|Грузия|Georgien|Géorgie",
    ),
    (
        "TR",
        39.91987,
        32.85427,
        "Turkey|Türkiye|Турция|Турции|Түркия|Turchia|Türkei|Turquie",
    ),
    (
        "UA",
        50.45466,
        30.5238,
        "Ukraine|Украина|Украины|Украине|Украина|Ucraina",
    ),
    (
        "IT",
        41.89193,
        12.51133,
        "Italy|Италия|Италии|Италия|Italia|Italien|Italie",
    ),
    (
        "DE",
        52.52437,
        13.41053,
        "Germany|Германия|Германии|Германия|Germania|Deutschland|Allemagne",
    ),
    (
        "FR",
        48.85341,
        2.3488,
        "France|Франция|Франции|Франция|Francia|Frankreich",
    ),
    (
        "GB",
        51.50853,
        -0.12574,
        "United Kingdom|Britain|Great Britain|Великобритания|Великобритании|Regno Unito|Großbritannien|Royaume-Uni",
    ),
    (
        "US",
        38.89511,
        -77.03637,
        "United States|USA|США|Соединённые Штаты|Stati Uniti|Vereinigte Staaten|États-Unis",
    ),
];
