//! The pages render in every language with every message translated, and escape what people
//! type.

use super::*;

fn keys(lang: &str) -> Vec<String> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    // Messages of the public side come before the desk's section marker.
    text.lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .filter(|k| !k.is_empty() && !k.starts_with(' ') && !k.contains(' '))
        .collect()
}

/// Every message of a language's file, the desk's section too.
fn all_keys(lang: &str) -> Vec<String> {
    let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with([' ', '#', '.']))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .filter(|k| !k.is_empty() && !k.contains(' '))
        .collect()
}

/// Issue 27, item 8: the whole desk in English and Russian (the Russian desk was half English).
#[test]
fn every_desk_message_is_in_english_and_russian() {
    let (english, russian) = (all_keys("en"), all_keys("ru"));
    assert!(english.len() > 400, "{}", english.len());
    let missing: Vec<&String> = english.iter().filter(|k| !russian.contains(k)).collect();
    assert!(missing.is_empty(), "ru lacks {missing:?}");
    let extra: Vec<&String> = russian.iter().filter(|k| !english.contains(k)).collect();
    assert!(extra.is_empty(), "en lacks {extra:?}");
}

#[test]
fn every_public_message_is_in_every_public_language() {
    let english = keys("en");
    assert!(english.len() > 50);
    for lang in ["ru", "kk", "it"] {
        let theirs = keys(lang);
        let missing: Vec<&String> = english.iter().filter(|k| !theirs.contains(k)).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
    }
}

#[test]
fn the_form_speaks_the_language_chosen_and_escapes_what_was_typed() {
    let values = RequestFormValues {
        location: "<script>alert(1)</script>".into(),
        ..Default::default()
    };
    let html = render(&RequestForm::new(Lang::Ru, values, vec![]));
    assert!(html.contains("Запрос на эвакуацию"));
    assert!(html.contains("<html lang=\"ru\">"));
    assert!(!html.contains("<script>alert"), "typed text is escaped");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    assert_eq!(html.matches("data-person").count(), PARTY_ROWS);
    assert!(
        !html.contains("style=") && !html.contains("onclick"),
        "nothing inline for the CSP"
    );
    let kazakh = render(&RequestForm::new(
        Lang::Kk,
        RequestFormValues::default(),
        vec![],
    ));
    assert!(kazakh.contains("Эвакуацияға өтінім"));
    assert!(
        html.len() < 50_000 && kazakh.len() < 50_000,
        "under 50 KB a page"
    );
}

#[test]
fn plural_rules_follow_the_language() {
    let ru = Tr { lang: Lang::Ru };
    assert_eq!(ru.count("status-people", 2), "2 человека");
    assert_eq!(ru.count("status-people", 5), "5 человек");
    assert_eq!(
        Tr { lang: Lang::En }.count("status-people", 1),
        "One person"
    );
}

#[test]
fn the_language_comes_from_the_switch_then_the_browser_then_english() {
    let offered = &Lang::PUBLIC;
    assert_eq!(
        Lang::negotiate(Some("it"), Some("ru-RU"), offered),
        Lang::It
    );
    assert_eq!(
        Lang::negotiate(None, Some("de-DE,ru;q=0.8,en;q=0.5"), offered),
        Lang::Ru
    );
    assert_eq!(Lang::negotiate(None, Some("kk-KZ"), offered), Lang::Kk);
    assert_eq!(Lang::negotiate(None, None, offered), Lang::En);
    assert_eq!(
        Lang::negotiate(Some("kk"), None, &Lang::DESK),
        Lang::En,
        "the desk has no Kazakh yet"
    );
}

#[test]
fn the_basemap_has_kazakhstan_and_its_neighbours_and_places_fall_where_they_are() {
    let map = basemap();
    let codes: Vec<&str> = map.countries.iter().map(|c| c.code.as_str()).collect();
    for code in ["KAZ", "RUS", "CHN", "KGZ", "UZB"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    let (almaty_x, almaty_y) = map.project(43.24, 76.89).expect("Almaty is on the map");
    let (astana_x, astana_y) = map.project(51.17, 71.43).expect("Astana is on the map");
    assert!(almaty_x > astana_x, "Almaty is east of Astana");
    assert!(almaty_y > astana_y, "and south of it");
    assert_eq!(map.project(48.85, 2.35), None, "Paris is not");
    let (dots, hubs) = overlay(
        &[
            ("Almaty".into(), 43.24, 76.89, 100),
            ("Oral".into(), 51.23, 51.37, 1),
        ],
        &[("ALA".into(), 43.35, 77.04, "closed".into())],
    );
    assert_eq!(dots.len(), 2);
    assert!(dots[0].r.parse::<f64>().unwrap() > dots[1].r.parse::<f64>().unwrap());
    assert_eq!(hubs[0].status, "closed");
    let html = render(&Dashboard {
        t: Tr { lang: Lang::Ru },
        langs: switch(Lang::Ru, &Lang::DESK),
        user: DeskUser {
            name: "a".into(),
            role: "operator".into(),
            pages: DeskPages {
                requests: true,
                ..DeskPages::default()
            },
        },
        requests: 1,
        people: 2,
        by_status: vec![],
        by_place: vec![],
        dots,
        hubs,
        hours: hour_bars(&[("01-05 06h".into(), Some(3)), ("01-05 07h".into(), Some(6))]),
        hours_peak: 6,
        by_class: Some((
            "2022-01-06 08:00".into(),
            vec![ClassLine {
                class: 1,
                name: "life at risk".into(),
                households: 4,
                people: 9,
            }],
        )),
        by_mark: vec![("medical_emergency".into(), 2, "5 человек".into())],
        reviews_waiting: Some(7),
        hub_loads: vec![("NQZ".into(), 146, 390)],
        unreached: 3,
        inbox_waiting: 2,
        inbox_oldest: Some("2022-01-06 07:00".into()),
    });
    assert!(html.contains("id=\"unreached\">3<") && html.contains("id=\"inbox-waiting\">2<"));
    assert!(html.contains("id=\"by-class\"") && html.contains("life at risk"));
    assert!(
        html.contains("class=\"hour\""),
        "the requests-per-hour chart"
    );
    assert!(html.contains("<svg viewBox=\"0 0 1000"));
    assert!(
        html.contains("href=\"/desk/requests?") && !html.contains("href=\"/desk/users?"),
        "the nav shows the pages the role opens and no others"
    );
    assert!(html.contains("class=\"hub closed\""));
    assert!(
        html.contains("mark=medical_emergency")
            && html.contains("id=\"mark-medical_emergency\">2<")
            && html.contains("семей с неотложной медицинской ситуацией"),
        "the counters, in the desk's language"
    );
    assert!(html.contains("id=\"reviews-waiting\">7<"));
}

/// Issue 27, item 5: a country is chosen by its name in the form's language (the form asked
/// for a two-letter code only).
#[test]
fn the_forms_offer_countries_by_name_in_their_language() {
    for lang in Lang::PUBLIC {
        let t = Tr { lang };
        for (code, name) in t.countries() {
            assert!(
                t.has(&format!("country-{code}")) && name != format!("country-{code}"),
                "{code} has no name in {}",
                lang.code()
            );
        }
    }
    let kazakh = render(&RequestForm::new(
        Lang::Kk,
        RequestFormValues::default(),
        vec![],
    ));
    assert!(kazakh.contains("list=\"country-names\""));
    assert!(kazakh.contains("<option value=\"KZ\">Қазақстан</option>"));
    assert!(kazakh.contains("<option value=\"CN\">Қытай</option>"));
}
