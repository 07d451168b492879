//! Boundary tests of request validation: compact drafts in, typed requests or field errors out.

use evac_model::*;

fn ctx() -> ValidationContext {
    ValidationContext {
        now: "2022-01-06T10:00:00Z".parse().unwrap(),
        default_region: Some("KZ".parse().unwrap()),
    }
}

fn person(surname: &str, given: &str, birth: &str, relation: &str) -> PersonDraft {
    PersonDraft {
        surname: Some(surname.into()),
        given_names: Some(given.into()),
        birth_date: Some(birth.into()),
        relation: Some(relation.into()),
        ..Default::default()
    }
}

fn draft(party: Vec<PersonDraft>) -> RequestDraft {
    RequestDraft {
        location: LocationDraft {
            text: Some("Almaty, Hotel Kazakhstan".into()),
            ..Default::default()
        },
        submitter: SubmitterDraft {
            phones: vec!["8 701 123 45 67".into()],
            ..Default::default()
        },
        party,
        consent: Some(true),
        ..Default::default()
    }
}

fn errors(d: &RequestDraft) -> Vec<String> {
    d.validate(&ctx())
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_family_request_validates_and_keeps_raw_text() {
    let mut d = draft(vec![
        person("Токаева", "Алия", "1985-03-02", "self"),
        person("Токаев", "Нұрлан", "2012-07-30", "child"),
    ]);
    d.submitter.phones.push("+7 (701) 123-45-67".into()); // the same number twice is kept once
    let req = d.validate(&ctx()).unwrap();
    assert_eq!(req.submitter.phones.len(), 1);
    assert_eq!(req.submitter.phones[0].e164.as_str(), "+77011234567");
    assert_eq!(req.submitter.phones[0].raw, "8 701 123 45 67");
    assert_eq!(req.party[1].given_names.as_ref().unwrap().latin, "NURLAN");
    assert_eq!(req.party[0].surname.as_ref().unwrap().as_written, "Токаева");
    let day = ctx().now.date_utc();
    assert!(req.has_minors(day));
    assert!(
        req.unaccompanied_minors(day).is_empty(),
        "the mother travels with her son"
    );
}

#[test]
fn every_invalid_field_is_reported_with_its_path() {
    let mut d = draft(vec![
        person("Rossi", "Marco", "1980-01-01", "self"),
        person("Rossi", "Anna", "1982-13-40", "spouse"),
        person("Rossi", "Luca", "2031-01-01", "son"),
    ]);
    d.submitter.phones = vec!["12".into()];
    d.consent = None;
    d.party[0].citizenship = Some("Italy".into());
    assert_eq!(
        errors(&d),
        vec![
            "submitter.phones[0]: '12' is not a valid phone number for KZ; check the digits or add the country code (+7, +39, ...)",
            "party[0].citizenship: 'Italy' is not an ISO 3166 country code; use two letters such as KZ, RU, IT",
            "party[1].birth_date: '1982-13-40' is not a date; write it as DD.MM.YYYY or YYYY-MM-DD, e.g. 31.05.2012",
            "party[2].birth_date: 2031-01-01 is in the future",
            "party[2].relation: 'son' is not one of: self, spouse, child, parent, sibling, grandparent, grandchild, relative, escort, group_member, other",
            "consent: must be true: evac keeps these personal data only to organise the evacuation",
        ]
    );
}

/// Issue 28, item 7: a household may ask for a country to be taken to, as a code.
#[test]
fn a_destination_is_a_country_code_or_nothing() {
    let mut d = draft(vec![person("Fischer", "Anna", "1980-01-01", "self")]);
    assert_eq!(d.validate(&ctx()).unwrap().destination_country, None);
    d.destination_country = Some(" de".into());
    assert_eq!(
        d.validate(&ctx())
            .unwrap()
            .destination_country
            .map(|c| c.to_string()),
        Some("DE".into())
    );
    d.destination_country = Some("Germany".into());
    assert_eq!(
        errors(&d),
        vec![
            "destination_country: 'Germany' is not an ISO 3166 country code; use two letters such as KZ, RU, IT"
        ]
    );
}

#[test]
fn empty_requests_say_what_is_missing() {
    let d = RequestDraft::default();
    assert_eq!(
        errors(&d),
        vec![
            "location.text: is required; say where you are (city, address or hotel)",
            "party: is empty; list every person who wants to leave, yourself included if you do",
            "submitter.phones: no phone or e-mail given; give at least one so the crisis centre can reach you",
            "consent: must be true: evac keeps these personal data only to organise the evacuation",
        ]
    );
}

#[test]
fn holiday_children_with_a_teacher_are_unaccompanied() {
    let d = draft(vec![
        person("Иванова", "Мария", "1979-05-05", "escort"),
        person("Петров", "Саша", "2010-02-02", "group_member"),
        person("Сидорова", "Катя", "2011-03-03", "group_member"),
    ]);
    let req = d.validate(&ctx()).unwrap();
    let day = ctx().now.date_utc();
    let unaccompanied = req.unaccompanied_minors(day);
    assert_eq!(unaccompanied, vec![req.party[1].id, req.party[2].id]);
}

#[test]
fn a_child_alone_whose_parent_asks_from_home_is_unaccompanied() {
    let mut d = draft(vec![person("Smith", "Emma", "2008-01-07", "child")]);
    d.submitter.name = Some("John Smith".into());
    let req = d.validate(&ctx()).unwrap();
    let day = ctx().now.date_utc();
    assert_eq!(
        req.party[0].age_years(day),
        Some(13),
        "the birthday is tomorrow"
    );
    assert_eq!(req.unaccompanied_minors(day), vec![req.party[0].id]);
}

#[test]
fn stated_ages_count_from_the_day_they_were_given() {
    let birth = Birth::StatedAge {
        years: 17,
        on: "2022-01-06".parse().unwrap(),
    };
    assert_eq!(birth.age_years("2022-06-01".parse().unwrap()), 17);
    assert_eq!(birth.age_years("2023-01-06".parse().unwrap()), 18);
}

/// A draft of `T` with every field that takes text (or a list of texts) set to `long`, as a
/// hostile body would send it: the fields come from the draft's own API schema, so a field
/// added later is covered too.
fn every_field_set_to<T: utoipa::PartialSchema + serde::de::DeserializeOwned>(long: &str) -> T {
    let schema = serde_json::to_value(T::schema()).unwrap();
    let mut body = serde_json::Map::new();
    for (field, property) in schema["properties"].as_object().unwrap() {
        let takes = |kind: &str| {
            property["type"] == kind
                || property["type"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == kind))
        };
        let value = if takes("array") {
            serde_json::json!([long])
        } else if takes("boolean") {
            continue;
        } else {
            serde_json::json!(long)
        };
        body.insert(field.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(body)).unwrap()
}

/// A field's error names the field and says what to do, quoting what was given in part: a
/// value as long as a body may be is never echoed whole (the desk showed a 60,000-character
/// "decision" back, and the API answered it in the problem's JSON); a value short enough to
/// pass the length checks is quoted cut, on one line, without its hidden characters.
#[test]
fn an_error_quotes_a_long_value_in_part() {
    let long = "ж".repeat(60_000);
    // Under every short text's limit, so that the checks that quote it are the ones reached.
    let medium = format!("{}\u{202E}\nж", "ж".repeat(70));
    for given in [&long, &medium] {
        let reasons = reasons_for_every_draft(given);
        for (draft, errors) in &reasons {
            assert!(
                !errors.is_empty(),
                "{draft}: no error for fields of {given:?}"
            );
            for e in errors {
                assert!(
                    !e.reason.contains(&"ж".repeat(QUOTED_CHARS_MAX + 1))
                        && e.reason.chars().count() <= 600
                        && !e.reason.contains(['\n', '\u{202E}']),
                    "{draft}: {} quotes the value whole, over lines or with its hidden characters: {}",
                    e.path,
                    e.reason.chars().take(200).collect::<String>()
                );
            }
        }
        // What is quoted ends in "…", so the reader sees it was cut.
        let decision = &reasons.iter().find(|(d, _)| *d == "decision").unwrap().1[0];
        assert!(
            decision
                .reason
                .starts_with(&format!("'{}…'", "ж".repeat(QUOTED_CHARS_MAX))),
            "{}",
            decision.reason
        );
    }
    assert_eq!(quoted("a\u{202E}b\r\n\tc").to_string(), "'a\u{FFFD}b␍␊␉c'");
}

/// Every draft's field errors with every field set to `given` (but the policy's, whose one
/// field is any TOML text, read by the triage crate).
fn reasons_for_every_draft(given: &str) -> Vec<(&'static str, Vec<FieldError>)> {
    let starts: Timestamp = "2022-01-06T10:00:00Z".parse().unwrap();
    let mut reasons: Vec<(&'static str, Vec<FieldError>)> = vec![
        (
            "transport",
            every_field_set_to::<TransportDraft>(given)
                .validate("00000000-0000-0000-0000-000000000001".parse().unwrap())
                .unwrap_err(),
        ),
        (
            "transport status",
            every_field_set_to::<TransportStatusDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "hub",
            every_field_set_to::<HubDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "route",
            every_field_set_to::<RouteDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "zone",
            every_field_set_to::<ZoneDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "statement",
            every_field_set_to::<StatementDraft>(given)
                .validate(starts)
                .unwrap_err(),
        ),
        (
            "report",
            every_field_set_to::<ReportDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "judgement",
            every_field_set_to::<JudgementDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "person event",
            every_field_set_to::<PersonEventDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "bulk status",
            every_field_set_to::<BulkStatusDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "assignment",
            every_field_set_to::<AssignmentDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "handling",
            every_field_set_to::<HandlingDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "presence",
            every_field_set_to::<PresenceDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "broadcast",
            every_field_set_to::<BroadcastDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "reconfirm",
            every_field_set_to::<ReconfirmDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "user",
            every_field_set_to::<UserDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "plan",
            every_field_set_to::<PlanDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "scan",
            every_field_set_to::<ScanDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "decision",
            every_field_set_to::<DecisionDraft>(given)
                .validate()
                .unwrap_err(),
        ),
        (
            "call",
            every_field_set_to::<CallDraft>(given)
                .validate_in(None)
                .unwrap_err(),
        ),
    ];
    let mut request = draft(vec![PersonDraft {
        birth_date: Some(given.to_string()),
        ..person("Иванов", "Иван", "2012-05-31", "self")
    }]);
    request.submitter.email = Some(given.to_string());
    request.submitter.phones = vec![given.to_string()];
    request.language = Some(given.to_string());
    reasons.push(("request", request.validate(&ctx()).unwrap_err()));
    reasons
}

/// A place refused for what it holds says what to fix, once: it is not also "required" (a
/// walk's over-long location read "shorten it" and "is required" side by side).
#[test]
fn a_refused_place_is_not_also_missing() {
    for text in ["Алматы ".repeat(100), "Almaty\u{202E} hotel".to_string()] {
        let mut d = draft(vec![person("Иванов", "Иван", "2012-05-31", "self")]);
        d.location.text = Some(text.clone());
        let errors = errors(&d);
        let about_place: Vec<&String> = errors
            .iter()
            .filter(|e| e.starts_with("location.text:"))
            .collect();
        assert_eq!(about_place.len(), 1, "{text:?}: {errors:?}");
        assert!(!about_place[0].contains("is required"), "{errors:?}");
    }
}

/// A form whose rows all stood at their first choice sent a family of "myself"s, and intake
/// took it: one who asks at most (a second "self" is a relative, not refused: a retry of a
/// request stored before must replay), the others relatives unless they say who they are (a
/// family's child is not alone), the first line the one who asks when nobody says so.
#[test]
fn a_party_has_one_person_who_asks() {
    let relations = |party: Vec<PersonDraft>| -> Vec<Relation> {
        draft(party)
            .validate(&ctx())
            .unwrap()
            .party
            .iter()
            .map(|p| p.relation)
            .collect()
    };
    let unsaid = |surname: &str, given: &str, birth: &str| PersonDraft {
        relation: None,
        ..person(surname, given, birth, "")
    };
    assert_eq!(
        relations(vec![
            person("Иванова", "Анна", "1980-03-01", "self"),
            person("Иванова", "Мария", "2015-06-01", "self"),
        ]),
        [Relation::Myself, Relation::Relative]
    );
    // A mother asking for her daughter and son-in-law: he is not the one who asks.
    assert_eq!(
        relations(vec![
            person("Петрова", "Ольга", "1990-03-01", "child"),
            unsaid("Петров", "Иван", "1988-06-01"),
        ]),
        [Relation::Child, Relation::Relative]
    );
    assert_eq!(
        relations(vec![
            unsaid("Иванова", "Анна", "1980-03-01"),
            unsaid("Иванова", "Мария", "2015-06-01"),
        ]),
        [Relation::Myself, Relation::Relative]
    );
    assert_eq!(
        relations(vec![
            unsaid("Иванова", "Анна", "1980-03-01"),
            person("Иванова", "Мария", "2015-06-01", "self"),
        ]),
        [Relation::Relative, Relation::Myself]
    );
    assert_eq!(
        relations(vec![person("Иванова", "Анна", "1980-03-01", "child")]),
        [Relation::Child]
    );
}
