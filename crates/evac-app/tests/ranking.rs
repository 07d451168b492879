//! The desk's kept ranking: classes add up to the households, a staff change is ranked at once
//! when ranking is cheap, and the dashboard's call never waits for the first ranking.

mod common;

use evac_model::{Actor, PersonDraft, PersonStatus, RequestDraft, Role, Timestamp};

fn request(place: &str, party: &[(&str, &str, &str)]) -> RequestDraft {
    RequestDraft {
        location: evac_model::LocationDraft {
            text: Some(place.into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        party: party
            .iter()
            .map(|(surname, birth, relation)| PersonDraft {
                surname: Some((*surname).into()),
                birth_date: Some((*birth).into()),
                relation: Some((*relation).into()),
                ..Default::default()
            })
            .collect(),
        submitter: evac_model::SubmitterDraft {
            phones: vec!["8 701 123 45 67".into()],
            ..Default::default()
        },
        consent: Some(true),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_kept_ranking_adds_up_and_follows_a_staff_change() {
    let (app, _dir) = common::fresh_app().await;
    app.add_user(None, "officer1", Role::CaseOfficer, "correct horse battery")
        .await
        .unwrap();
    let officer = app.console_staff("officer1").await.unwrap();
    let at: Timestamp = "2022-01-06T09:00:00Z".parse().unwrap();
    let mut submitted = Vec::new();
    for draft in [
        request("Almaty", &[("Rossi", "1980-02-03", "self")]),
        request(
            "Karaganda",
            &[
                ("Петров", "2010-01-02", "group_member"),
                ("Сидорова", "2011-05-06", "group_member"),
            ],
        ),
        request("Astana", &[("Smith", "1990-01-01", "self")]),
    ] {
        submitted.push(
            app.submit_request_at(&Actor::Public, &draft, None, at)
                .await
                .unwrap(),
        );
    }

    // The dashboard's call on a fresh desk: nothing kept yet, a ranking starts, none awaited.
    let first = app.desk_ranking(&officer, false).await.unwrap();
    assert!(
        first.is_none(),
        "the dashboard does not wait for the first ranking"
    );
    let ranking = app.desk_ranking(&officer, true).await.unwrap().unwrap();
    assert_eq!(ranking.total, 3);
    assert_eq!(
        ranking.by_class.iter().map(|c| c.households).sum::<usize>(),
        3
    );
    assert_eq!(ranking.by_class.iter().map(|c| c.people).sum::<usize>(), 4);
    assert_eq!(
        ranking.head[0].reference,
        submitted[1].reference.to_string(),
        "children alone come first"
    );
    assert!(ranking.by_class.windows(2).all(|w| w[0].class < w[1].class));

    // The tourist in Astana leaves by car: the next view ranks again (ranking is cheap here).
    let stored = app.request(&officer, submitted[2].id).await.unwrap();
    let person = stored.request.body.party[0].id;
    app.change_person(
        &officer,
        submitted[2].id,
        person,
        Some(PersonStatus::Withdrawn),
        "left by car",
        Timestamp::now(),
    )
    .await
    .unwrap();
    let after = app.desk_ranking(&officer, false).await.unwrap().unwrap();
    assert_eq!(
        after.total, 2,
        "the withdrawn household is no longer ranked"
    );
    assert!(
        after
            .head
            .iter()
            .all(|r| r.reference != submitted[2].reference.to_string())
    );
}
