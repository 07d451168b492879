//! Linkage at its boundary: records in, persons, households and explanations out.

use evac_demo::{Scenario, generate};
use evac_link::evaluate::pair_metrics;
use evac_link::sources::records_of_draft;
use evac_link::{
    Band, Documents, Index, LinkRecord, Prepared, Settings, Sex, link, name_association,
};
use jiff::civil::date;
use proptest::prelude::*;

fn person(id: &str, group: &str, given: &str, surname: &str) -> LinkRecord {
    LinkRecord {
        record_id: id.into(),
        group: Some(group.into()),
        given_names: Some(given.into()),
        surname: Some(surname.into()),
        ..LinkRecord::default()
    }
}

/// A family of three writes in Cyrillic on the web form; a relative phones the hotline, where
/// the operator writes the names in Latin as heard, with a nickname and a swapped date.
fn family_twice() -> Vec<LinkRecord> {
    let web = |id: &str, given: &str, surname: &str, born| LinkRecord {
        birth_date: Some(born),
        household_phones: vec!["8 701 123 45 67".into()],
        locality: Some("Алматы".into()),
        ..person(id, "web-1", given, surname)
    };
    let hotline = |id: &str, given: &str, surname: &str, born| LinkRecord {
        birth_date: Some(born),
        household_phones: vec!["+7 (701) 123-45-67".into()],
        locality: Some("Almaty".into()),
        ..person(id, "hotline-7", given, surname)
    };
    vec![
        LinkRecord {
            sex: Some(Sex::Female),
            phones: vec!["87011234567".into()],
            patronymic: Some("Сергеевна".into()),
            ..web("web-1/0", "Юлия", "Токаева", date(1988, 4, 9))
        },
        web("web-1/1", "Александр", "Токаев", date(2012, 11, 3)),
        web("web-1/2", "Мария", "Токаева", date(2015, 2, 20)),
        LinkRecord {
            sex: Some(Sex::Female),
            ..hotline("hotline-7/0", "Yuliya", "Tokayeva", date(1988, 9, 4))
        },
        hotline("hotline-7/1", "Sasha", "Tokayev", date(2012, 11, 3)),
        hotline("hotline-7/2", "Maria", "Tokaeva", date(2015, 2, 20)),
        // Another family in the same town, with a common surname.
        LinkRecord {
            birth_date: Some(date(1979, 1, 2)),
            household_phones: vec!["+77779876543".into()],
            ..person("web-2/0", "web-2", "Ольга", "Иванова")
        },
    ]
}

