//! The demo crisis: a seeded, realistic January-2022 Kazakhstan evacuation caseload.
//!
//! Households are drawn first (tourists in hotels, families, holiday groups of children with
//! their escorts, the elderly, medical cases, children alone whose parents ask from home), then
//! each household submits one or more requests through different channels, each copy with the
//! noise real intake has: Cyrillic names written in Latin under another scheme, typos, day and
//! month swapped, a nickname for the given name, given name and surname swapped, missing
//! fields, phones in mixed formats, and copies sent by a third party (a neighbour, an NGO) whose
//! phone ties them to nothing. Every record carries the true person and household of each
//! party member ([`TruthRow`]), the ground truth that linkage benchmarks score against.
//!
//! Pure: no I/O, no clock. The same [`Scenario`] always yields the same records, streamed one
//! at a time, so a million requests need no more memory than one household.

mod names;
mod seeds;
pub mod situation;

use std::collections::VecDeque;

use evac_model::{LocationDraft, PersonDraft, RequestDraft, SubmitterDraft, Timestamp};
use jiff::civil::Date;
use names::*;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use names::{Scheme, romanize};
pub use seeds::{
    NUR_SULTAN_CURFEW, SeedRoute, SeedSituation, SeedStatus, SeedZone, seed_reports, seed_situation,
};

/// What the generated requesters write of a person's health, when they need medical care.
const MEDICAL_NOTES: [&str; 5] = [
    "астма, ингалятор с собой",
    "сахарный диабет, нужен инсулин каждые 12 часов",
    "после операции, нужны перевязки",
    "эпилепсия, принимает лекарства",
    "беременность 34 недели",
];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub requests: usize,
    pub seed: u64,
    /// When the first requests arrive (the demo: 2022-01-05T06:00:00Z, as Almaty airport fell).
    pub start: Timestamp,
    /// Requests arrive over this many hours.
    pub window_hours: u32,
}

impl Scenario {
    pub fn january_2022(requests: usize, seed: u64) -> Self {
        Scenario {
            requests,
            seed,
            start: Timestamp::from_unix_micros(1_641_362_400_000_000),
            window_hours: 120,
        }
    }
}

/// The truth about one party member of one record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TruthRow {
    pub record_id: String,
    pub party_index: usize,
    pub person_id: u64,
    pub household_id: u64,
}

/// One generated request.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Stable id of this record, also its `external_ref`: `demo-0000042`.
    pub record_id: String,
    pub draft: RequestDraft,
    pub received_at: Timestamp,
    pub truth: Vec<TruthRow>,
}

/// A city requests come from, with the ways people write its name.
#[derive(Debug, Clone)]
pub struct City {
    pub name: &'static str,
    pub spellings: Vec<&'static str>,
    pub lat: f64,
    pub lon: f64,
    pub weight: f64,
}

/// The shipped gazetteer subset (GeoNames, CC BY 4.0; see data/README.md).
const KZ_CITIES_TSV: &str = include_str!("../../../data/kz_cities.tsv");

/// Cities with the weight of their share of requests: mostly Almaty, then Nur-Sultan (as the
/// capital was called in January 2022), Shymkent, Karaganda, then the rest by population.
pub fn cities() -> Vec<City> {
    let mut out = Vec::new();
    for line in KZ_CITIES_TSV.lines().skip(1) {
        let f: Vec<&'static str> = line.split('\t').collect();
        if f.len() < 10 {
            continue;
        }
        let population: f64 = f[8].parse().unwrap_or(0.0);
        let (name, weight, mut spellings) = match f[1] {
            "Almaty" => (
                "Almaty",
                55.0,
                vec![
                    "Almaty",
                    "Алматы",
                    "Alma-Ata",
                    "Алма-Ата",
                    "г. Алматы",
                    "Almaty city",
                ],
            ),
            "Astana" => (
                "Nur-Sultan",
                15.0,
                vec![
                    "Nur-Sultan",
                    "Нур-Султан",
                    "Нұр-Сұлтан",
                    "Nursultan",
                    "Астана",
                ],
            ),
            "Shymkent" => (
                "Shymkent",
                8.0,
                vec!["Shymkent", "Шымкент", "Chimkent", "Чимкент"],
            ),
            "Karagandy" => (
                "Karaganda",
                6.0,
                vec!["Karaganda", "Караганда", "Qaraghandy", "Қарағанды"],
            ),
            other => (other, -population, vec![other]), // negative: scaled below
        };
        if spellings.len() == 1 {
            spellings.extend([f[2], f[3]].into_iter().filter(|s| !s.is_empty()));
        }
        let lat = f[6].parse().unwrap_or(0.0);
        let lon = f[7].parse().unwrap_or(0.0);
        out.push(City {
            name,
            spellings,
            lat,
            lon,
            weight,
        });
    }
    // The other cities share the remaining 16 % by population.
    let rest: f64 = out
        .iter()
        .filter(|c| c.weight < 0.0)
        .map(|c| -c.weight)
        .sum();
    for city in out.iter_mut().filter(|c| c.weight < 0.0) {
        city.weight = -city.weight / rest * 16.0;
    }
    out
}

