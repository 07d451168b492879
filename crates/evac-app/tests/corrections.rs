//! Corrections of one request when several officers and nodes act at once: on SQLite always,
//! on PostgreSQL when a server is configured (CI always).
//!
//! A correction reads the request's body, changes its part and writes the body back. Two
//! officers correcting two people of one family at the same moment must both be kept: before
//! the store compared the body it replaced with the one the correction was decided on, the
//! later write silently undid the earlier one (issue 27, "concurrent corrections can lose one").

mod common;

use common::Backend;
use evac_app::{App, Staff};
use evac_model::{
    Actor, PersonAddition, PersonCorrection, PersonDraft, PersonStatus, RequestCorrection,
    RequestId, Role,
};

/// A family of four on a fresh database, and two case officers.
async fn family(app: &App) -> (RequestId, Staff, Staff) {
    for name in ["officer1", "officer2"] {
        app.add_user(None, name, Role::CaseOfficer, "correct horse battery")
            .await
            .unwrap();
    }
    let person = |surname: &str, given: &str, birth: &str| PersonDraft {
        surname: Some(surname.into()),
        given_names: Some(given.into()),
        birth_date: Some(birth.into()),
        ..Default::default()
    };
    let draft = evac_model::RequestDraft {
        channel: Some("hotline".into()),
        location: evac_model::LocationDraft {
            text: Some("Almaty, Abay avenue 10".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        situation: Some("stuck at a hotel, the airport is closed".into()),
        submitter: evac_model::SubmitterDraft {
            name: Some("Aigerim Sadykova".into()),
            phones: vec!["+7 701 555 0101".into()],
            ..Default::default()
        },
        party: vec![
            person("Sadykova", "Aigerim", "1985-03-02"),
            person("Sadykov", "Timur", "1983-11-20"),
            person("Sadykova", "Dana", "2012-05-31"),
            person("Sadykov", "Arman", "2015-09-14"),
        ],
        consent: Some(true),
        ..Default::default()
    };
    let ack = app
        .submit_request_at(&Actor::System, &draft, None, common::start())
        .await
        .unwrap();
    (
        ack.id,
        app.console_staff("officer1").await.unwrap(),
        app.console_staff("officer2").await.unwrap(),
    )
}

fn document(number: String) -> PersonCorrection {
    PersonCorrection {
        document_type: Some("passport".into()),
        document_number: Some(number),
        reason: "read from the passport on the phone".into(),
        ..Default::default()
    }
}

/// Two officers on two nodes each correct another person of one family, round after round,
/// while a third correction changes the request's situation: every correction is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_officers_correcting_one_family_at_once_keep_both_corrections() {
    const ROUNDS: usize = 15;
    for backend in Backend::all().await {
        let name = backend.name();
        let (one, two) = (backend.node().await, backend.node().await);
        let (id, officer1, officer2) = family(&one).await;
        let people: Vec<_> = one
            .store()
            .request(id)
            .await
            .unwrap()
            .unwrap()
            .request
            .body
            .party
            .iter()
            .map(|p| p.id)
            .collect();
        for round in 0..ROUNDS {
            let at = common::start().plus_seconds(3_600 + round as i64);
            let situation = RequestCorrection {
                situation: Some(format!("moved to a school, round {round}")),
                reason: "called back".into(),
                ..Default::default()
            };
            let (first, third) = (
                document(format!("N10{round:05}")),
                document(format!("N20{round:05}")),
            );
            let (a, b, c) = tokio::join!(
                one.correct_person(&officer1, id, people[0], &first, at),
                two.correct_person(&officer2, id, people[2], &third, at),
                two.correct_request(&officer2, id, &situation, at),
            );
            for (what, result) in [("first person", a), ("third person", b), ("request", c)] {
                let changed =
                    result.unwrap_or_else(|e| panic!("{name}: round {round}: {what}: {e}"));
                assert!(
                    !changed.is_empty(),
                    "{name}: round {round}: {what} changed nothing"
                );
            }
            let body = one.store().request(id).await.unwrap().unwrap().request.body;
            let number = |i: usize| body.party[i].document.as_ref().map(|d| d.number.clone());
            assert_eq!(
                (number(0), number(2), body.situation.as_str()),
                (
                    Some(format!("N10{round:05}")),
                    Some(format!("N20{round:05}")),
                    format!("moved to a school, round {round}").as_str()
                ),
                "{name}: round {round}: a correction was lost"
            );
        }
        // Each person corrected carries one note per round, the request's others one per
        // round too (the situation's), and nothing else was written.
        let events = one.store().person_events_of_request(id).await.unwrap();
        let notes_of = |p| events.iter().filter(|e| e.person == p).count();
        assert_eq!(notes_of(people[0]), 2 * ROUNDS, "{name}");
        assert_eq!(notes_of(people[1]), ROUNDS, "{name}");
        assert!(
            events
                .iter()
                .all(|e| e.event.to == PersonStatus::Registered),
            "{name}: corrections change no status"
        );
        backend.finish().await;
    }
}

/// A teacher's late pupil is added to the party while another officer corrects the teacher:
/// both are kept, the pupil is registered with a note saying why, and bad input names its
/// field as the body does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_added_while_another_is_corrected_keeps_both() {
    for backend in Backend::all().await {
        let name = backend.name();
        let (one, two) = (backend.node().await, backend.node().await);
        let (id, officer1, officer2) = family(&one).await;
        let first = one
            .store()
            .request(id)
            .await
            .unwrap()
            .unwrap()
            .request
            .body
            .party[0]
            .id;
        let pupil = PersonAddition {
            surname: Some("Жумабаева".into()),
            given_names: Some("Алия".into()),
            birth_date: Some("15.06.2014".into()),
            relation: Some("other".into()),
            needs: vec!["wheelchair, medical".into()],
            reason: "travels with the group; the teacher called".into(),
            ..Default::default()
        };
        let at = common::start().plus_seconds(7_200);
        let passport = document("N3000001".into());
        let (added, corrected) = tokio::join!(
            one.add_person(&officer1, id, &pupil, at),
            two.correct_person(&officer2, id, first, &passport, at),
        );
        let added = added.unwrap_or_else(|e| panic!("{name}: {e}"));
        corrected.unwrap_or_else(|e| panic!("{name}: {e}"));
        let stored = one.store().request(id).await.unwrap().unwrap();
        let body = &stored.request.body;
        assert_eq!(body.party.len(), 5, "{name}");
        let new = body.party.last().unwrap();
        assert_eq!(new.id, added);
        assert_eq!(new.surname.as_ref().unwrap().latin, "ZHUMABAEVA", "{name}");
        assert_eq!(new.needs.len(), 2, "{name}: {:?}", new.needs);
        assert_eq!(
            body.party[0].document.as_ref().map(|d| d.number.as_str()),
            Some("N3000001"),
            "{name}: the correction made at the same moment is kept"
        );
        assert_eq!(
            stored.statuses.last(),
            Some(&(added, PersonStatus::Registered)),
            "{name}"
        );
        let history = one.store().person_events_of_request(id).await.unwrap();
        assert!(
            history
                .iter()
                .any(|e| e.person == added && e.event.reason.starts_with("added to the party")),
            "{name}: {history:?}"
        );

        // A birth date nobody can have is refused by its field's name, as the body spells it,
        // and nothing is added.
        let wrong = PersonAddition {
            birth_date: Some("31.02.2014".into()),
            ..pupil.clone()
        };
        match one.add_person(&officer1, id, &wrong, at).await {
            Err(evac_app::AppError::Invalid(errors)) => assert!(
                errors.iter().any(|e| e.path == "birth_date"),
                "{name}: {errors:?}"
            ),
            other => panic!("{name}: {other:?}"),
        }
        let unexplained = PersonAddition {
            reason: " ".into(),
            ..pupil.clone()
        };
        assert!(
            one.add_person(&officer1, id, &unexplained, at)
                .await
                .is_err(),
            "{name}: an addition needs a reason"
        );
        // The party has its one who asks: a second "self" is refused by its field.
        let second_asker = PersonAddition {
            relation: Some("self".into()),
            ..pupil.clone()
        };
        match one.add_person(&officer1, id, &second_asker, at).await {
            Err(evac_app::AppError::Invalid(errors)) => assert!(
                errors.iter().any(|e| e.path == "relation"),
                "{name}: {errors:?}"
            ),
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            one.store()
                .request(id)
                .await
                .unwrap()
                .unwrap()
                .request
                .body
                .party
                .len(),
            5,
            "{name}"
        );
        backend.finish().await;
    }
}