#[test]
fn one_family_written_twice_is_one_household_of_three_people() {
    let mut records = family_twice();
    // Enough unrelated records for EM and the random-pair u to have a population.
    records.extend(generated(400, 11).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let clusters: std::collections::HashMap<&str, (&str, &str)> = linkage
        .cluster_ids()
        .map(|(record, person, household)| (record, (person, household)))
        .collect();
    for (web, hotline) in [
        ("web-1/0", "hotline-7/0"),
        ("web-1/1", "hotline-7/1"),
        ("web-1/2", "hotline-7/2"),
    ] {
        assert_eq!(
            clusters[web].0, clusters[hotline].0,
            "{web} and {hotline} are one person"
        );
    }
    assert_ne!(
        clusters["web-1/0"].0, clusters["web-1/1"].0,
        "mother and son stay two people"
    );
    let households: std::collections::HashSet<&str> = [
        "web-1/0",
        "web-1/1",
        "web-1/2",
        "hotline-7/0",
        "hotline-7/1",
        "hotline-7/2",
    ]
    .iter()
    .map(|r| clusters[r].1)
    .collect();
    assert_eq!(households.len(), 1, "one household");
    assert_ne!(clusters["web-2/0"].1, clusters["web-1/0"].1);

    // The explanation a case officer reads.
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let why = linkage.explain(at("web-1/0"), at("hotline-7/0"));
    let level = |f: &str| why.fields.iter().find(|w| w.field.name() == f).unwrap();
    assert_eq!(level("surname").level, "exact", "Токаева = Tokayeva");
    assert_eq!(level("given_name").level, "exact", "Юлия = Yuliya");
    assert_eq!(level("birth_date").level, "day_month_swapped");
    assert!(level("birth_date").weight > 0.0);
    assert_eq!(level("household").level, "same");
    assert_eq!(level("patronymic").level, "missing");
    assert!(why.match_probability >= 0.95, "{why:?}");
    let sasha = linkage.explain(at("web-1/1"), at("hotline-7/1"));
    assert_eq!(
        sasha.fields[1].level, "same_name_group",
        "Sasha is Александр"
    );
    let pair = linkage
        .pairs
        .iter()
        .find(|p| {
            (p.a, p.b) == (at("hotline-7/0"), at("web-1/0"))
                || (p.a, p.b) == (at("web-1/0"), at("hotline-7/0"))
        })
        .unwrap();
    assert_eq!(pair.band, Band::AutoMerge);
    assert!(pair.same_person);
}

#[test]
fn a_chain_of_weak_links_does_not_merge_father_and_son() {
    // Father and son share name and phone; a third record has the name and phone but no date.
    let base = |id: &str, group: &str| LinkRecord {
        phones: vec!["+77011112233".into()],
        sex: Some(Sex::Male),
        ..person(id, group, "Иван", "Иванов")
    };
    let mut records = vec![
        LinkRecord {
            birth_date: Some(date(1965, 3, 1)),
            ..base("a", "r1")
        },
        LinkRecord {
            birth_date: Some(date(1995, 7, 12)),
            ..base("b", "r2")
        },
        base("c", "r3"),
    ];
    records.extend(generated(2_000, 3).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let person =
        |id: &str| linkage.person[linkage.record_ids.iter().position(|r| r == id).unwrap()];
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    assert_ne!(
        person("a"),
        person("b"),
        "father and son are two people: {:?}",
        linkage.explain(at("a"), at("b"))
    );
    // The undated record may join one of them, never both: that is the point.
    assert!(person("c") != person("a") || person("c") != person("b"));
}

/// Two brothers of one family in two requests (one phone, surname, patronymic and town; their
/// mother listed in both): everything a household shares agrees, only given name and birth
/// date tell them apart. The demo's review queue showed such a pair as "100 %".
#[test]
fn brothers_sharing_everything_but_name_and_birth_date_are_shown_well_below_review() {
    let member = |id: &str, group: &str, given: &str, surname: &str, born, sex| LinkRecord {
        birth_date: Some(born),
        sex: Some(sex),
        household_phones: vec!["+7 701 555 12 34".into()],
        locality: Some("Алматы".into()),
        ..person(id, group, given, surname)
    };
    let son = |id: &str, group: &str, given: &str, born| LinkRecord {
        patronymic: Some("Серикович".into()),
        ..member(id, group, given, "Ахметов", born, Sex::Male)
    };
    let mother = |id: &str, group: &str| LinkRecord {
        phones: vec!["87015551234".into()],
        ..member(
            id,
            group,
            "Айгуль",
            "Ахметова",
            date(1984, 6, 1),
            Sex::Female,
        )
    };
    let mut records = vec![
        mother("web-1/0", "web-1"),
        son("web-1/1", "web-1", "Ерлан", date(2011, 4, 2)),
        mother("web-2/0", "web-2"),
        son("web-2/1", "web-2", "Ержан", date(2015, 9, 9)),
    ];
    records.extend(generated(1_000, 13).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let brothers = linkage.explain(at("web-1/1"), at("web-2/1"));
    assert!(
        brothers.match_probability <= 0.2,
        "brothers shown at {:.3}: {brothers:?}",
        brothers.match_probability
    );
    assert!(brothers.household_bounded);
    assert_eq!(
        brothers.doubts[..2],
        [
            evac_link::Doubt::SameHousehold,
            evac_link::Doubt::BirthDatesDiffer
        ]
    );
    let mother = linkage.explain(at("web-1/0"), at("web-2/0"));
    assert!(
        mother.match_probability >= 0.99,
        "the mother written twice is still one person: {mother:?}"
    );
    assert_eq!(
        linkage.person[at("web-1/0") as usize],
        linkage.person[at("web-2/0") as usize]
    );
}

/// Two sisters of one family in two requests, close in age: one known by an age, the other
/// by a date and with no sex stated (her patronymic, Қайратқызы, states it). They share the
/// surname, the patronymic, the phone and their mother; only the given name tells them apart.
/// The demo's review queue showed such a pair at 0.73: sisters share a surname and a father's
/// name as a matter of course, an age that fits is common between siblings, and a duplicate
/// whose given name is another name altogether is rare.
#[test]
fn sisters_known_by_an_age_are_told_apart_by_their_given_names() {
    let member = |id: &str, group: &str, given: &str, surname: &str| LinkRecord {
        household_phones: vec!["+7 701 555 98 76".into()],
        locality: Some("Алматы".into()),
        ..person(id, group, given, surname)
    };
    let mother = |id: &str, group: &str| LinkRecord {
        birth_date: Some(date(1981, 2, 14)),
        sex: Some(Sex::Female),
        phones: vec!["87015559876".into()],
        ..member(id, group, "Гүлнар", "Серікбаева")
    };
    let daughter = |id: &str, group: &str, given: &str| LinkRecord {
        patronymic: Some("Қайратқызы".into()),
        ..member(id, group, given, "Серікбаева")
    };
    let mut records = vec![
        mother("hotline-1/0", "hotline-1"),
        LinkRecord {
            birth_year_range: Some((2008, 2009)),
            sex: Some(Sex::Female),
            ..daughter("hotline-1/1", "hotline-1", "Мәдина")
        },
        mother("web-2/0", "web-2"),
        LinkRecord {
            birth_date: Some(date(2008, 12, 3)),
            ..daughter("web-2/1", "web-2", "Аружан")
        },
        LinkRecord {
            birth_date: Some(date(2013, 5, 20)),
            sex: Some(Sex::Male),
            patronymic: Some("Қайратұлы".into()),
            ..member("web-2/2", "web-2", "Ерлан", "Серікбаев")
        },
    ];
    records.extend(generated(1_000, 13).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let sisters = linkage.explain(at("hotline-1/1"), at("web-2/1"));
    assert!(
        sisters.match_probability < 0.5,
        "sisters shown at {:.3}: {sisters:?}",
        sisters.match_probability
    );
    assert!(sisters.household_bounded, "{sisters:?}");
    assert_ne!(
        linkage.person[at("hotline-1/1") as usize],
        linkage.person[at("web-2/1") as usize]
    );
    assert_eq!(
        linkage.person[at("hotline-1/0") as usize],
        linkage.person[at("web-2/0") as usize],
        "the mother written twice is one person"
    );
}

/// Issue 29, item 2: FEBRL's lists replace birth dates, and a copy a generation away from its
/// original (one document number, one name, one address) was parted as a parent and a child;
/// 91 of FEBRL 4's missed pairs were such. Where document numbers are personal (no two
/// people of one party share one), a generation between two records of one number and one
/// name is a date typed wrong; where family passports list a mother and her namesake daughter
/// under one number, it still parts them.
#[test]
fn a_generation_between_records_of_one_document_parts_them_only_where_documents_are_shared() {
    let anna = |id: &str, group: &str, born| LinkRecord {
        birth_date: Some(born),
        sex: Some(Sex::Female),
        document_number: Some("P4417823".into()),
        address: Some("12 via Roma".into()),
        locality: Some("Torino".into()),
        ..person(id, group, "Anna", "Rossi")
    };
    let pair = vec![
        anna("listed", "r1", date(1985, 3, 7)),
        anna("digits-swapped", "r2", date(1958, 3, 7)),
    ];
    let (crisis, _) = generated(1_000, 13);
    let one_person = |records: Vec<LinkRecord>| {
        let linkage = link(records, &Settings::default()).unwrap();
        let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap();
        (
            linkage.model.documents() != Documents::Family,
            linkage.person[at("listed")] == linkage.person[at("digits-swapped")],
        )
    };
    let mut personal = pair.clone();
    personal.extend(crisis.clone());
    assert_eq!(one_person(personal), (true, true));

    // Forty families whose mother and child share the mother's passport number.
    let mut shared = pair;
    shared.extend(crisis);
    for family in 0..40 {
        let member = |role: &str, given: &str, born| LinkRecord {
            birth_date: Some(born),
            document_number: Some(format!("F{family:07}")),
            ..person(
                &format!("family-{family}/{role}"),
                &format!("family-{family}"),
                given,
                "Bianchi",
            )
        };
        shared.push(member("mother", "Giulia", date(1980, 1, 1 + family % 28)));
        shared.push(member("child", "Marco", date(2012, 2, 1 + family % 28)));
    }
    assert_eq!(one_person(shared), (false, false));
}

/// A register's rows (one person each, no parties) from lists merged by hand: the second copy
/// of a person has a given name and a birth date replaced, the same number and address. 25 of
/// FEBRL 4's missed pairs were such: in a register one number keeps them one person. Where a
/// file has parties, a relative's number may be entered on a row (a son on his father's
/// passport, a number copied onto a sister's row): their own names and dates keep them apart.
#[test]
fn in_a_register_one_document_number_keeps_two_records_one_person() {
    // No records at all (a crisis's first relink, on an empty store) is no register.
    let nothing = link(Vec::new(), &Settings::default()).unwrap();
    assert_ne!(nothing.model.documents(), Documents::Decisive);
    let row = |id: &str, given: &str, born, document: &str| LinkRecord {
        record_id: id.into(),
        given_names: Some(given.into()),
        surname: Some("Quast".into()),
        birth_date: Some(born),
        document_number: Some(document.into()),
        address: Some("16 beagle street".into()),
        locality: Some("east ryde".into()),
        postcode: Some("6210".into()),
        ..LinkRecord::default()
    };
    let mut register = vec![
        row("listed", "jade", date(1939, 1, 21), "5098690"),
        row("merged-copy", "lkue", date(1976, 3, 28), "5098690"),
        // A year replaced and the address too: the same names and number, a date a
        // generation off, another street, town and postcode.
        LinkRecord {
            surname: Some("Browne".into()),
            address: Some("7 longstaff street".into()),
            locality: Some("graoville".into()),
            ..row("sarah", "sarah", date(1930, 7, 23), "2530650")
        },
        LinkRecord {
            surname: Some("Browne".into()),
            address: Some("16 kent street".into()),
            locality: Some("loftus".into()),
            postcode: Some("4171".into()),
            ..row("sarah-copy", "sarah", date(1997, 11, 8), "2530650")
        },
    ];
    // Others, each listed twice as such lists copy people (a typo in the given name; one copy
    // in ten with its given name replaced, one in ten with its birth date), from which the
    // model learns what agrees between copies.
    let streets = ["oak", "elm", "ash", "fir", "yew", "bay", "gum"];
    let givens = [
        "anna", "marco", "lucy", "thomas", "giulia", "pietro", "emma", "liam",
    ];
    for i in 0..1_500u32 {
        let given = givens[i as usize % givens.len()];
        let born = date(
            1930 + (i % 70) as i16,
            1 + (i % 12) as i8,
            1 + (i / 7 % 28) as i8,
        );
        let copy_given = match i % 10 {
            0 => givens[(i as usize + 3) % givens.len()].to_string(),
            _ => format!("{given}x"),
        };
        let copy_born = match i % 10 {
            5 => date(1930 + ((i + 31) % 70) as i16, 1 + (i % 12) as i8, 2),
            _ => born,
        };
        for (copy, given, born) in [
            ("", given.to_string(), born),
            ("-copy", copy_given, copy_born),
        ] {
            register.push(LinkRecord {
                record_id: format!("other-{i}{copy}"),
                given_names: Some(given),
                surname: Some(format!("surname{i}")),
                birth_date: Some(born),
                document_number: Some(format!("{}", 1_000_000 + i * 7_919)),
                address: Some(format!("{} {} street", i % 90, streets[i as usize % 7])),
                locality: Some(format!("town{}", i % 400)),
                postcode: Some(format!("{}", 2000 + i % 700)),
                ..LinkRecord::default()
            });
        }
    }
    let linkage = link(register, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap();
    assert_eq!(linkage.model.documents(), Documents::Decisive);
    // Its number and names against a date and an address that both differ: near certain
    // (a generation gap weighed with its fixed tiny m showed it below one half).
    let sarah = linkage.explain(at("sarah") as u32, at("sarah-copy") as u32);
    assert!(sarah.match_probability >= 0.9, "{sarah:?}");
    assert_eq!(
        linkage.person[at("listed")],
        linkage.person[at("merged-copy")],
        "{:?}",
        linkage.explain(at("listed") as u32, at("merged-copy") as u32)
    );

    // evac's own crisis: parties whose members each have a number of their own. A son still
    // travels on his father's passport now and then, entered in another request: a file of
    // parties is never a register, and the two stay two people.
    let (mut crisis, _) = generated(1_000, 13);
    let member = |id: &str, given: &str, born| LinkRecord {
        birth_date: Some(born),
        sex: Some(Sex::Male),
        document_number: Some("N7001234".into()),
        household_phones: vec!["8 701 555 12 34".into()],
        ..person(id, id, given, "Serikbayev")
    };
    crisis.push(member("father", "Erlan", date(1970, 4, 2)));
    crisis.push(member("son", "Arman", date(2005, 9, 9)));
    let linkage = link(crisis, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap();
    assert_eq!(linkage.model.documents(), Documents::Personal);
    assert_ne!(
        linkage.person[at("father")],
        linkage.person[at("son")],
        "{:?}",
        linkage.explain(at("father") as u32, at("son") as u32)
    );

    // A crisis whose parties show a number copied onto a sister's row now and then.
    let (mut crisis, _) = generated(1_000, 13);
    let sister = |id: &str, group: &str, given: &str, born, document: &str| LinkRecord {
        birth_date: Some(born),
        sex: Some(Sex::Female),
        document_number: Some(document.into()),
        address: Some("12 via Roma".into()),
        locality: Some("Torino".into()),
        ..person(id, group, given, "Rossi")
    };
    for family in 0..3 {
        let number = format!("P{:07}", 4_400_000 + family);
        let group = format!("copied-{family}");
        crisis.push(sister(
            &format!("{group}/anna"),
            &group,
            "Anna",
            date(1985, 3, 7),
            &number,
        ));
        crisis.push(sister(
            &format!("{group}/maria"),
            &group,
            "Maria",
            date(1990, 6, 2),
            &number,
        ));
    }
    crisis.push(sister(
        "alone/anna",
        "alone",
        "Anna",
        date(1985, 3, 7),
        "P4400000",
    ));
    let linkage = link(crisis, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap();
    assert_eq!(linkage.model.documents(), Documents::Personal);
    assert_eq!(
        linkage.person[at("copied-0/anna")],
        linkage.person[at("alone/anna")]
    );
    assert_ne!(
        linkage.person[at("copied-0/maria")],
        linkage.person[at("alone/anna")]
    );
}

/// On the demo's crisis (2,000 requests), what the review queue shows can be trusted: no two
/// relatives (one household, two people) are shown at one half or more (before the household
/// question 48 were, some at "100 %"; before relatives were weighed against relatives of
/// their own generation and sex, sisters known by an age were shown at 0.73), and pairs shown
/// at 0.99 or more are the same person at least 99 % of the time.
#[test]
fn shown_probabilities_are_honest_on_the_demo_crisis() {
    let (records, truth) = generated(2_000, 2022);
    let linkage = link(records, &Settings::default()).unwrap();
    let true_of = |i: u32| truth[&linkage.record_ids[i as usize]];
    let relatives: Vec<String> = linkage
        .pairs
        .iter()
        .filter(|p| {
            let ((pa, ha), (pb, hb)) = (true_of(p.a), true_of(p.b));
            ha == hb && pa != pb && p.match_probability >= 0.5
        })
        .map(|p| {
            let why = linkage.explain(p.a, p.b);
            let levels: Vec<String> = why
                .fields
                .iter()
                .filter(|f| f.level != "missing")
                .map(|f| format!("{}={}", f.field.name(), f.level))
                .collect();
            format!(
                "{} ~ {} at {:.3} ({})",
                linkage.record_ids[p.a as usize],
                linkage.record_ids[p.b as usize],
                p.match_probability,
                levels.join(" ")
            )
        })
        .collect();
    assert!(
        relatives.is_empty(),
        "relatives shown as one person: {relatives:?}"
    );
    let bands = evac_link::evaluate::reliability(
        linkage
            .pairs
            .iter()
            .map(|p| (p.match_probability, true_of(p.a).0 == true_of(p.b).0)),
    );
    let sure: Vec<_> = bands.iter().filter(|b| b.probability_min >= 0.99).collect();
    let (pairs, true_pairs) = sure
        .iter()
        .fold((0, 0), |(n, t), b| (n + b.pairs, t + b.true_pairs));
    assert!(pairs > 100, "the crisis has duplicates: {bands:?}");
    assert!(
        true_pairs as f64 >= 0.99 * pairs as f64,
        "{true_pairs} of {pairs} pairs shown at 0.99 or more are one person: {bands:?}"
    );
}

/// Names go together: where Белова is mostly Елена and Smith mostly John, two people who share
/// both names are less telling than the two weights added up. The association is counted as
/// the brute force over every pair of records born two years or more apart counts it (pairs
/// born closer may be one person written twice, whose names agree because they are one);
/// where every surname goes with every given name alike, it is 1.
#[test]
fn name_association_is_what_every_pair_of_records_born_apart_shows() {
    let people = |names: &[(&str, &str, i16)]| -> Vec<Prepared> {
        names
            .iter()
            .enumerate()
            .map(|(i, &(given, surname, year))| {
                Prepared::new(&LinkRecord {
                    birth_year_range: Some((year, year)),
                    ..person(&i.to_string(), &i.to_string(), given, surname)
                })
            })
            .collect()
    };
    let brute_force = |records: &[Prepared]| {
        let (mut both, mut surname, mut given, mut pairs) = (0.0, 0.0, 0.0, 0.0);
        for (i, a) in records.iter().enumerate() {
            for b in &records[i + 1..] {
                let (ya, yb) = (a.birth_year_range.unwrap().0, b.birth_year_range.unwrap().0);
                if (ya - yb).abs() < 2 {
                    continue;
                }
                let s = a.surname[0].key == b.surname[0].key;
                let g = a.given[0].key == b.given[0].key;
                both += f64::from(u8::from(s && g));
                surname += f64::from(u8::from(s));
                given += f64::from(u8::from(g));
                pairs += 1.0;
            }
        }
        // As many namesake pairs again as the model adds to both sides (10).
        let independent = surname * given / pairs;
        (both + 10.0) / (independent + 10.0)
    };
    let mut together = Vec::new();
    for i in 0..60 {
        let (given, surname) = match i % 3 {
            0 => (["Елена", "Анна"][i % 2], ["Белова", "Иванова"][i / 3 % 2]),
            1 => (["John", "Peter"][i % 2], ["Smith", "Brown"][i / 3 % 2]),
            _ => (
                ["Айгерим", "Дана"][i % 2],
                ["Оспанова", "Нурланова"][i / 3 % 2],
            ),
        };
        // Years from 1990 to 2002, some of them a year apart, some the same.
        together.push((given, surname, 1990 + (i * 7 % 13) as i16));
    }
    // Each person written twice (the same names, the same year): no stronger association.
    let twice: Vec<_> = together.iter().chain(&together).copied().collect();
    let records = people(&twice);
    let expected = brute_force(&records);
    assert!(expected > 2.0, "the names go together: {expected}");
    assert!((name_association(&records) - expected).abs() < 1e-9);
    let mut apart = Vec::new();
    for (i, surname) in ["Белова", "Smith", "Оспанова"].into_iter().enumerate() {
        for (j, given) in ["Елена", "John", "Айгерим", "Дана"].into_iter().enumerate()
        {
            for year in [1980, 1990, 2000] {
                apart.push((given, surname, year + (i * 4 + j) as i16 % 2));
            }
        }
    }
    let records = people(&apart);
    let independent = brute_force(&records);
    assert!((name_association(&records) - independent.max(1.0)).abs() < 1e-9);
    assert!((independent - 1.0).abs() < 0.2, "{independent}");
}

/// Two strangers of one name: the given name weighs less beside a surname that agrees (by the
/// file's name association), and the sex the given name already says weighs nothing; the
/// explanation's weights add up to what the pair is scored at.
#[test]
fn namesakes_are_weighed_as_names_go_together() {
    let (records, _) = generated(2_000, 2022);
    let linkage = link(records, &Settings::default()).unwrap();
    let association = linkage.model.name_association;
    assert!(
        association > 1.5,
        "the generator's names go together: {association}"
    );
    let field = |why: &evac_link::Score, name: &str| {
        why.fields
            .iter()
            .find(|f| f.field.name() == name)
            .map(|f| (f.level, f.weight))
            .unwrap()
    };
    // Given-name weights by name key: beside a surname that agrees, and beside one that
    // differs.
    let mut namesakes: Vec<(Box<str>, f64)> = Vec::new();
    let mut given_alone: std::collections::HashMap<Box<str>, f64> = Default::default();
    for p in &linkage.pairs {
        let why = linkage.explain(p.a, p.b);
        let (given_level, given_weight) = field(&why, "given_name");
        let (surname_level, _) = field(&why, "surname");
        let (sex_level, sex_weight) = field(&why, "sex");
        if given_level == "exact" && sex_level == "same" {
            assert_eq!(sex_weight, 0.0, "{why:?}");
        }
        let given_key = linkage.prepared[p.a as usize].given[0].key.clone();
        let one_given = |i: u32| linkage.prepared[i as usize].given.len() == 1;
        if given_level == "exact" && !why.names_swapped && one_given(p.a) && one_given(p.b) {
            match surname_level {
                "exact" => namesakes.push((given_key, given_weight)),
                "different" => {
                    given_alone.insert(given_key, given_weight);
                }
                _ => {}
            }
        }
        if !why.household_bounded {
            let total: f64 =
                why.fields.iter().map(|f| f.weight).sum::<f64>() + linkage.model.prior_weight();
            assert!((total - why.match_weight).abs() < 1e-9, "{why:?}");
        }
    }
    // The same given name, with the surname agreeing or not: the difference is the association.
    let mut compared = 0;
    for (key, weight) in &namesakes {
        if let Some(alone) = given_alone.get(key) {
            assert!(
                (alone - weight - association.log2()).abs() < 1e-9,
                "{key}: {weight} beside the surname, {alone} without"
            );
            compared += 1;
        }
    }
    assert!(compared > 10, "{compared} names compared");
}

/// The review page says what is really in doubt: an age against a date is "only an age", not
/// "birth dates nearly agree (a typo?)" (the demo's queue said the latter for 35 pairs).
#[test]
fn an_age_against_a_date_is_doubted_as_only_an_age() {
    let dated = LinkRecord {
        birth_date: Some(date(1978, 7, 9)),
        ..person("a", "r1", "Sabine", "Schmidt")
    };
    let aged = LinkRecord {
        birth_year_range: Some((1977, 1978)),
        ..person("b", "r2", "Sabine", "Schmidt")
    };
    let mut records = vec![dated, aged];
    records.extend(generated(200, 8).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let why = linkage.explain(at("a"), at("b"));
    assert!(why.doubts.contains(&evac_link::Doubt::OnlyAnAge), "{why:?}");
    assert!(
        !why.doubts
            .contains(&evac_link::Doubt::BirthDatesNearlyAgree)
    );
}

/// Issue 29, item 2: a list's row with no readable birth date met its copy through no key
/// (every name key needs a birth year), so FEBRL's undated duplicates were never compared.
/// A name with the other name's initial and the postcode now brings them together; two dated
/// namesakes of one postcode are still left to their dates.
#[test]
fn an_undated_row_meets_its_copy_through_its_name_and_postcode() {
    let listed = |id: &str, group: &str, given: &str, born: Option<jiff::civil::Date>| LinkRecord {
        birth_date: born,
        postcode: Some("4560".into()),
        locality: Some("kinglake west".into()),
        address: Some("12 grayson street".into()),
        ..person(id, group, given, "Burford")
    };
    let mut records = vec![
        listed("undated", "r1", "Brooke", None),
        listed("copy", "r2", "Brooe", None),
        listed("elder", "r3", "Anna", Some(date(1950, 3, 1))),
        listed("younger", "r4", "Anna", Some(date(1990, 6, 2))),
    ];
    records.extend(generated(200, 8).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let at = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let pair = |a: &str, b: &str| {
        let (a, b) = (at(a).min(at(b)), at(a).max(at(b)));
        linkage.pairs.iter().find(|p| (p.a, p.b) == (a, b))
    };
    let found = pair("undated", "copy").expect("the undated copy is compared");
    assert!(found.match_probability >= 0.5, "{found:?}");
    let (elder, younger) = (
        at("elder").min(at("younger")),
        at("elder").max(at("younger")),
    );
    assert!(
        !linkage
            .candidate_pairs
            .iter()
            .any(|p| (p.a, p.b) == (elder, younger)),
        "dated namesakes are not proposed for their postcode"
    );
}

#[test]
fn two_different_checked_documents_are_two_people() {
    let twin = |id: &str, group: &str, doc: &str| LinkRecord {
        birth_date: Some(date(2010, 5, 5)),
        document_number: Some(doc.into()),
        household_phones: vec!["+77012223344".into()],
        ..person(id, group, "Анна", "Петрова")
    };
    // IINs carry a check character: two that pass it and differ are two people.
    let mut records = vec![
        twin("x", "r1", "100505500128"),
        twin("y", "r2", "900101300017"),
    ];
    records.extend(generated(400, 5).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let i = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap();
    assert_ne!(linkage.person[i("x")], linkage.person[i("y")]);
    assert!(linkage.explain(i("x") as u32, i("y") as u32).cannot_link);
}

#[test]
fn a_second_passport_weighs_against_a_pair_but_does_not_part_it() {
    // Passports carry no check character: a person may hold two, and a number may be mistyped
    // in more than one place. Everything else agreeing, the pair is still shown.
    let one = |id: &str, group: &str, doc: &str| LinkRecord {
        birth_date: Some(date(1984, 3, 17)),
        document_number: Some(doc.into()),
        phones: vec!["+77015556677".into()],
        ..person(id, group, "Гульнара", "Сейткалиева")
    };
    let mut records = vec![one("x", "r1", "N11112222"), one("y", "r2", "N93334455")];
    records.extend(generated(400, 5).0);
    let linkage = link(records, &Settings::default()).unwrap();
    let i = |id: &str| linkage.record_ids.iter().position(|r| r == id).unwrap() as u32;
    let score = linkage.explain(i("x"), i("y"));
    assert!(!score.cannot_link);
    let document = score
        .fields
        .iter()
        .find(|f| f.field.name() == "document")
        .expect("the document is compared");
    assert!(document.weight < 0.0, "{document:?}");
    assert!(
        linkage
            .pairs
            .iter()
            .any(|p| (p.a, p.b) == (i("x").min(i("y")), i("x").max(i("y")))),
        "shown at least for review: {score:?}"
    );
}

#[test]
fn duplicate_record_ids_are_refused() {
    let records = vec![person("same", "g", "A", "B"), person("same", "h", "C", "D")];
    let error = link(records, &Settings::default()).unwrap_err();
    assert!(error.to_string().contains("'same'"), "{error}");
}

#[test]
fn a_batch_added_in_pages_links_as_one_call_does() {
    // A relink hands the store's records over a page at a time; the linkage must be the one
    // `link` finds on the same records (record order aside: both are read by record id here).
    let (records, _) = generated(800, 5);
    let whole = link(records.clone(), &Settings::default()).unwrap();
    let mut sorted = records;
    sorted.sort_by(|a, b| a.record_id.cmp(&b.record_id));
    let mut batch = evac_link::Batch::default();
    for page in sorted.chunks(97) {
        batch.add(page.to_vec());
    }
    assert_eq!(batch.len(), whole.record_ids.len());
    let paged = batch.link(&Settings::default()).unwrap();
    assert_eq!(paged.record_ids, whole.record_ids);
    assert_eq!(paged.person, whole.person);
    assert_eq!(paged.household, whole.household);
    assert_eq!(paged.pairs, whole.pairs);
    assert!(
        paged.pairs.iter().any(|p| p.same_person),
        "the sample has duplicates to find"
    );
    // Group names are the requests', interned once each, for the online index.
    let groups: std::collections::HashSet<&String> = paged.group_names.iter().collect();
    assert_eq!(groups.len(), paged.group_names.len());
    assert_eq!(paged.group_names.len(), whole.group_names.len());

    let mut twice = evac_link::Batch::default();
    twice.add(vec![person("same", "g", "A", "B")]);
    twice.add(vec![person("same", "h", "C", "D")]);
    let error = twice.link(&Settings::default()).unwrap_err();
    assert!(error.to_string().contains("'same'"), "{error}");
}

#[test]
fn generated_crisis_links_with_high_pair_f1() {
    let (records, truth) = generated(3_000, 42);
    let linkage = link(records, &Settings::default()).unwrap();
    let true_person: Vec<u64> = linkage.record_ids.iter().map(|id| truth[id].0).collect();
    let metrics = pair_metrics(&linkage.person, &true_person);
    // The benchmark holds the 0.98 goal at scale; a small sample must not be far off.
    assert!(metrics.f1 >= 0.97, "{metrics:?}");
    assert!(metrics.precision >= 0.98, "{metrics:?}");
}

#[test]
fn a_new_record_is_matched_online_with_its_explanation() {
    let (records, _) = generated(600, 9);
    let mut records_with_family = family_twice();
    let late_copy = records_with_family.remove(3); // Yuliya, by hotline, arrives later
    records_with_family.extend(records);
    let linkage = link(records_with_family, &Settings::default()).unwrap();
    let record_ids = linkage.record_ids.clone();
    let index = Index::from_linkage(linkage);
    let found = index.matches(&Prepared::new(&late_copy), Some("hotline-7"), &[], 3);
    let best = found.first().expect("a match");
    assert_eq!(record_ids[best.index as usize], "web-1/0");
    assert!(best.score.match_probability >= 0.95);
    assert!(
        best.score
            .fields
            .iter()
            .any(|f| f.field.name() == "given_name" && f.weight > 0.0)
    );
}

/// Generated records with each record's true (person, household).
fn generated(
    requests: usize,
    seed: u64,
) -> (
    Vec<LinkRecord>,
    std::collections::HashMap<String, (u64, u64)>,
) {
    let mut records = Vec::new();
    let mut truth = std::collections::HashMap::new();
    for g in generate(Scenario::january_2022(requests, seed)) {
        let received = g.received_at.date_utc();
        for (r, t) in records_of_draft(&g.record_id, &g.draft, received)
            .into_iter()
            .zip(&g.truth)
        {
            truth.insert(r.record_id.clone(), (t.person_id, t.household_id));
            records.push(r);
        }
    }
    (records, truth)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// The same records in any order give the same persons, households and pairs.
    #[test]
    fn results_do_not_depend_on_record_order(seed in 0u64..1_000) {
        let (records, _) = generated(250, 77);
        let reference = link(records.clone(), &Settings::default()).unwrap();
        let mut shuffled = records;
        // A seeded Fisher–Yates shuffle driven by proptest's seed.
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let other = link(shuffled, &Settings::default()).unwrap();
        let ids = |l: &evac_link::Linkage| l.cluster_ids().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect::<Vec<_>>();
        prop_assert_eq!(ids(&reference), ids(&other));
        let pairs = |l: &evac_link::Linkage| l.pairs.iter().map(|p| (p.a, p.b, p.match_weight.to_bits(), p.band)).collect::<Vec<_>>();
        prop_assert_eq!(pairs(&reference), pairs(&other));
    }
}