const ALMATY_PLACES: &[&str] = &[
    "Hotel Kazakhstan",
    "гостиница «Казахстан»",
    "Rixos Almaty",
    "InterContinental Almaty",
    "Ramada Plaza",
    "Holiday Inn Almaty",
    "пр. Достык 85",
    "ул. Абая 10",
    "Shymbulak resort",
    "санаторий «Алматы»",
    "near the Akimat",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Native {
    Russian,
    Kazakh,
    Latin(usize),
}

/// A person as they really are.
#[derive(Debug, Clone)]
struct TruePerson {
    id: u64,
    native: Native,
    surname: String,
    given: String,
    nickname: Option<String>,
    patronymic: Option<String>,
    female: bool,
    birth: Date,
    citizenship: &'static str,
    document: Option<String>,
    phone: Option<String>,
    needs: Vec<&'static str>,
    relation: &'static str,
}

impl TruePerson {
    /// Gives the person the next name of their pool that none of `taken` bears, if they bear
    /// one of those: parents do not give two living children one name. The name is taken in
    /// order, not drawn (later draws of the crisis still depend on the new name's nickname and
    /// length, so a seed's crisis is not the same as before this rule).
    fn name_apart_from(&mut self, taken: &[&str]) {
        if !taken.contains(&self.given.as_str()) {
            return;
        }
        let pool = given_names(self.native, self.female);
        let at = pool.iter().position(|(g, _)| *g == self.given).unwrap_or(0);
        let free = (1..pool.len())
            .map(|step| pool[(at + step) % pool.len()])
            .find(|(g, _)| !taken.contains(g));
        if let Some((given, nickname)) = free {
            self.given = given.to_string();
            self.nickname = nickname.map(str::to_string);
        }
    }
}

/// The given names a person of this origin and sex is drawn from, each with its nickname.
fn given_names(native: Native, female: bool) -> Vec<(&'static str, Option<&'static str>)> {
    match (native, female) {
        (Native::Russian, true) => RU_FEMALE.iter().map(|&(g, n)| (g, Some(n))).collect(),
        (Native::Russian, false) => RU_MALE.iter().map(|&(g, n, ..)| (g, Some(n))).collect(),
        (Native::Kazakh, true) => KZ_FEMALE.iter().map(|&g| (g, None)).collect(),
        (Native::Kazakh, false) => KZ_MALE.iter().map(|&(g, _)| (g, None)).collect(),
        (Native::Latin(pool), female) => {
            let pool = &LATIN_POOLS[pool];
            let names = if female { pool.female } else { pool.male };
            names
                .iter()
                .map(|&g| {
                    let nickname = pool.nicknames.iter().find(|(full, _)| *full == g);
                    (g, nickname.map(|&(_, n)| n))
                })
                .collect()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tourists,
    Family,
    HolidayGroup,
    Elderly,
    Medical,
    Workers,
    Pregnant,
    ChildAlone,
}

struct Household {
    id: u64,
    kind: Kind,
    members: Vec<TruePerson>,
    city: usize,
    place: Option<&'static str>,
    /// For a child alone: the parent at home who asks.
    relative_at_home: Option<(String, String)>,
}

pub struct Generator {
    scenario: Scenario,
    rng: ChaCha8Rng,
    cities: Vec<City>,
    city_weight_total: f64,
    emitted: usize,
    next_person: u64,
    next_household: u64,
    pending: VecDeque<Generated>,
    today: Date,
}

/// Streams the scenario's requests.
pub fn generate(scenario: Scenario) -> Generator {
    let cities = cities();
    let city_weight_total = cities.iter().map(|c| c.weight).sum();
    Generator {
        rng: ChaCha8Rng::seed_from_u64(scenario.seed),
        today: scenario.start.date_utc(),
        scenario,
        cities,
        city_weight_total,
        emitted: 0,
        next_person: 0,
        next_household: 0,
        pending: VecDeque::new(),
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        if self.emitted >= self.scenario.requests {
            return None;
        }
        if self.pending.is_empty() {
            let household = self.household();
            self.submissions(&household);
        }
        self.emitted += 1;
        self.pending.pop_front()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.scenario.requests - self.emitted;
        (left, Some(left))
    }
}

fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.random_bool(p.clamp(0.0, 1.0))
}

impl Generator {
    fn pick_city(&mut self) -> usize {
        let mut x = self.rng.random_range(0.0..self.city_weight_total);
        for (i, c) in self.cities.iter().enumerate() {
            if x < c.weight {
                return i;
            }
            x -= c.weight;
        }
        0
    }

    fn birth(&mut self, age_min: i16, age_max: i16) -> Date {
        let age = self.rng.random_range(age_min..=age_max);
        let year = self.today.year() - age - 1;
        let month = self.rng.random_range(1..=12);
        let day = self.rng.random_range(1..=28);
        Date::new(year, month, day).expect("day 1..=28 exists in every month")
    }

    /// A mobile number that the phone metadata accepts (drawn again until it does: allocations
    /// are finer than any prefix list).
    fn phone(&mut self, country: &str) -> String {
        const DRAWS_MAX: usize = 64;
        let mut number = self.phone_draw(country);
        for _ in 0..DRAWS_MAX {
            if evac_model::PhoneE164::parse(&number, None).is_ok() {
                break;
            }
            number = self.phone_draw(country);
        }
        number
    }

    fn phone_draw(&mut self, country: &str) -> String {
        let r = &mut self.rng;
        match country {
            // Real mobile prefixes: the metadata rejects numbers outside the allocated ranges.
            "KZ" => format!(
                "+7{}{:07}",
                [
                    "700", "701", "702", "705", "707", "708", "747", "771", "775", "777", "778"
                ]
                .choose(r)
                .unwrap(),
                r.random_range(0..10_000_000u32)
            ),
            "RU" => format!(
                "+7{}{:07}",
                ["903", "905", "909", "915", "916", "925", "926", "985"]
                    .choose(r)
                    .unwrap(),
                r.random_range(0..10_000_000u32)
            ),
            "IT" => format!("+393{:09}", r.random_range(200_000_000..500_000_000u32)),
            "DE" => format!("+49151{:08}", r.random_range(10_000_000..99_999_999u32)),
            "FR" => format!("+336{:08}", r.random_range(10_000_000..99_999_999u32)),
            _ => format!("+447911{:06}", r.random_range(0..1_000_000u32)),
        }
    }

    fn document(&mut self, country: &str) -> String {
        let r = &mut self.rng;
        match country {
            "KZ" => format!("N{:08}", r.random_range(0..100_000_000u32)),
            "RU" => format!(
                "{} {:07}",
                r.random_range(70..79u32),
                r.random_range(0..10_000_000u32)
            ),
            "IT" => format!(
                "Y{}{:07}",
                (b'A' + r.random_range(0..26u8)) as char,
                r.random_range(0..10_000_000u32)
            ),
            _ => format!("C{:08}", r.random_range(0..100_000_000u32)),
        }
    }

    fn person(
        &mut self,
        native: Native,
        female: bool,
        surname_m: &str,
        age: (i16, i16),
        relation: &'static str,
        father: Option<usize>,
    ) -> TruePerson {
        let id = self.next_person;
        self.next_person += 1;
        let (surname, given, nickname, patronymic, citizenship) = match native {
            Native::Russian => {
                let surname = if female {
                    feminine_surname(surname_m)
                } else {
                    surname_m.to_string()
                };
                let (given, nick) = if female {
                    let (g, n) = *RU_FEMALE.choose(&mut self.rng).unwrap();
                    (g, n)
                } else {
                    let (g, n, _, _) = *RU_MALE.choose(&mut self.rng).unwrap();
                    (g, n)
                };
                let father = father.unwrap_or_else(|| self.rng.random_range(0..RU_MALE.len()));
                let patronymic = if female {
                    RU_MALE[father].3
                } else {
                    RU_MALE[father].2
                };
                let citizenship = if chance(&mut self.rng, 0.8) {
                    "RU"
                } else {
                    "KZ"
                };
                (
                    surname,
                    given.to_string(),
                    Some(nick.to_string()),
                    Some(patronymic.to_string()),
                    citizenship,
                )
            }
            Native::Kazakh => {
                let surname = if female {
                    feminine_surname(surname_m)
                } else {
                    surname_m.to_string()
                };
                let given = if female {
                    *KZ_FEMALE.choose(&mut self.rng).unwrap()
                } else {
                    KZ_MALE.choose(&mut self.rng).unwrap().0
                };
                let father = father.unwrap_or_else(|| self.rng.random_range(0..KZ_MALE.len()));
                let patronymic = if female {
                    format!("{}қызы", KZ_MALE[father].0)
                } else {
                    KZ_MALE[father].1.to_string()
                };
                (surname, given.to_string(), None, Some(patronymic), "KZ")
            }
            Native::Latin(pool) => {
                let pool = &LATIN_POOLS[pool];
                let given = if female {
                    *pool.female.choose(&mut self.rng).unwrap()
                } else {
                    *pool.male.choose(&mut self.rng).unwrap()
                };
                let nickname = pool
                    .nicknames
                    .iter()
                    .find(|(full, _)| *full == given)
                    .map(|(_, n)| n.to_string());
                (
                    surname_m.to_string(),
                    given.to_string(),
                    nickname,
                    None,
                    pool.country,
                )
            }
        };
        let birth = self.birth(age.0, age.1);
        let document = chance(&mut self.rng, 0.6).then(|| self.document(citizenship));
        TruePerson {
            id,
            native,
            surname,
            given,
            nickname,
            patronymic,
            female,
            birth,
            citizenship,
            document,
            phone: None,
            needs: Vec::new(),
            relation,
        }
    }

    fn nationality(&mut self) -> (Native, String) {
        match self.rng.random_range(0..100) {
            0..45 => (
                Native::Russian,
                RU_SURNAMES.choose(&mut self.rng).unwrap().to_string(),
            ),
            45..70 => (
                Native::Kazakh,
                KZ_SURNAMES.choose(&mut self.rng).unwrap().to_string(),
            ),
            _ => {
                let pool = self.rng.random_range(0..LATIN_POOLS.len());
                (
                    Native::Latin(pool),
                    LATIN_POOLS[pool]
                        .surnames
                        .choose(&mut self.rng)
                        .unwrap()
                        .to_string(),
                )
            }
        }
    }

    fn household(&mut self) -> Household {
        let id = self.next_household;
        self.next_household += 1;
        let kind = match self.rng.random_range(0..100) {
            0..24 => Kind::Tourists,
            24..52 => Kind::Family,
            52..55 => Kind::HolidayGroup,
            55..66 => Kind::Elderly,
            66..73 => Kind::Medical,
            73..88 => Kind::Workers,
            88..93 => Kind::Pregnant,
            _ => Kind::ChildAlone,
        };
        let (native, surname) = self.nationality();
        let mut members = Vec::new();
        let mut relative_at_home = None;
        match kind {
            Kind::Tourists | Kind::Workers => {
                let female = chance(&mut self.rng, 0.45);
                members.push(self.person(native, female, &surname, (20, 60), "self", None));
                if chance(&mut self.rng, 0.5) {
                    let (n2, s2) = if chance(&mut self.rng, 0.8) {
                        (native, surname.clone())
                    } else {
                        self.nationality()
                    };
                    members.push(self.person(
                        n2,
                        !female,
                        &s2,
                        (20, 60),
                        if s2 == surname { "spouse" } else { "other" },
                        None,
                    ));
                }
            }
            Kind::Family => {
                members.push(self.person(native, false, &surname, (28, 50), "self", None));
                if chance(&mut self.rng, 0.85) {
                    members.push(self.person(native, true, &surname, (26, 48), "spouse", None));
                }
                let father_given = members[0].given.clone();
                let father_index = match native {
                    Native::Kazakh => KZ_MALE.iter().position(|(g, _)| *g == father_given),
                    Native::Russian => RU_MALE.iter().position(|(g, ..)| *g == father_given),
                    Native::Latin(_) => None,
                };
                for _ in 0..self.rng.random_range(1..=4) {
                    let female = chance(&mut self.rng, 0.5);
                    let mut child =
                        self.person(native, female, &surname, (1, 17), "child", father_index);
                    let siblings: Vec<&str> = members
                        .iter()
                        .filter(|m| m.relation == "child")
                        .map(|m| m.given.as_str())
                        .collect();
                    child.name_apart_from(&siblings);
                    members.push(child);
                }
                if chance(&mut self.rng, 0.15) {
                    members.push(self.person(
                        native,
                        true,
                        &surname,
                        (60, 80),
                        "grandparent",
                        None,
                    ));
                }
            }
            Kind::HolidayGroup => {
                // A school or sports group on winter holiday: children of many families, with
                // one to three adults in charge.
                for _ in 0..self.rng.random_range(1..=3) {
                    let (n, s) = self.nationality();
                    let female = chance(&mut self.rng, 0.7);
                    members.push(self.person(n, female, &s, (25, 55), "escort", None));
                }
                for _ in 0..self.rng.random_range(6..=22) {
                    let (n, s) = if chance(&mut self.rng, 0.8) {
                        (
                            native,
                            RU_SURNAMES.choose(&mut self.rng).unwrap().to_string(),
                        )
                    } else {
                        self.nationality()
                    };
                    let n = if matches!(n, Native::Latin(_)) {
                        native
                    } else {
                        n
                    };
                    let female = chance(&mut self.rng, 0.5);
                    members.push(self.person(n, female, &s, (8, 16), "group_member", None));
                }
            }
            Kind::Elderly => {
                members.push(self.person(native, false, &surname, (65, 85), "self", None));
                if chance(&mut self.rng, 0.6) {
                    members.push(self.person(native, true, &surname, (62, 83), "spouse", None));
                }
                if chance(&mut self.rng, 0.4) {
                    let need = *["mobility", "wheelchair", "medical"]
                        .choose(&mut self.rng)
                        .unwrap();
                    members[0].needs.push(need);
                }
            }
            Kind::Medical => {
                let female = chance(&mut self.rng, 0.5);
                let mut patient = self.person(native, female, &surname, (5, 80), "self", None);
                patient.needs.push(
                    *["life_threatening", "medical", "stretcher", "wheelchair"]
                        .choose(&mut self.rng)
                        .unwrap(),
                );
                members.push(patient);
                if chance(&mut self.rng, 0.7) {
                    members.push(self.person(
                        native,
                        !female,
                        &surname,
                        (25, 60),
                        "relative",
                        None,
                    ));
                }
            }
            Kind::Pregnant => {
                let mut mother = self.person(native, true, &surname, (20, 40), "self", None);
                mother.needs.push("pregnancy");
                members.push(mother);
                if chance(&mut self.rng, 0.7) {
                    members.push(self.person(native, false, &surname, (22, 45), "spouse", None));
                }
            }
            Kind::ChildAlone => {
                let female = chance(&mut self.rng, 0.5);
                members.push(self.person(native, female, &surname, (10, 17), "child", None));
                let mother = chance(&mut self.rng, 0.6);
                let parent = self.person(native, mother, &surname, (35, 55), "parent", None);
                let home = if parent.citizenship == "KZ" {
                    "KZ"
                } else {
                    parent.citizenship
                };
                let phone = self.phone(home);
                relative_at_home = Some((format!("{} {}", parent.given, parent.surname), phone));
            }
        }
        // Adults carry phones; the first adult always (somebody must be reachable).
        for (i, m) in members.iter_mut().enumerate() {
            let adult = self.today.year() - m.birth.year() >= 18;
            if adult && (i == 0 || chance(&mut self.rng, 0.5)) {
                let country = if m.citizenship == "KZ" || chance(&mut self.rng, 0.3) {
                    "KZ"
                } else {
                    m.citizenship
                };
                let country = country.to_string();
                m.phone = Some(self.phone(&country));
            }
        }
        if members.iter().all(|m| m.phone.is_none()) {
            // A child patient or a teenager: their own mobile is the only line.
            let country = if members[0].citizenship == "KZ" {
                "KZ"
            } else {
                "RU"
            };
            members[0].phone = Some(self.phone(country));
        }
        let city = self.pick_city();
        let place = (self.cities[city].name == "Almaty"
            && matches!(kind, Kind::Tourists | Kind::HolidayGroup | Kind::Workers))
        .then(|| *ALMATY_PLACES.choose(&mut self.rng).unwrap());
        Household {
            id,
            kind,
            members,
            city,
            place,
            relative_at_home,
        }
    }

    fn received_at(&mut self) -> Timestamp {
        // Most requests come in the first two days, as the airport closes and news spreads.
        let hours = self.scenario.window_hours.max(1) as f64;
        let u: f64 = self.rng.random_range(0.0..1.0);
        let offset_h = hours * u * u;
        self.scenario.start.plus_seconds((offset_h * 3600.0) as i64)
    }

    fn submissions(&mut self, household: &Household) {
        let copies = match self.rng.random_range(0..100) {
            0..68 => 1,
            68..90 => 2,
            90..97 => 3,
            _ => 4,
        };
        let channels = ["web_form", "hotline", "messenger", "email", "import"];
        let first_channel = match self.rng.random_range(0..100) {
            0..50 => 0,
            50..75 => 1,
            75..85 => 2,
            85..90 => 3,
            _ => 4,
        };
        for copy in 0..copies {
            let channel = if copy == 0 {
                channels[first_channel]
            } else {
                *channels.choose(&mut self.rng).unwrap()
            };
            let record_number = self.emitted + self.pending.len();
            let record_id = format!("demo-{record_number:07}");
            let noisy = copy > 0 || chance(&mut self.rng, 0.15);
            let generated = self.record(household, channel, noisy, record_id);
            self.pending.push_back(generated);
        }
    }

    fn spelled_name(&mut self, text: &str, native: Native, latin: Option<Scheme>) -> String {
        match (native, latin) {
            (Native::Latin(_), _) | (_, None) => text.to_string(),
            (_, Some(scheme)) => romanize(text, scheme),
        }
    }

    fn typo(&mut self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() < 4 {
            return text.to_string();
        }
        let i = self.rng.random_range(1..chars.len() - 1);
        let mut out = chars.clone();
        match self.rng.random_range(0..4) {
            0 => {
                out.remove(i);
            }
            1 => out.swap(i, i + 1),
            2 => out.insert(i, chars[i]),
            _ => out[i] = chars[i - 1],
        }
        out.into_iter().collect()
    }

    fn phone_as_written(&mut self, e164: &str) -> String {
        let Some(national) = e164.strip_prefix("+7") else {
            return e164.to_string();
        };
        let (a, b) = national.split_at(3);
        match self.rng.random_range(0..5) {
            0 => format!("8 {a} {} {} {}", &b[..3], &b[3..5], &b[5..]),
            1 => format!("8{national}"),
            2 => format!("+7 ({a}) {}-{}-{}", &b[..3], &b[3..5], &b[5..]),
            3 => format!("7{national}"),
            _ => e164.to_string(),
        }
    }

    fn record(
        &mut self,
        h: &Household,
        channel: &'static str,
        noisy: bool,
        record_id: String,
    ) -> Generated {
        let cyrillic_household = !matches!(h.members[0].native, Native::Latin(_));
        // Hotline operators abroad and NGO spreadsheets often write Cyrillic names in Latin.
        let latin = (cyrillic_household
            && (matches!(channel, "hotline" | "import" | "email") && chance(&mut self.rng, 0.6)
                || chance(&mut self.rng, 0.1)))
        .then(|| *SCHEMES.choose(&mut self.rng).unwrap());
        // A later copy sometimes covers only part of the household (a relative lists the children).
        let subset = noisy
            && h.members.len() > 2
            && h.kind != Kind::HolidayGroup
            && chance(&mut self.rng, 0.15);
        let mut party = Vec::new();
        let mut truth = Vec::new();
        for m in &h.members {
            if subset && m.relation == "self" {
                continue;
            }
            let mut given = if noisy && m.nickname.is_some() && chance(&mut self.rng, 0.2) {
                m.nickname.clone().unwrap()
            } else {
                m.given.clone()
            };
            let mut surname = m.surname.clone();
            if noisy && chance(&mut self.rng, 0.2) {
                surname = self.typo(&surname);
            }
            if noisy && chance(&mut self.rng, 0.1) {
                given = self.typo(&given);
            }
            surname = self.spelled_name(&surname, m.native, latin);
            given = self.spelled_name(&given, m.native, latin);
            if noisy && chance(&mut self.rng, 0.08) {
                std::mem::swap(&mut surname, &mut given);
            }
            let patronymic = m
                .patronymic
                .as_ref()
                .filter(|_| {
                    latin.is_none()
                        && chance(&mut self.rng, if channel == "hotline" { 0.3 } else { 0.7 })
                })
                .cloned();
            let mut birth = Some(m.birth);
            if noisy
                && chance(&mut self.rng, 0.12)
                && m.birth.day() <= 12
                && m.birth.day() != m.birth.month()
            {
                birth = Date::new(m.birth.year(), m.birth.day(), m.birth.month()).ok();
            }
            let mut age_years = None;
            if channel == "hotline" && chance(&mut self.rng, 0.4)
                || noisy && chance(&mut self.rng, 0.1)
            {
                age_years = birth.map(|b| i64::from(self.today.year() - b.year() - 1));
                birth = None;
            }
            let phones: Vec<String> = match &m.phone {
                Some(p) if !(noisy && chance(&mut self.rng, 0.2)) => vec![self.phone_as_written(p)],
                _ => Vec::new(),
            };
            let sex = (!noisy || chance(&mut self.rng, 0.7))
                .then(|| if m.female { "F" } else { "M" }.to_string());
            truth.push(TruthRow {
                record_id: record_id.clone(),
                party_index: party.len(),
                person_id: m.id,
                household_id: h.id,
            });
            party.push(PersonDraft {
                surname: Some(surname),
                given_names: Some(given),
                patronymic,
                birth_date: birth.map(|b| b.to_string()),
                age_years,
                sex,
                citizenship: (!noisy || chance(&mut self.rng, 0.5))
                    .then(|| m.citizenship.to_string()),
                document_type: None,
                document_number: m
                    .document
                    .clone()
                    .filter(|_| !noisy || chance(&mut self.rng, 0.5)),
                document_issuing_state: None,
                document_expiry: None,
                phones,
                email: None,
                needs: m.needs.iter().map(|n| n.to_string()).collect(),
                relation: Some(m.relation.to_string()),
                // Picked by the birthday, not the generator, so the crisis stays the same.
                medical_note: m
                    .needs
                    .iter()
                    .any(|n| matches!(*n, "medical" | "life_threatening"))
                    .then(|| {
                        MEDICAL_NOTES[m.birth.day() as usize % MEDICAL_NOTES.len()].to_string()
                    }),
            });
        }

        let city = &self.cities[h.city];
        let spelling = *city.spellings.choose(&mut self.rng).unwrap();
        let text = match h.place {
            Some(place) => format!("{spelling}, {place}"),
            None => spelling.to_string(),
        };
        let with_coordinates = channel == "web_form" && chance(&mut self.rng, 0.25);
        let (lat, lon) = (
            city.lat + self.rng.random_range(-0.04..0.04),
            city.lon + self.rng.random_range(-0.04..0.04),
        );
        let location = LocationDraft {
            text: Some(text),
            country: chance(&mut self.rng, 0.7).then(|| "KZ".to_string()),
            lat: with_coordinates.then_some((lat * 1e5).round() / 1e5),
            lon: with_coordinates.then_some((lon * 1e5).round() / 1e5),
            accuracy_m: with_coordinates.then(|| f64::from(self.rng.random_range(10..500u32))),
        };
        // A later copy often comes from somebody else: a neighbour, a colleague, an NGO desk
        // or the hotline's own callback number. Then nothing ties it to the household but the
        // people in it.
        let third_party = noisy
            && matches!(channel, "hotline" | "email" | "import" | "messenger")
            && chance(&mut self.rng, 0.35);
        let submitter = match &h.relative_at_home {
            _ if third_party => {
                let phone = self.phone("KZ");
                SubmitterDraft {
                    name: Some(
                        ["соседка", "colleague", "NGO desk", "коллега"]
                            .choose(&mut self.rng)
                            .unwrap()
                            .to_string(),
                    ),
                    phones: vec![self.phone_as_written(&phone)],
                    email: None,
                }
            }
            Some((name, phone)) => SubmitterDraft {
                name: Some(name.clone()),
                phones: vec![self.phone_as_written(phone)],
                email: None,
            },
            None => {
                let first_reachable = h.members.iter().find(|m| m.phone.is_some());
                let phones = first_reachable
                    .and_then(|m| m.phone.clone())
                    .into_iter()
                    .collect::<Vec<_>>();
                let phones = phones
                    .into_iter()
                    .map(|p| self.phone_as_written(&p))
                    .collect();
                SubmitterDraft {
                    name: None,
                    phones,
                    email: None,
                }
            }
        };
        let language = match h.members[0].native {
            Native::Russian => "ru",
            Native::Kazakh => {
                if chance(&mut self.rng, 0.5) {
                    "kk"
                } else {
                    "ru"
                }
            }
            Native::Latin(p) => match LATIN_POOLS[p].country {
                "IT" => "it",
                "DE" => "de",
                "FR" => "fr",
                _ => "en",
            },
        };
        let has_medical = h.members.iter().any(|m| {
            m.needs
                .iter()
                .any(|n| matches!(*n, "life_threatening" | "medical" | "stretcher"))
        });
        let mut urgency = Vec::new();
        if has_medical {
            urgency.push("medical_emergency".to_string());
        }
        if h.kind == Kind::ChildAlone || h.kind == Kind::HolidayGroup {
            urgency.push("children_alone".to_string());
        }
        if chance(&mut self.rng, 0.1) {
            urgency.push("immediate_danger".to_string());
        }
        let situation = situation::describe(
            &mut self.rng,
            language,
            h.kind == Kind::HolidayGroup,
            has_medical,
            h.relative_at_home.is_some(),
        );
        let draft = RequestDraft {
            channel: Some(channel.to_string()),
            language: Some(language.to_string()),
            submitter,
            location,
            situation: Some(situation),
            urgency,
            party,
            consent: Some(true),
            external_ref: Some(record_id.clone()),
            // Everyone in the generated crisis asks to go anywhere safe; another country is the
            // desk's to record (`RequestCorrection::destination_country`).
            destination_country: None,
        };
        let received_at = self.received_at();
        Generated {
            record_id,
            draft,
            received_at,
            truth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_crisis() {
        let a: Vec<_> = generate(Scenario::january_2022(200, 7))
            .map(|g| format!("{:?}", g.draft))
            .collect();
        let b: Vec<_> = generate(Scenario::january_2022(200, 7))
            .map(|g| format!("{:?}", g.draft))
            .collect();
        let c: Vec<_> = generate(Scenario::january_2022(200, 8))
            .map(|g| format!("{:?}", g.draft))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Parents do not give two living children one name; the pools are small (six German
    /// names a sex), so without a check one family in a few dozen had two Käthes, a pair no
    /// field can tell apart, which linkage was then blamed for.
    #[test]
    fn no_two_children_of_one_family_share_a_given_name() {
        let mut generator = generate(Scenario::january_2022(0, 2022));
        let mut families = 0;
        for _ in 0..5_000 {
            let household = generator.household();
            if household.kind != Kind::Family {
                continue;
            }
            families += 1;
            let mut children: Vec<&str> = household
                .members
                .iter()
                .filter(|m| m.relation == "child")
                .map(|m| m.given.as_str())
                .collect();
            let listed = children.len();
            children.sort_unstable();
            children.dedup();
            assert_eq!(children.len(), listed, "{:?}", household.members);
        }
        assert!(families > 1_000, "{families} families");
    }
}
