//! The story every backend must tell the same way. Each backend's integration test opens a
//! fresh, empty store and calls [`run`]; a failed assertion names the step.

use evac_model::{
    Actor, Channel, LocationDraft, PersonDraft, PersonId, PersonStatus, ReferenceCode, Request,
    RequestDraft, RequestId, Role, SubmitterDraft, Timestamp, UserId, ValidationContext,
};
use rand::SeedableRng;

use crate::*;

const T0: i64 = 1_641_456_000_000_000; // 2022-01-06T08:00:00Z

fn draft(surname: &str, birth: &str, place: &str, channel: &str) -> RequestDraft {
    RequestDraft {
        channel: Some(channel.into()),
        location: LocationDraft {
            text: Some(place.into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        submitter: SubmitterDraft {
            phones: vec!["8 701 123 45 67".into()],
            ..Default::default()
        },
        party: vec![PersonDraft {
            surname: Some(surname.into()),
            given_names: Some("Алия".into()),
            birth_date: Some(birth.into()),
            ..Default::default()
        }],
        consent: Some(true),
        ..Default::default()
    }
}

struct Fixture {
    rng: rand::rngs::StdRng,
    clock: i64,
}

impl Fixture {
    fn insert(&mut self, draft: &RequestDraft) -> RequestInsert {
        self.clock += 1_000_000;
        let now = Timestamp::from_unix_micros(self.clock);
        let ctx = ValidationContext {
            now,
            default_region: None,
        };
        let body = draft.validate(&ctx).expect("fixture drafts are valid");
        let has_minors = body.has_minors(now.date_utc());
        let request = Request {
            id: RequestId::new_v7(),
            reference: ReferenceCode::generate(&mut self.rng),
            received_at: now,
            body,
        };
        let audit = AuditEvent {
            at: now,
            actor: Actor::Public,
            action: "request.create".into(),
            subject: Some(request.id.to_string()),
            detail: serde_json::json!({"channel": request.body.channel.as_str()}),
        };
        RequestInsert {
            request,
            has_minors,
            idempotency: None,
            audit,
            acknowledge: false,
        }
    }
}

/// A valid one-person request (given name Алия, in Almaty) as intake would store it, for a
/// backend's own tests beyond the shared story; `seed` varies its reference and time.
pub fn sample_insert(surname: &str, seed: u64) -> RequestInsert {
    Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(seed),
        clock: T0 + seed as i64 * 1_000_000,
    }
    .insert(&draft(surname, "1990-01-01", "Алматы", "web_form"))
}

fn page(after: Option<RequestId>, limit: u32, order: ListOrder) -> PageRequest {
    PageRequest {
        after,
        limit,
        order,
    }
}

async fn list_all(store: &dyn Store, filter: &RequestFilter, order: ListOrder) -> Vec<RequestId> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..100 {
        let p = store
            .list_requests(filter, page(after, 2, order))
            .await
            .unwrap();
        assert!(p.items.len() <= 2, "a page never exceeds its limit");
        out.extend(p.items.iter().map(|r| r.request.id));
        match p.next {
            Some(next) => after = Some(next),
            None => {
                // The count a list shows is the list's length, and stops at its cap.
                let counted = store.count_requests(filter, 1_000).await.unwrap();
                assert_eq!(counted, out.len() as u64, "count of {filter:?}");
                let capped = store.count_requests(filter, 1).await.unwrap();
                assert_eq!(
                    capped,
                    out.len().min(1) as u64,
                    "count of {filter:?} capped at 1"
                );
                return out;
            }
        }
    }
    panic!("pagination did not end");
}

/// After [`run`], the backend's own SQL that makes its requests look stored before name keys
/// (no keys, the backfill due), and another `migrate`: the backfill keyed every request again,
/// so the name search finds the story's Ибрагимов (Иванов before his correction) as before.
pub async fn name_keys_are_backfilled(store: &dyn Store) {
    let found = list_all(
        store,
        &RequestFilter {
            name: Some("Ibragimov".into()),
            ..Default::default()
        },
        ListOrder::OldestFirst,
    )
    .await;
    assert_eq!(found.len(), 1, "the backfill keyed the stored requests");
}

/// Requests inserted at the same time, each of a family of four: all are stored and every
/// person is counted once. On PostgreSQL each insert updates the dashboard's count rows in its
/// own transaction, and rows taken in different orders by concurrent inserts deadlocked (most
/// inserts failed under load before migration 0010).
pub async fn concurrent_intake_is_stored_and_counted(store: &dyn Store) {
    const REQUESTS: usize = 96;
    let before = store.intake_counts().await.unwrap();
    let mut fx = Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(96),
        clock: T0,
    };
    let inserts: Vec<RequestInsert> = (0..REQUESTS)
        .map(|i| {
            let mut family = draft(
                "Әлиева",
                "1985-03-04",
                ["Алматы", "Астана"][i % 2],
                "web_form",
            );
            for (given, birth) in [
                ("Мадина", "2012-05-06"),
                ("Асель", "2014-07-08"),
                ("Ерлан", "1983-01-02"),
            ] {
                family.party.push(PersonDraft {
                    surname: Some("Әлиев".into()),
                    given_names: Some(given.into()),
                    birth_date: Some(birth.into()),
                    ..Default::default()
                });
            }
            fx.insert(&family)
        })
        .collect();
    let outcomes =
        futures_util::future::join_all(inserts.iter().map(|i| store.insert_request(i))).await;
    for (n, outcome) in outcomes.into_iter().enumerate() {
        assert_eq!(
            outcome.unwrap(),
            InsertOutcome::Inserted,
            "concurrent insert {n}"
        );
    }
    let after = store.intake_counts().await.unwrap();
    assert_eq!(after.requests - before.requests, REQUESTS as u64);
    assert_eq!(after.persons - before.persons, 4 * REQUESTS as u64);
    let counted: u64 = store
        .dashboard_counts()
        .await
        .unwrap()
        .by_status
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        counted, after.persons,
        "each person counted once, by status"
    );
}

/// Runs the whole story against an empty store.
pub async fn run(store: &dyn Store) {
    store
        .migrate()
        .await
        .expect("migrating an up-to-date store again is a no-op");
    store.ping().await.expect("ping");
    let mut fx = Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(1),
        clock: T0,
    };

    // A request is stored whole and read back equal, by id and by reference.
    let family = draft(
        "Токаева",
        "2012-07-30",
        "Алматы, Hotel Kazakhstan",
        "web_form",
    );
    let a = fx.insert(&family);
    assert_eq!(
        store.insert_request(&a).await.unwrap(),
        InsertOutcome::Inserted,
        "insert a"
    );
    let got = store
        .request(a.request.id)
        .await
        .unwrap()
        .expect("a is readable by id");
    assert_eq!(got.request, a.request, "read back equal");
    assert_eq!(
        got.statuses,
        vec![(a.request.body.party[0].id, PersonStatus::Registered)]
    );
    let by_ref = store
        .request_by_reference(&a.request.reference)
        .await
        .unwrap()
        .expect("by reference");
    assert_eq!(by_ref.request.id, a.request.id);
    assert_eq!(
        store.request(RequestId::new_v7()).await.unwrap(),
        None,
        "unknown id"
    );

    // Idempotency: same key and body replays the first answer; another body conflicts.
    let claim = IdempotencyClaim {
        key: "k-1".into(),
        body_sha256: [7; 32],
    };
    let mut b = fx.insert(&draft("Rossi", "1980-01-01", "Almaty", "api"));
    b.idempotency = Some(claim.clone());
    assert_eq!(
        store.insert_request(&b).await.unwrap(),
        InsertOutcome::Inserted,
        "insert b"
    );
    let mut b_again = fx.insert(&draft("Rossi", "1980-01-01", "Almaty", "api"));
    b_again.idempotency = Some(claim.clone());
    assert_eq!(
        store.insert_request(&b_again).await.unwrap(),
        InsertOutcome::Replayed {
            id: b.request.id,
            reference: b.request.reference
        },
        "retry with the same key and body"
    );
    let mut b_other = fx.insert(&draft("Bianchi", "1980-01-01", "Almaty", "api"));
    b_other.idempotency = Some(IdempotencyClaim {
        body_sha256: [8; 32],
        ..claim
    });
    assert_eq!(
        store.insert_request(&b_other).await.unwrap(),
        InsertOutcome::IdempotencyConflict
    );

    // Concurrent retries with one key (a flaky connection, or two app nodes): exactly one stores.
    let racing_claim = IdempotencyClaim {
        key: "k-race".into(),
        body_sha256: [9; 32],
    };
    let racers: Vec<RequestInsert> = (0..8)
        .map(|_| {
            let mut r = fx.insert(&draft("Race", "1970-01-01", "Atyrau", "api"));
            r.idempotency = Some(racing_claim.clone());
            r
        })
        .collect();
    let outcomes =
        futures_util::future::join_all(racers.iter().map(|r| store.insert_request(r))).await;
    let inserted = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(InsertOutcome::Inserted)))
        .count();
    let replayed: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Ok(InsertOutcome::Replayed { id, .. }) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(
        (inserted, replayed.len()),
        (1, 7),
        "one insert, seven replays: {outcomes:?}"
    );
    assert!(
        replayed.windows(2).all(|w| w[0] == w[1]),
        "every replay names the same request"
    );
    let race_winner = replayed[0];
    assert_eq!(
        store.intake_counts().await.unwrap().requests,
        3,
        "a, b and the race winner"
    );

    // A taken reference is reported, and nothing of the second request is stored.
    let mut c = fx.insert(&draft("Smith", "1990-01-01", "Nur-Sultan", "hotline"));
    c.request.reference = a.request.reference;
    assert_eq!(
        store.insert_request(&c).await.unwrap(),
        InsertOutcome::ReferenceTaken
    );
    assert_eq!(
        store.request(c.request.id).await.unwrap(),
        None,
        "nothing of a refused insert"
    );
    assert_eq!(
        store.intake_counts().await.unwrap(),
        IntakeCounts {
            requests: 3,
            persons: 3
        }
    );

    // More requests for the filters and pagination.
    let c = fx.insert(&draft("Smith", "1990-01-01", "Nur-Sultan", "hotline"));
    // d is a Kazakh child in danger, e a German in a wheelchair, the others say neither.
    let mut d_draft = draft("Иванов", "2015-02-02", "Almaty", "hotline");
    d_draft.party[0].citizenship = Some("KZ".into());
    d_draft.party[0].needs = vec!["life_threatening".into()];
    let d = fx.insert(&d_draft);
    let mut e_draft = draft("Müller", "1950-03-03", "Shymkent", "import");
    e_draft.party[0].citizenship = Some("DE".into());
    e_draft.party[0].needs = vec!["wheelchair".into(), "life_threatening".into()];
    let e = fx.insert(&e_draft);
    for r in [&c, &d, &e] {
        assert_eq!(
            store.insert_request(r).await.unwrap(),
            InsertOutcome::Inserted
        );
    }
    let oldest_first = vec![
        a.request.id,
        b.request.id,
        race_winner,
        c.request.id,
        d.request.id,
        e.request.id,
    ];
    // Pages carry every person's status, whether the page is contiguous or filtered.
    for filter in [
        RequestFilter::default(),
        RequestFilter {
            channel: Some(Channel::Hotline),
            ..Default::default()
        },
    ] {
        let page = store
            .list_requests(&filter, page(None, 10, ListOrder::OldestFirst))
            .await
            .unwrap();
        assert!(!page.items.is_empty());
        for item in &page.items {
            let expected: Vec<_> = item
                .request
                .body
                .party
                .iter()
                .map(|p| (p.id, PersonStatus::Registered))
                .collect();
            assert_eq!(
                item.statuses, expected,
                "statuses of {:?} in a page",
                item.request.id
            );
        }
    }
    let all = list_all(store, &RequestFilter::default(), ListOrder::OldestFirst).await;
    assert_eq!(all, oldest_first, "oldest first, every request once");
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(
        list_all(store, &RequestFilter::default(), ListOrder::NewestFirst).await,
        newest_first
    );

    let filtered =
        |f: RequestFilter| async move { list_all(store, &f, ListOrder::OldestFirst).await };
    assert_eq!(
        filtered(RequestFilter {
            channel: Some(Channel::Hotline),
            ..Default::default()
        })
        .await,
        vec![c.request.id, d.request.id],
        "by channel"
    );
    assert_eq!(
        filtered(RequestFilter {
            has_minors: Some(true),
            ..Default::default()
        })
        .await,
        vec![a.request.id, d.request.id],
        "by minors"
    );
    let country = |code: &str| Some(code.parse::<evac_model::CountryCode>().unwrap());
    for (filter, expected, what) in [
        (
            RequestFilter {
                citizenship: country("DE"),
                ..Default::default()
            },
            vec![e.request.id],
            "by citizenship",
        ),
        (
            RequestFilter {
                need: Some(evac_model::Need::LifeThreatening),
                ..Default::default()
            },
            vec![d.request.id, e.request.id],
            "by need",
        ),
        (
            RequestFilter {
                need: Some(evac_model::Need::LifeThreatening),
                citizenship: country("KZ"),
                ..Default::default()
            },
            vec![d.request.id],
            "by need and citizenship",
        ),
        (
            RequestFilter {
                need: Some(evac_model::Need::Stretcher),
                ..Default::default()
            },
            vec![],
            "a need nobody has",
        ),
        (
            RequestFilter {
                among: Some(vec![e.request.id, a.request.id, RequestId::new_v7()].into()),
                ..Default::default()
            },
            vec![a.request.id, e.request.id],
            "among given requests",
        ),
        (
            RequestFilter {
                among: Some(Vec::new().into()),
                ..Default::default()
            },
            vec![],
            "among none",
        ),
    ] {
        assert_eq!(filtered(filter).await, expected, "{what}");
    }
    assert_eq!(
        filtered(RequestFilter {
            place: Some("almaty".into()),
            ..Default::default()
        })
        .await,
        vec![a.request.id, b.request.id, d.request.id],
        "by place, across scripts"
    );
    assert_eq!(
        filtered(RequestFilter {
            name: Some("Ivanov".into()),
            ..Default::default()
        })
        .await,
        vec![d.request.id],
        "by name, across scripts"
    );
    for (name, expected, why) in [
        (
            "Iwanowa",
            vec![d.request.id],
            "another scheme, the feminine form",
        ),
        ("aliya IVANOVA", vec![d.request.id], "every word must match"),
        ("Ivanov Nobody", vec![], "a word nobody has"),
        ("12345", vec![], "no word of a name"),
    ] {
        assert_eq!(
            filtered(RequestFilter {
                name: Some(name.into()),
                ..Default::default()
            })
            .await,
            expected,
            "by name '{name}': {why}"
        );
    }
    assert_eq!(
        filtered(RequestFilter {
            received_from: Some(c.request.received_at),
            received_until: Some(e.request.received_at),
            ..Default::default()
        })
        .await,
        vec![c.request.id, d.request.id],
        "by received time, upper bound exclusive"
    );
    assert_eq!(
        filtered(RequestFilter {
            phone: Some("+77011234567".into()),
            ..Default::default()
        })
        .await,
        oldest_first,
        "by phone: every fixture gave this number"
    );
    assert!(
        filtered(RequestFilter {
            phone: Some("+393331234567".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "by a phone nobody gave"
    );
    assert_eq!(
        filtered(RequestFilter {
            status: Some(PersonStatus::Registered),
            channel: Some(Channel::Import),
            ..Default::default()
        })
        .await,
        vec![e.request.id],
        "by status and channel"
    );
    assert!(
        filtered(RequestFilter {
            status: Some(PersonStatus::Boarded),
            ..Default::default()
        })
        .await
        .is_empty()
    );

    // Users and tokens.
    let now = Timestamp::from_unix_micros(T0);
    let user = User {
        id: UserId::new_v7(),
        name: "aigerim".into(),
        role: Role::CaseOfficer,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: now,
        disabled: false,
    };
    let audit = |action: &str, subject: &str| AuditEvent {
        at: now,
        actor: Actor::System,
        action: action.into(),
        subject: Some(subject.into()),
        detail: serde_json::json!({}),
    };
    store
        .insert_user(&user, audit("user.create", "aigerim"))
        .await
        .unwrap();
    let twin = User {
        id: UserId::new_v7(),
        ..user.clone()
    };
    assert!(matches!(
        store
            .insert_user(&twin, audit("user.create", "aigerim"))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.user_by_name("aigerim").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.user_by_name("nobody").await.unwrap(), None);
    let token = ApiToken {
        token_sha256: [42; 32],
        user_id: user.id,
        label: "laptop".into(),
        created_at: now,
        expires_at: None,
    };
    store
        .insert_token(&token, audit("token.create", "aigerim"))
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_token(&[42; 32], Timestamp::from_unix_micros(T0))
            .await
            .unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store
            .user_by_token(&[43; 32], Timestamp::from_unix_micros(T0))
            .await
            .unwrap(),
        None
    );

    // The audit trail holds every write above, in order, and pages by sequence.
    store
        .append_audit(vec![audit("request.read", &a.request.id.to_string())])
        .await
        .unwrap();
    let trail = store.audit_trail(0, 100).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions,
        ["request.create"; 6]
            .into_iter()
            .chain(["user.create", "token.create", "request.read"])
            .collect::<Vec<_>>()
    );
    assert!(
        trail.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequence increases"
    );
    assert_eq!(trail[0].event.actor, Actor::Public);
    let tail = store.audit_trail(trail[6].seq, 100).await.unwrap();
    assert_eq!(tail.len(), 2, "after a sequence number");
    assert_eq!(
        store.intake_counts().await.unwrap(),
        IntakeCounts {
            requests: 6,
            persons: 6
        }
    );

    // Hubs, their status over time, and reports.
    let ala = evac_model::Hub {
        code: "ALA".into(),
        kind: evac_model::HubKind::Airport,
        name: "Almaty International Airport".into(),
        country: "KZ".parse().unwrap(),
        municipality: Some("Almaty".into()),
        lat: 43.354267,
        lon: 77.042828,
        iata: Some("ALA".into()),
        icao: Some("UAAA".into()),
    };
    store.upsert_hub(&ala).await.unwrap();
    let renamed = evac_model::Hub {
        name: "Almaty Airport".into(),
        ..ala.clone()
    };
    store.upsert_hub(&renamed).await.unwrap();
    assert_eq!(
        store.hubs().await.unwrap(),
        vec![renamed],
        "an upsert replaces"
    );
    // Routes and zones: upserted by subject.
    let zone = |radius_km| {
        evac_model::Feature::Zone(evac_model::Zone {
            code: "almaty-centre".into(),
            name: "Almaty, city centre".into(),
            lat: 43.25,
            lon: 76.95,
            radius_km,
        })
    };
    let route = evac_model::Feature::Route(evac_model::Route {
        code: "ALA-FRU".into(),
        mode: evac_model::RouteMode::Road,
        from_place: "geonames:1526384".into(),
        from_name: "Almaty".into(),
        to_hub: "FRU".into(),
        distance_km: 240.0,
        travel_minutes: 270,
    });
    for feature in [zone(5.0), route.clone(), zone(8.0)] {
        store
            .upsert_feature(&feature, audit("feature.upsert", "x"))
            .await
            .unwrap();
    }
    assert_eq!(store.features().await.unwrap(), vec![route, zone(8.0)]);

    // Reports with their statements; a report ingested twice is stored once; grading and
    // confirmation are updates; claims join statements with their report's grading.
    let report = |id: u128, grade: Option<&str>| evac_model::Report {
        id: evac_model::ReportId(uuid::Uuid::from_u128(id)),
        received_at: Timestamp::from_unix_micros(T0 + id as i64),
        source: "Sputnik".into(),
        grade: grade.map(|g| g.parse().unwrap()),
        language: Some("it".into()),
        text: "l'aeroporto di Almaty".into(),
        state: evac_model::ReportState::Draft,
        mentions: vec![evac_model::ReportMention {
            place: "airport:ALA".into(),
            name: "Almaty International Airport".into(),
            words: "aeroporto di Almaty".into(),
            count: 1,
        }],
        external_id: Some(format!("sha256:{id}")),
    };
    let closed = evac_model::Statement {
        subject: evac_model::Subject::hub("ALA"),
        effect: evac_model::Effect::Closed,
        from: Timestamp::from_unix_micros(T0),
        until: Some(Timestamp::from_unix_micros(T0 + 10)),
        capacity_per_day: None,
        note: "seized".into(),
    };
    let threat = evac_model::Statement {
        subject: "zone:almaty-centre".parse().unwrap(),
        effect: evac_model::Effect::Threat(4),
        capacity_per_day: Some(0),
        until: None,
        ..closed.clone()
    };
    let (first, new) = store
        .insert_report(
            &report(1, None),
            std::slice::from_ref(&closed),
            audit("report.create", "1"),
        )
        .await
        .unwrap();
    assert!(new);
    let again = evac_model::Report {
        id: evac_model::ReportId(uuid::Uuid::from_u128(9)),
        ..report(1, None)
    };
    assert_eq!(
        store
            .insert_report(
                &again,
                std::slice::from_ref(&closed),
                audit("report.create", "9")
            )
            .await
            .unwrap(),
        (first, false),
        "the same external id names the stored report"
    );
    store
        .insert_report(&report(2, Some("E5")), &[], audit("report.create", "2"))
        .await
        .unwrap();
    assert_eq!(
        store.reports(10).await.unwrap(),
        vec![report(2, Some("E5")), report(1, None)],
        "newest first"
    );
    assert_eq!(store.reports(1).await.unwrap().len(), 1);
    assert_eq!(store.report(first).await.unwrap(), Some(report(1, None)));
    let a1 = "A1".parse().ok();
    assert!(
        store
            .update_report(
                first,
                a1,
                evac_model::ReportState::Confirmed,
                audit("report.grade", "1")
            )
            .await
            .unwrap()
    );
    let missing = evac_model::ReportId(uuid::Uuid::from_u128(404));
    assert!(
        !store
            .update_report(
                missing,
                a1,
                evac_model::ReportState::Confirmed,
                audit("report.grade", "404")
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .add_statements(
                first,
                std::slice::from_ref(&threat),
                audit("report.statements", "1")
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_statements(
                missing,
                std::slice::from_ref(&threat),
                audit("report.statements", "404")
            )
            .await
            .unwrap()
    );
    let claims = store.claims().await.unwrap();
    assert_eq!(claims.len(), 2, "the duplicate's statement was not stored");
    assert_eq!(
        claims
            .iter()
            .map(|c| c.statement.clone())
            .collect::<Vec<_>>(),
        vec![closed, threat]
    );
    assert!(claims.iter().all(|c| c.report == first
        && c.grade == a1
        && c.state == evac_model::ReportState::Confirmed
        && c.source == "Sputnik"));
    assert!(claims[0].seq < claims[1].seq);

    // Transports: upserted by id (a status change replaces), listed by departure.
    let flight = |hours: i64, status| evac_model::Transport {
        id: evac_model::TransportId(uuid::Uuid::from_u128(hours as u128)),
        code: format!("RF-{hours}"),
        kind: evac_model::TransportKind::Flight,
        hub: "ALA".into(),
        destination: "Moscow Chkalovsky".into(),
        departs_at: Timestamp::from_unix_micros(T0 + hours * 3_600_000_000),
        seats: 146,
        stretcher_places: 4,
        wheelchair_places: 2,
        escorts: 6,
        status,
        payload_kg: Some(40_000),
        baggage_kg_per_person: Some(20),
        carries_citizens_of: Vec::new(),
        lands_in: None,
        military: false,
        feeds: None,
    };
    use evac_model::TransportStatus::{Cancelled, Planned};
    for t in [
        flight(30, Planned),
        flight(6, Planned),
        flight(30, Cancelled),
    ] {
        store
            .upsert_transport(&t, audit("transport.upsert", "t"))
            .await
            .unwrap();
    }
    assert_eq!(
        store.transports().await.unwrap(),
        vec![flight(6, Planned), flight(30, Cancelled)]
    );

    // Triage policies: versions numbered from 1, the newest by default, listings without text.
    assert_eq!(store.policy(None).await.unwrap(), None);
    let author = Actor::System;
    for (i, text) in ["name = 'a'", "name = 'b'"].iter().enumerate() {
        let version = store
            .insert_policy(
                text,
                Timestamp::from_unix_micros(T0),
                &author,
                audit("policy", "p"),
            )
            .await
            .unwrap();
        assert_eq!(version, i as i64 + 1);
    }
    assert_eq!(
        store.policy(None).await.unwrap().unwrap().toml,
        "name = 'b'"
    );
    assert_eq!(
        store.policy(Some(1)).await.unwrap().unwrap().toml,
        "name = 'a'"
    );
    assert_eq!(store.policy(Some(3)).await.unwrap(), None);
    let versions = store.policy_versions().await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.toml.as_str(), v.author.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, "", "system"), (1, "", "system")]
    );

    // The linkage log: appended with its audit, read back in order, paged by sequence.
    let web = fx.insert(&draft("Бекова", "2011-05-06", "Алматы", "web_form"));
    let call = fx.insert(&draft("Bekova", "2011-06-05", "Almaty", "hotline"));
    for insert in [&web, &call] {
        store.insert_request(insert).await.unwrap();
    }
    let (x, y) = (web.request.body.party[0].id, call.request.body.party[0].id);
    let link = |kind, refers_to| evac_model::LinkEvent {
        at: Timestamp::from_unix_micros(T0 + 5),
        actor: Actor::System,
        kind,
        person_a: x,
        person_b: y,
        match_probability: 0.75,
        explanation: r#"{"fields":[]}"#.into(),
        refers_to,
    };
    let of_y = store
        .request_of_person(y)
        .await
        .unwrap()
        .expect("y's request");
    assert_eq!(of_y.request.id, call.request.id);
    let nobody = PersonId(uuid::Uuid::from_u128(7));
    assert!(store.request_of_person(nobody).await.unwrap().is_none());
    let before = store.link_events(0, 100).await.unwrap();
    assert!(before.is_empty(), "no link events yet");
    let appended = store
        .append_link_events(
            vec![link(evac_model::LinkEventKind::Review, None)],
            vec![audit("link.review", "queued")],
            AppendIf::Always,
        )
        .await
        .unwrap();
    assert_eq!(appended, 1);
    let queued = store.link_events(0, 100).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].event,
        link(evac_model::LinkEventKind::Review, None)
    );
    // The linker proposes a pair once, in whichever order it names the two: a relink running
    // beside another (a second node starting) adds nothing for a pair the log has.
    let copy = evac_model::LinkEvent {
        person_a: y,
        person_b: x,
        ..link(evac_model::LinkEventKind::AutoMerge, None)
    };
    let appended = store
        .append_link_events(vec![copy], vec![], AppendIf::Always)
        .await
        .unwrap();
    assert_eq!(appended, 0, "a second proposal of one pair is skipped");
    let decision = link(evac_model::LinkEventKind::Match, Some(queued[0].seq));
    // A decision goes ahead only if nothing was logged about its pair since it was read.
    let stale = store
        .append_link_events(
            vec![decision.clone()],
            vec![audit("link.decide", "match")],
            AppendIf::PairHeadIs(y, x, queued[0].seq - 1),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::LogMoved { .. })),
        "a decision from a stale read of its pair must be refused, got {stale:?}"
    );
    store
        .append_link_events(
            vec![decision.clone()],
            vec![audit("link.decide", "match")],
            AppendIf::PairHeadIs(y, x, queued[0].seq),
        )
        .await
        .unwrap();
    let after = store.link_events(queued[0].seq, 100).await.unwrap();
    assert_eq!(
        after.len(),
        1,
        "paged after the first; the copy was not kept"
    );
    assert_eq!(after[0].event, decision);
    assert!(after[0].seq > queued[0].seq);
    // An event is undone once.
    let undo = link(evac_model::LinkEventKind::Undo, Some(after[0].seq));
    store
        .append_link_events(vec![undo.clone()], vec![], AppendIf::HeadIs(after[0].seq))
        .await
        .unwrap();
    let twice = store
        .append_link_events(vec![undo], vec![], AppendIf::Always)
        .await;
    assert!(
        matches!(twice, Err(StoreError::Refused(_))),
        "a second undo of one event must be refused, got {twice:?}"
    );
    assert_eq!(store.link_events(0, 100).await.unwrap().len(), 3);
    // The events about a person, whichever side of the pair they are named on, and none about
    // someone the log never named.
    let whole = store.link_events(0, 100).await.unwrap();
    for person in [x, y] {
        assert_eq!(
            store.link_events_of(&[person]).await.unwrap(),
            whole,
            "every event of the pair names {person}"
        );
    }
    assert_eq!(store.link_events_of(&[x, y]).await.unwrap(), whole);
    assert!(store.link_events_of(&[nobody]).await.unwrap().is_empty());
    assert!(store.link_events_of(&[]).await.unwrap().is_empty());

    // The seat log: a seat, a check-in, a second check-in of the same pass refused (and
    // nothing of that call kept), the person's status following each event.
    let transport = flight(6, Planned).id;
    let pass = evac_model::PassId(uuid::Uuid::from_u128(99));
    let seat = |kind, at: i64| evac_model::SeatEvent {
        at: Timestamp::from_unix_micros(T0 + at),
        actor: Actor::System,
        kind,
        person: x,
        household: "HOUSEHOLD".into(),
        transport,
        class: 2,
        pass,
        reason: "plan 1".into(),
        seat_number: Some(7),
    };
    use evac_model::SeatEventKind::{Boarded, CheckedIn, Seated};
    let status_of_x = || async {
        let stored = store.request(web.request.id).await.unwrap().unwrap();
        stored.statuses.iter().find(|(p, _)| *p == x).unwrap().1
    };
    store
        .append_seat_events(
            vec![seat(Seated, 10)],
            vec![audit("plan.publish", "1")],
            AppendIf::HeadIs(0),
        )
        .await
        .unwrap();
    assert_eq!(status_of_x().await, PersonStatus::Assigned);
    // A publication decided from a fold that is no longer the log's head is refused whole.
    let head = store.seat_events(0, 100).await.unwrap()[0].seq;
    let stale = store
        .append_seat_events(
            vec![seat(CheckedIn, 15)],
            vec![audit("plan.publish", "stale")],
            AppendIf::HeadIs(head - 1),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::LogMoved { expected, head: h, .. }) if expected == head - 1 && h == head),
        "an append from a stale fold must be refused, got {stale:?}"
    );
    store
        .append_seat_events(
            vec![seat(CheckedIn, 20)],
            vec![audit("pass.check_in", "x")],
            AppendIf::HeadIs(head),
        )
        .await
        .unwrap();
    assert_eq!(status_of_x().await, PersonStatus::CheckedIn);
    let again = store
        .append_seat_events(
            vec![seat(CheckedIn, 30)],
            vec![audit("pass.check_in", "x")],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "a second check-in of one pass must be refused, got {again:?}"
    );
    // The store keeps the live seats itself: a second seat for x while x holds one is refused,
    // and so is a release of a pass that is not x's seat; nothing of either call is kept.
    let other_pass = evac_model::PassId(uuid::Uuid::from_u128(100));
    let second = store
        .append_seat_events(
            vec![evac_model::SeatEvent {
                pass: other_pass,
                ..seat(Seated, 35)
            }],
            vec![audit("plan.publish", "second seat")],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(&second, Err(StoreError::Refused(why)) if why.contains("already holds a seat")),
        "a second live seat must be refused, got {second:?}"
    );
    let not_live = store
        .append_seat_events(
            vec![evac_model::SeatEvent {
                pass: other_pass,
                ..seat(evac_model::SeatEventKind::Unseated, 36)
            }],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(not_live, Err(StoreError::Refused(_))),
        "releasing a pass that is not the live seat must be refused, got {not_live:?}"
    );
    // A boarded passenger's seat is never given up (nor is a checked-in one a no-show).
    let after_boarding = store
        .append_seat_events(
            vec![
                seat(Boarded, 38),
                seat(evac_model::SeatEventKind::Unseated, 39),
            ],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(after_boarding, Err(StoreError::Refused(_))),
        "releasing a boarded seat must be refused, got {after_boarding:?}"
    );
    let checked_in_no_show = store
        .append_seat_events(
            vec![seat(evac_model::SeatEventKind::NoShow, 39)],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(checked_in_no_show, Err(StoreError::Refused(_))),
        "a checked-in person is no no-show, got {checked_in_no_show:?}"
    );
    // A publication decided before a scan still goes ahead (scans change no seat)…
    let head = store.seat_events(0, 100).await.unwrap().last().unwrap().seq;
    // …unless it releases the person scanned since: that is refused as moved.
    let stale_release = store
        .append_seat_events(
            vec![seat(evac_model::SeatEventKind::Unseated, 39)],
            vec![],
            AppendIf::HeadIsIgnoringScans(head - 1),
        )
        .await;
    assert!(
        matches!(stale_release, Err(StoreError::LogMoved { .. })),
        "a release decided before the person's scan must be refused, got {stale_release:?}"
    );
    // Several events for one person in one call apply in order: a checked-in person released
    // by staff and seated again with a new pass; the status is the last one's.
    store
        .append_seat_events(
            vec![
                seat(evac_model::SeatEventKind::Unseated, 41),
                evac_model::SeatEvent {
                    pass: other_pass,
                    ..seat(Seated, 42)
                },
            ],
            vec![],
            AppendIf::HeadIsIgnoringScans(head),
        )
        .await
        .unwrap();
    assert_eq!(status_of_x().await, PersonStatus::Assigned);
    let log = store.seat_events(0, 100).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.event.kind).collect::<Vec<_>>(),
        vec![
            Seated,
            CheckedIn,
            evac_model::SeatEventKind::Unseated,
            Seated
        ]
    );
    assert_eq!(log[0].event, seat(Seated, 10));
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.seat_events(log[1].seq, 100).await.unwrap().len(), 2);
    assert_eq!(
        store.seat_events_of(x).await.unwrap(),
        log,
        "one person's events"
    );
    assert!(store.seat_events_of(y).await.unwrap().is_empty());
    // No transport carries more seated people than it has seats.
    let small = evac_model::Transport {
        id: evac_model::TransportId(uuid::Uuid::from_u128(77)),
        code: "BUS-1".into(),
        seats: 1,
        ..flight(7, Planned)
    };
    store
        .upsert_transport(&small, audit("transport.upsert", "small"))
        .await
        .unwrap();
    let on_small = |person, pass: u128, at| evac_model::SeatEvent {
        person,
        transport: small.id,
        pass: evac_model::PassId(uuid::Uuid::from_u128(pass)),
        ..seat(Seated, at)
    };
    let e_person = e.request.body.party[0].id;
    let full = store
        .append_seat_events(
            vec![on_small(e_person, 201, 50), on_small(y, 202, 51)],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(&full, Err(StoreError::Refused(why)) if why.contains("no free seat")),
        "a seat beyond the transport's seats must be refused, got {full:?}"
    );
    assert!(
        store.seat_events_of(e_person).await.unwrap().is_empty(),
        "nothing of a refused call is kept"
    );
    // A seat number is one live seat's on its transport: e is refused x's number 7 on x's
    // flight (kept through x's check-in and re-seating), and holds number 7 on the bus.
    let taken = store
        .append_seat_events(
            vec![evac_model::SeatEvent {
                person: e_person,
                pass: evac_model::PassId(uuid::Uuid::from_u128(203)),
                ..seat(Seated, 52)
            }],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(&taken, Err(StoreError::Refused(why)) if why.contains("seat number")),
        "a seat number held by a live seat must be refused, got {taken:?}"
    );
    store
        .append_seat_events(vec![on_small(e_person, 201, 50)], vec![], AppendIf::Always)
        .await
        .unwrap();
    assert_eq!(
        store.seat_events_of(e_person).await.unwrap()[0]
            .event
            .seat_number,
        Some(7)
    );

    // Journeys (issue 28, item 1): a person holds a seat per leg, at most one on a feeder and
    // one on a transport out. x holds the flight out (`other_pass`); a seat on a convoy to
    // that flight's hub is taken beside it, a second way out or a second feeder is refused,
    // and releasing the convoy seat leaves the flight seat live (the old schema released every
    // seat of the person).
    let feeder = |n: u128| evac_model::Transport {
        id: evac_model::TransportId(uuid::Uuid::from_u128(n)),
        code: format!("CONVOY-{n}"),
        kind: evac_model::TransportKind::Convoy,
        feeds: Some(evac_model::Feed {
            hub: "NQZ".into(),
            arrives_at: Timestamp::from_unix_micros(T0 + 5 * 3_600_000_000),
        }),
        ..flight(2, Planned)
    };
    let (convoy, second_convoy, second_flight) = (feeder(80), feeder(81), flight(9, Planned));
    for t in [&convoy, &second_convoy, &second_flight] {
        store
            .upsert_transport(t, audit("transport.upsert", "journey"))
            .await
            .unwrap();
    }
    let leg = |transport: &evac_model::Transport, pass: u128, kind, at| evac_model::SeatEvent {
        transport: transport.id,
        pass: evac_model::PassId(uuid::Uuid::from_u128(pass)),
        seat_number: Some(1),
        ..seat(kind, at)
    };
    store
        .append_seat_events(
            vec![leg(&convoy, 301, Seated, 60)],
            vec![],
            AppendIf::Always,
        )
        .await
        .unwrap();
    for (second, what) in [
        (leg(&second_flight, 302, Seated, 61), "a second way out"),
        (leg(&second_convoy, 303, Seated, 62), "a second feeder"),
    ] {
        let refused = store
            .append_seat_events(vec![second], vec![], AppendIf::Always)
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Refused(why)) if why.contains("already holds a seat")),
            "{what} must be refused, got {refused:?}"
        );
    }
    // Feeders chain: a bus from another hub to the convoy's is taken beside it (a journey of
    // three legs), then given up again.
    let bus = evac_model::Transport {
        id: evac_model::TransportId(uuid::Uuid::from_u128(82)),
        code: "BUS-82".into(),
        hub: "TDK".into(),
        feeds: Some(evac_model::Feed {
            hub: convoy.hub.clone(),
            arrives_at: Timestamp::from_unix_micros(T0 + 3_600_000_000),
        }),
        ..convoy.clone()
    };
    store
        .upsert_transport(&bus, audit("transport.upsert", "journey"))
        .await
        .unwrap();
    for kind in [Seated, evac_model::SeatEventKind::Unseated] {
        store
            .append_seat_events(vec![leg(&bus, 305, kind, 62)], vec![], AppendIf::Always)
            .await
            .unwrap();
    }
    store
        .append_seat_events(
            vec![leg(&convoy, 301, evac_model::SeatEventKind::Unseated, 63)],
            vec![],
            AppendIf::Always,
        )
        .await
        .unwrap();
    // x's status follows the journey, not the leg touched last: the convoy seat given up, x
    // still holds the flight (it read `verified`).
    assert_eq!(status_of_x().await, PersonStatus::Assigned);
    // The flight seat outlives the convoy seat's release: a second way out is still refused,
    // and x takes the convoy again.
    let still = store
        .append_seat_events(
            vec![leg(&second_flight, 304, Seated, 64)],
            vec![],
            AppendIf::Always,
        )
        .await;
    assert!(
        matches!(&still, Err(StoreError::Refused(why)) if why.contains("already holds a seat")),
        "the flight seat must outlive the convoy seat's release, got {still:?}"
    );
    store
        .append_seat_events(
            vec![leg(&convoy, 305, Seated, 65)],
            vec![],
            AppendIf::Always,
        )
        .await
        .unwrap();
    // Aboard the convoy x is on the way (it read `boarded`, as if out of the country); only
    // boarding the flight out is.
    let on_flight = |kind, at| evac_model::SeatEvent {
        pass: other_pass,
        ..seat(kind, at)
    };
    for (events, status) in [
        (
            vec![leg(&convoy, 305, CheckedIn, 66)],
            PersonStatus::CheckedIn,
        ),
        (
            vec![leg(&convoy, 305, Boarded, 67)],
            PersonStatus::CheckedIn,
        ),
        (vec![on_flight(CheckedIn, 68)], PersonStatus::CheckedIn),
        (vec![on_flight(Boarded, 69)], PersonStatus::Boarded),
    ] {
        let kind = events[0].kind;
        store
            .append_seat_events(events, vec![], AppendIf::Always)
            .await
            .unwrap();
        assert_eq!(status_of_x().await, status, "after {kind:?}");
    }

    // Presence at a hub (issue 28, item 5): kept with its audit event, listed per hub from a
    // time on, oldest first; an unknown request is missing and nothing of it is kept.
    let seen = |request, hub: &str, at| {
        store.record_presence(
            Presence {
                request,
                hub: hub.into(),
                at: Timestamp::from_unix_micros(T0 + at),
                actor: "user:field1".into(),
            },
            vec![],
            audit("presence.record", hub),
        )
    };
    for (hub, at) in [("ALA", 70), ("NQZ", 71), ("ALA", 72)] {
        seen(web.request.id, hub, at).await.unwrap();
    }
    let unknown = seen(evac_model::RequestId::new_v7(), "ALA", 73).await;
    assert!(
        matches!(unknown, Err(StoreError::Missing(_))),
        "{unknown:?}"
    );
    let at_ala = store
        .presences_at("ALA", Timestamp::from_unix_micros(T0 + 71))
        .await
        .unwrap();
    assert_eq!(
        at_ala
            .iter()
            .map(|p| (p.request, p.hub.as_str(), p.at.unix_micros() - T0))
            .collect::<Vec<_>>(),
        [(web.request.id, "ALA", 72)]
    );
    assert_eq!(
        store
            .presences_at("ALA", Timestamp::from_unix_micros(T0))
            .await
            .unwrap()
            .len(),
        2
    );

    // Pass keys: no secret in the database; of two first keys, one is recorded.
    assert_eq!(store.legacy_signing_secret(false).await.unwrap(), None);
    let at = Timestamp::from_unix_micros(5);
    assert!(store.register_pass_key("first", at, true).await.unwrap());
    assert!(!store.register_pass_key("second", at, true).await.unwrap());
    assert!(
        store.register_pass_key("first", at, true).await.unwrap(),
        "already there"
    );
    let later = Timestamp::from_unix_micros(9);
    assert!(
        store
            .register_pass_key("rotated", later, false)
            .await
            .unwrap()
    );
    assert_eq!(
        store.pass_public_keys().await.unwrap(),
        ["first", "rotated"]
    );
    store.unregister_pass_key("first").await.unwrap();
    assert_eq!(store.pass_public_keys().await.unwrap(), ["rotated"]);

    // An exercise copy says so, keeps its first mark, and signs with keys of its own.
    assert_eq!(store.exercise().await.unwrap(), None);
    store.mark_exercise("live.db", at).await.unwrap();
    store.mark_exercise("other.db", later).await.unwrap();
    assert_eq!(
        store.exercise().await.unwrap(),
        Some(("live.db".to_string(), at))
    );
    assert!(store.pass_public_keys().await.unwrap().is_empty());

    // Accounts are listed by name.
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert!(names.contains(&"aigerim".to_string()), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] <= w[1]));

    // Tokens are revoked (a session's on logout); revoking an unknown one is no error.
    store
        .delete_token(&[42; 32], audit("session.end", "aigerim"))
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_token(&[42; 32], Timestamp::from_unix_micros(T0))
            .await
            .unwrap(),
        None
    );
    store
        .delete_token(&[42; 32], audit("session.end", "aigerim"))
        .await
        .unwrap();

    // A session expires on its own; disabling an account or changing its password ends every
    // token it has at once; enabling it again brings none back.
    let t = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    let user = store.user_by_name("aigerim").await.unwrap().unwrap();
    for (digest, expires_at) in [([50; 32], Some(t(3_600))), ([51; 32], None)] {
        store
            .insert_token(
                &ApiToken {
                    token_sha256: digest,
                    user_id: user.id,
                    label: "session".into(),
                    created_at: t(0),
                    expires_at,
                },
                audit("token.create", "aigerim"),
            )
            .await
            .unwrap();
    }
    assert!(
        store
            .user_by_token(&[50; 32], t(3_599))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.user_by_token(&[50; 32], t(3_600)).await.unwrap(),
        None,
        "expired"
    );
    assert!(
        store
            .user_by_token(&[51; 32], t(999_999))
            .await
            .unwrap()
            .is_some()
    );
    store
        .update_user(
            "aigerim",
            UserChange::Disable,
            audit("user.disable", "aigerim"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.user_by_token(&[51; 32], t(1)).await.unwrap(),
        None,
        "disabled"
    );
    assert!(
        store
            .user_by_name("aigerim")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    store
        .update_user(
            "aigerim",
            UserChange::Enable,
            audit("user.enable", "aigerim"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.user_by_token(&[51; 32], t(1)).await.unwrap(),
        None,
        "its tokens stay revoked"
    );
    store
        .update_user(
            "aigerim",
            UserChange::Password("$argon2id$new".into()),
            audit("user.password", "aigerim"),
        )
        .await
        .unwrap();
    let changed = store.user_by_name("aigerim").await.unwrap().unwrap();
    assert_eq!(
        (changed.password_hash.as_str(), changed.disabled),
        ("$argon2id$new", false)
    );
    assert!(matches!(
        store
            .update_user(
                "nobody",
                UserChange::Disable,
                audit("user.disable", "nobody")
            )
            .await,
        Err(StoreError::Missing(_))
    ));

    // The dashboard's counts add up to what is stored, the most frequent location first; x
    // boarded the flight out, e holds a seat (assigned: no notice was accepted for it).
    let counts = store.dashboard_counts().await.unwrap();
    let intake = store.intake_counts().await.unwrap();
    assert_eq!(
        counts.by_status.iter().map(|(_, n)| n).sum::<u64>(),
        intake.persons
    );
    assert!(
        counts
            .by_status
            .iter()
            .filter(|(s, _)| matches!(s, PersonStatus::Assigned | PersonStatus::Boarded))
            .eq([&(PersonStatus::Assigned, 1), &(PersonStatus::Boarded, 1)]),
        "{counts:?}"
    );
    assert_eq!(
        counts.by_hour.iter().map(|(_, n)| n).sum::<u64>(),
        intake.requests,
        "every request in its hour (the story's requests span fewer hours than the chart)"
    );
    assert!(
        counts.by_hour.windows(2).all(|w| w[0].0 < w[1].0),
        "oldest first"
    );

    // Staff changes: a status change and a note are person events with who and why; a call
    // naming an unknown person keeps nothing.
    let change = |to, reason: &str, at: i64| PersonChange {
        person: y,
        at: Timestamp::from_unix_micros(T0 + at),
        actor: Actor::System,
        to,
        reason: reason.into(),
        expected: None,
    };
    let status_of_y = || async {
        let stored = store.request(call.request.id).await.unwrap().unwrap();
        stored.statuses.iter().find(|(p, _)| *p == y).unwrap().1
    };
    let before = status_of_y().await;
    let refused = store
        .change_persons(
            vec![
                change(Some(PersonStatus::Withdrawn), "left by car", 100),
                PersonChange {
                    person: nobody,
                    ..change(None, "nobody", 101)
                },
            ],
            vec![audit("person.change", "y")],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Missing(_))),
        "an unknown person must be refused, got {refused:?}"
    );
    assert_eq!(
        status_of_y().await,
        before,
        "nothing of a refused call is kept"
    );
    assert!(
        store
            .person_events_of_request(call.request.id)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .change_persons(
            vec![
                change(Some(PersonStatus::Verified), "passport seen", 102),
                change(None, "called back: phone works", 103),
            ],
            vec![audit("person.change", "y")],
        )
        .await
        .unwrap();
    assert_eq!(status_of_y().await, PersonStatus::Verified);
    let history = store
        .person_events_of_request(call.request.id)
        .await
        .unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|e| (e.person, e.event.from, e.event.to, e.event.reason.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (y, Some(before), PersonStatus::Verified, "passport seen"),
            (
                y,
                Some(PersonStatus::Verified),
                PersonStatus::Verified,
                "called back: phone works"
            ),
        ]
    );
    assert_eq!(history[0].event.actor, Actor::System);
    assert!(history[0].seq < history[1].seq);
    // A change decided on a status the person no longer has is refused whole: two officers
    // deciding on one person at once, the second is told.
    let stale = store
        .change_persons(
            vec![PersonChange {
                expected: Some(before),
                ..change(Some(PersonStatus::Withdrawn), "decided on an old view", 104)
            }],
            vec![audit("person.change", "y")],
        )
        .await;
    assert!(
        matches!(&stale, Err(StoreError::PersonMoved { now, .. }) if now == "verified"),
        "a change decided on {before:?} went ahead on a verified person: {stale:?}"
    );
    assert_eq!(status_of_y().await, PersonStatus::Verified);
    assert_eq!(
        store
            .person_events_of_request(call.request.id)
            .await
            .unwrap()
            .len(),
        2,
        "nothing of the refused change is kept"
    );
    let counts = store.dashboard_counts().await.unwrap();
    assert!(
        counts
            .by_status
            .iter()
            .any(|(s, n)| *s == PersonStatus::Verified && *n == 1),
        "the status counts follow a staff change: {counts:?}"
    );

    // A correction: d moved from Almaty to Shymkent; its body, its place filter and the
    // dashboard's count of its town follow, and its person has a note saying why.
    const SHYMKENT: u64 = 1_518_980;
    let count_of = |counts: &DashboardCounts, place: u64| {
        counts
            .by_place
            .iter()
            .find(|(p, _)| *p == place)
            .map_or(0, |(_, n)| *n)
    };
    let before = store.dashboard_counts().await.unwrap();
    let mut corrected = d.request.body.clone();
    corrected.location.text = "Shymkent, Hotel Rixos".into();
    corrected.location.place_id = Some(SHYMKENT);
    corrected.situation = "moved by bus".into();
    let note = PersonChange {
        person: d.request.body.party[0].id,
        at: Timestamp::from_unix_micros(T0 + 200),
        actor: Actor::System,
        to: None,
        reason: "request corrected: location".into(),
        expected: None,
    };
    let unknown = store
        .correct_request(
            RequestId::new_v7(),
            &d.request.body,
            &corrected,
            false,
            vec![],
            audit("request.correct", "x"),
        )
        .await;
    assert!(
        matches!(unknown, Err(StoreError::Missing(_))),
        "{unknown:?}"
    );
    // And its person's surname was misspelt: Иванов is Ибрагимов.
    corrected.party[0].surname = evac_model::PersonName::new("Ибрагимов");
    store
        .correct_request(
            d.request.id,
            &d.request.body,
            &corrected,
            true,
            vec![note.clone()],
            audit("request.correct", "d"),
        )
        .await
        .unwrap();
    // A second correction decided on the body before the first one is refused whole: it would
    // have silently undone the first (two officers at once).
    let mut late = d.request.body.clone();
    late.situation = "decided on the old body".into();
    let stale = store
        .correct_request(
            d.request.id,
            &d.request.body,
            &late,
            true,
            vec![note.clone()],
            audit("request.correct", "d"),
        )
        .await;
    assert!(
        matches!(&stale, Err(StoreError::RequestMoved { .. })),
        "{stale:?}"
    );
    assert_eq!(
        store
            .request(d.request.id)
            .await
            .unwrap()
            .unwrap()
            .request
            .body,
        corrected,
        "nothing of the refused correction is kept"
    );
    // A correction never cuts a person from the party (a person leaves by a status).
    let mut cut = corrected.clone();
    cut.party.clear();
    let cut = store
        .correct_request(
            d.request.id,
            &corrected,
            &cut,
            true,
            vec![],
            audit("request.correct", "d"),
        )
        .await;
    assert!(matches!(cut, Err(StoreError::Refused(_))), "{cut:?}");
    for (name, found) in [("Ibragimov", vec![d.request.id]), ("Iwanowa", vec![])] {
        assert_eq!(
            filtered(RequestFilter {
                name: Some(name.into()),
                ..Default::default()
            })
            .await,
            found,
            "the name search follows a corrected name ({name})"
        );
    }
    let read = store.request(d.request.id).await.unwrap().unwrap();
    assert_eq!(read.request.body, corrected);
    assert!(
        filtered(RequestFilter {
            place: Some("Rixos".into()),
            ..Default::default()
        })
        .await
        .contains(&d.request.id)
    );
    let after = store.dashboard_counts().await.unwrap();
    assert_eq!(
        count_of(&after, SHYMKENT),
        count_of(&before, SHYMKENT) + 1,
        "{after:?}"
    );
    let history = store.person_events_of_request(d.request.id).await.unwrap();
    assert_eq!(
        history.last().unwrap().event.reason,
        "request corrected: location"
    );

    // A person added to the party (a teacher's late pupil): registered beside the others,
    // found by name, counted, with a note saying why.
    let registered_before = registered(&store.dashboard_counts().await.unwrap());
    let mut grown = corrected.clone();
    let mut pupil = grown.party[0].clone();
    pupil.id = evac_model::PersonId::new_v7();
    pupil.surname = evac_model::PersonName::new("Жумабаева");
    pupil.given_names = evac_model::PersonName::new("Алия");
    pupil.needs = vec![evac_model::Need::Stretcher];
    grown.party.push(pupil.clone());
    store
        .correct_request(
            d.request.id,
            &corrected,
            &grown,
            true,
            vec![PersonChange {
                person: pupil.id,
                reason: "added to the party: travels with the group".into(),
                ..note.clone()
            }],
            audit("request.person_add", "d"),
        )
        .await
        .unwrap();
    let read = store.request(d.request.id).await.unwrap().unwrap();
    assert_eq!(read.request.body, grown);
    assert_eq!(
        read.statuses.last(),
        Some(&(pupil.id, PersonStatus::Registered)),
        "the added person is registered, after the others: {:?}",
        read.statuses
    );
    assert_eq!(read.statuses.len(), grown.party.len());
    assert_eq!(
        filtered(RequestFilter {
            name: Some("Zhumabaeva".into()),
            ..Default::default()
        })
        .await,
        vec![d.request.id],
        "the name search finds the added person"
    );
    assert_eq!(
        filtered(RequestFilter {
            need: Some(evac_model::Need::Stretcher),
            ..Default::default()
        })
        .await,
        vec![d.request.id],
        "the need filter follows a correction"
    );
    assert_eq!(
        registered(&store.dashboard_counts().await.unwrap()),
        registered_before + 1,
        "the status counts include the added person"
    );
    assert_eq!(
        store.request_id_of_person(pupil.id).await.unwrap(),
        Some(d.request.id)
    );
}

fn registered(counts: &DashboardCounts) -> u64 {
    counts
        .by_status
        .iter()
        .find(|(s, _)| *s == PersonStatus::Registered)
        .map_or(0, |(_, n)| *n)
}

/// The outbox and the inbox, on a fresh store: a notice is queued once per key; two nodes
/// claiming at once never get the same message; the channel's acceptance makes the seat's
/// person notified; a failure waits for its retry, the last one gives up; a lease that ends
/// frees the message for another node, unless a delivery report settled it; an inbound message
/// is stored once per channel id and waits for a human until handled.
pub async fn outbox_story(store: &dyn Store) {
    use evac_model::{MessageId, SeatEventKind};
    let insert = sample_insert("Outboxova", 41);
    store.insert_request(&insert).await.unwrap();
    let person = insert.request.body.party[0].id;
    let transport = evac_model::Transport {
        id: evac_model::TransportId(uuid::Uuid::from_u128(4242)),
        code: "KC-1".into(),
        kind: evac_model::TransportKind::Flight,
        hub: "NQZ".into(),
        destination: "Moscow".into(),
        departs_at: Timestamp::from_unix_micros(T0 + 86_400_000_000),
        seats: 10,
        stretcher_places: 0,
        wheelchair_places: 0,
        escorts: 0,
        status: evac_model::TransportStatus::Planned,
        payload_kg: None,
        baggage_kg_per_person: None,
        carries_citizens_of: Vec::new(),
        lands_in: None,
        military: false,
        feeds: None,
    };
    let audit = |action: &str| AuditEvent {
        at: Timestamp::from_unix_micros(T0),
        actor: Actor::System,
        action: action.into(),
        subject: None,
        detail: serde_json::json!({}),
    };
    store
        .upsert_transport(&transport, audit("transport.upsert"))
        .await
        .unwrap();
    store
        .append_seat_events(
            vec![evac_model::SeatEvent {
                at: Timestamp::from_unix_micros(T0),
                actor: Actor::System,
                kind: SeatEventKind::Seated,
                person,
                household: "H".into(),
                transport: transport.id,
                class: 1,
                pass: evac_model::PassId(uuid::Uuid::from_u128(77)),
                reason: "plan".into(),
                seat_number: Some(1),
            }],
            vec![],
            AppendIf::Always,
        )
        .await
        .unwrap();
    let status = || async {
        let stored = store.request(insert.request.id).await.unwrap().unwrap();
        stored.statuses[0].1
    };
    assert_eq!(
        status().await,
        PersonStatus::Assigned,
        "a seat without a notice"
    );

    let at = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    let message = |key: &str, persons: Vec<PersonId>| NewMessage {
        id: MessageId::new_v7(),
        dedup_key: key.into(),
        request: Some(insert.request.id),
        persons,
        channel: "sms".into(),
        recipient: "+77011234567".into(),
        language: "ru".into(),
        template: "seat".into(),
        body: "evac: место на KC-1".into(),
        parts: 1,
        priority: 1,
        created_at: at(1),
    };
    let seat_notice = message("seat:H:77:+77011234567", vec![person]);
    let queued = store
        .enqueue_messages(
            vec![seat_notice.clone(), message("ack:H:+77011234567", vec![])],
            vec![audit("outbox.enqueue")],
        )
        .await
        .unwrap();
    assert_eq!(queued, 2);
    let again = store
        .enqueue_messages(
            vec![NewMessage {
                id: MessageId::new_v7(),
                ..seat_notice.clone()
            }],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(again, 0, "one message per dedup key, ever");

    // Two nodes claim at once: each message goes to one of them.
    let (a, b) = futures_util::future::join(
        store.claim_messages("sms", "node-a", at(2), at(62), 10),
        store.claim_messages("sms", "node-b", at(2), at(62), 10),
    )
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<MessageId> = a.iter().chain(&b).map(|m| m.id).collect();
    assert_eq!(ids.len(), 2, "{a:?} {b:?}");
    ids.dedup();
    assert_eq!(ids.len(), 2, "no message claimed twice");
    let (seat_holder, seat) = if a.iter().any(|m| m.id == seat_notice.id) {
        ("node-a", a.iter().find(|m| m.id == seat_notice.id).unwrap())
    } else {
        ("node-b", b.iter().find(|m| m.id == seat_notice.id).unwrap())
    };
    assert_eq!(seat.state, MessageState::Sending);
    assert_eq!(seat.attempts, 1);
    assert_eq!(seat.persons, vec![person]);
    assert!(
        store
            .claim_messages("sms", "node-c", at(3), at(63), 10)
            .await
            .unwrap()
            .is_empty(),
        "claimed messages are held until their lease ends"
    );
    // Only the holder finishes it; the channel's acceptance notifies the person.
    let other = if seat_holder == "node-a" {
        "node-b"
    } else {
        "node-a"
    };
    let accepted = SendOutcome::Accepted {
        provider_id: Some("kannel-1".into()),
    };
    assert!(
        !store
            .finish_message(seat_notice.id, other, at(4), accepted.clone())
            .await
            .unwrap()
    );
    assert!(
        store
            .finish_message(seat_notice.id, seat_holder, at(4), accepted)
            .await
            .unwrap()
    );
    assert_eq!(status().await, PersonStatus::Notified);
    let events = store
        .person_events_of_request(insert.request.id)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event.reason == notified_reason("sms", "seat")),
        "{events:?}"
    );
    assert!(
        store
            .record_delivery(seat_notice.id, at(5), DeliveryReport::Delivered, "")
            .await
            .unwrap()
    );
    let listed = store
        .messages(
            &MessageFilter {
                request: Some(insert.request.id),
                state: Some(MessageState::Delivered),
                recipient: Some("+77011234567".into()),
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].provider_id.as_deref(), Some("kannel-1"));

    // The acknowledgement fails: it waits for its retry, then a node that dies holding it
    // loses it when its lease ends.
    let ack = ids
        .iter()
        .find(|id| **id != seat_notice.id)
        .copied()
        .unwrap();
    let ack_holder = if a.iter().any(|m| m.id == ack) {
        "node-a"
    } else {
        "node-b"
    };
    assert!(
        store
            .finish_message(
                ack,
                ack_holder,
                at(6),
                SendOutcome::Failed {
                    error: "bearerbox: connection refused".into(),
                    retry_at: Some(at(20)),
                },
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_messages("sms", "node-a", at(10), at(70), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry"
    );
    let retried = store
        .claim_messages("sms", "node-a", at(20), at(30), 10)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 2);
    assert_eq!(
        retried[0].last_error.as_deref(),
        Some("bearerbox: connection refused")
    );
    // node-a dies; at 31 its lease has ended and node-b takes the message over.
    let taken_over = store
        .claim_messages("sms", "node-b", at(31), at(90), 10)
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 1, "a lease that ended frees the message");
    assert!(
        !store
            .finish_message(
                ack,
                "node-a",
                at(32),
                SendOutcome::Accepted { provider_id: None }
            )
            .await
            .unwrap(),
        "the node that lost its lease no longer finishes it"
    );
    assert!(
        store
            .finish_message(
                ack,
                "node-b",
                at(33),
                SendOutcome::Failed {
                    error: "unknown number".into(),
                    retry_at: None,
                },
            )
            .await
            .unwrap()
    );
    let counts = store.message_counts().await.unwrap();
    assert!(counts.contains(&(MessageState::GivenUp, 1)), "{counts:?}");
    assert!(counts.contains(&(MessageState::Delivered, 1)), "{counts:?}");

    // A node restarting after a crash takes back what it held, and sends it before the rest
    // of its priority queued meanwhile (it was due first).
    let broadcast: Vec<NewMessage> = (0..3)
        .map(|i| NewMessage {
            channel: "drill".into(),
            priority: 5,
            template: "broadcast".into(),
            ..message(&format!("drill:{i}"), vec![])
        })
        .collect();
    store.enqueue_messages(broadcast, vec![]).await.unwrap();
    let held = store
        .claim_messages("drill", "node-x", at(50), at(110), 1)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    // Held back until 55 (a channel's report of a send cut by the crash may still come).
    assert_eq!(
        store
            .release_claims("drill", "node-x", at(55))
            .await
            .unwrap(),
        1
    );
    let early = store
        .claim_messages("drill", "node-x", at(51), at(111), 1)
        .await
        .unwrap();
    assert_ne!(
        early.iter().map(|m| m.id).collect::<Vec<_>>(),
        [held[0].id],
        "a message taken back waits until its due time"
    );
    let again = store
        .claim_messages("drill", "node-x", at(56), at(116), 1)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        [held[0].id],
        "the message taken back goes first once due"
    );

    // A send cut by a crash that the network did take: its report settles it, so it is not
    // sent again when the node takes back its claims; the node's own late answer, if any, is
    // still recorded; later reports move it on; unknown ids are said to be unknown.
    let cut = store
        .claim_messages("drill", "node-y", at(57), at(117), 1)
        .await
        .unwrap();
    assert_eq!(cut.len(), 1);
    assert!(
        store
            .record_delivery(cut[0].id, at(58), DeliveryReport::TakenByNetwork, "")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .release_claims("drill", "node-y", at(58))
            .await
            .unwrap(),
        0,
        "a message the network took is no longer held"
    );
    assert!(
        store
            .claim_messages("drill", "node-x", at(70), at(130), 10)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != cut[0].id),
        "a message the network took is never claimed again"
    );
    assert!(
        store
            .finish_message(
                cut[0].id,
                "node-y",
                at(59),
                SendOutcome::Accepted { provider_id: None }
            )
            .await
            .unwrap(),
        "the sender's own answer after the report is recorded, not refused"
    );
    assert!(
        store
            .record_delivery(cut[0].id, at(60), DeliveryReport::TakenByNetwork, "")
            .await
            .unwrap(),
        "a repeated report is known and changes nothing"
    );
    assert!(
        store
            .record_delivery(cut[0].id, at(61), DeliveryReport::Delivered, "")
            .await
            .unwrap()
    );
    let settled = store
        .messages(
            &MessageFilter {
                state: Some(MessageState::Delivered),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
    assert!(settled.iter().any(|m| m.id == cut[0].id), "{settled:?}");
    assert!(
        !store
            .record_delivery(
                MessageId::new_v7(),
                at(62),
                DeliveryReport::TakenByNetwork,
                ""
            )
            .await
            .unwrap(),
        "an unknown id is said to be unknown"
    );

    // Inbound: stored once per channel id, waiting for a human until handled.
    let sms = |provider: Option<&str>, state: &str| NewInbound {
        id: evac_model::InboundId::new_v7(),
        channel: "sms".into(),
        provider_id: provider.map(str::to_string),
        sender: "+77011234567".into(),
        received_at: at(40),
        text: "Нам всё ещё нужно уехать".into(),
        request: Some(insert.request.id),
        understood: "other".into(),
        state: state.into(),
    };
    let first = sms(Some("kannel-in-1"), "to_read");
    assert!(
        store
            .store_inbound(first.clone(), audit("inbound.sms"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .store_inbound(sms(Some("kannel-in-1"), "to_read"), audit("inbound.sms"))
            .await
            .unwrap(),
        "the same channel id is stored once"
    );
    assert!(
        store
            .store_inbound(sms(None, "unmatched"), audit("inbound.sms"))
            .await
            .unwrap()
    );
    let waiting = store.inbox_waiting().await.unwrap();
    assert_eq!(waiting.messages, 2);
    assert_eq!(waiting.oldest, Some(at(40)));
    store
        .handle_inbound(
            first.id,
            None,
            "handled",
            &Actor::System,
            at(50),
            audit("inbound.handle"),
        )
        .await
        .unwrap();
    let of_request = store
        .inbound(&[], Some(insert.request.id), 10)
        .await
        .unwrap();
    assert_eq!(of_request.len(), 2);
    let still = store
        .inbound(&INBOX_WAITING_STATES, None, 10)
        .await
        .unwrap();
    assert_eq!(still.len(), 1);
    assert_eq!(still[0].state, "unmatched");
}

/// The call log, the callback queue (raced by operators taking at once) and messenger chats.
pub async fn calls_story(store: &dyn Store) {
    let at = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    let audit = |action: &str| AuditEvent {
        at: at(0),
        actor: Actor::System,
        action: action.into(),
        subject: None,
        detail: serde_json::json!({}),
    };
    let mut requests = Vec::new();
    for seed in 0..6 {
        let insert = sample_insert("Звонкова", 500 + seed);
        store.insert_request(&insert).await.unwrap();
        requests.push(insert.request.id);
    }

    // Chats: linked, found by chat and by phone; linking again moves the chat to a new phone.
    let chat = |chat: &str, phone: &str, s: i64| MessengerChat {
        channel: "telegram".into(),
        chat: chat.into(),
        phone: phone.into(),
        linked_at: at(s),
    };
    store
        .link_chat(chat("1001", "+77011234567", 1), audit("messenger.link"))
        .await
        .unwrap();
    store
        .link_chat(chat("1002", "+77011234567", 2), audit("messenger.link"))
        .await
        .unwrap();
    assert_eq!(
        store
            .chat_phone("telegram", "1001")
            .await
            .unwrap()
            .as_deref(),
        Some("+77011234567")
    );
    assert_eq!(store.chat_phone("telegram", "9").await.unwrap(), None);
    assert_eq!(store.chat_phone("other", "1001").await.unwrap(), None);
    let chats = store
        .chats_of_phones("telegram", &["+77011234567".into(), "+70000000000".into()])
        .await
        .unwrap();
    assert_eq!(
        chats.iter().map(|c| c.chat.as_str()).collect::<Vec<_>>(),
        ["1002", "1001"],
        "newest link first"
    );
    store
        .link_chat(chat("1001", "+77019999999", 3), audit("messenger.link"))
        .await
        .unwrap();
    assert_eq!(
        store
            .chat_phone("telegram", "1001")
            .await
            .unwrap()
            .as_deref(),
        Some("+77019999999"),
        "the newer link wins"
    );

    // A call that did not reach the family queues a callback, counting the try; reaching
    // them settles it. The log keeps both calls, oldest first.
    let call = |request: RequestId, outcome: CallOutcome, s: i64| Call {
        id: uuid::Uuid::from_u128(9_000 + s as u128),
        request,
        direction: CallDirection::Outbound,
        outcome,
        phone: Some("+77011234567".into()),
        operator: "user:op".into(),
        note: format!("call at {s}"),
        at: at(s),
    };
    store
        .log_call(
            call(requests[0], CallOutcome::NoAnswer, 10),
            CallbackChange::Schedule {
                due_at: at(100),
                reason: "no answer".into(),
                tried: true,
            },
            audit("call.log"),
        )
        .await
        .unwrap();
    let queued = store.callback_of(requests[0]).await.unwrap().unwrap();
    assert_eq!((queued.due_at, queued.attempts), (at(100), 1));
    store
        .log_call(
            call(requests[0], CallOutcome::Busy, 20),
            CallbackChange::Schedule {
                due_at: at(200),
                reason: "busy".into(),
                tried: true,
            },
            audit("call.log"),
        )
        .await
        .unwrap();
    let queued = store.callback_of(requests[0]).await.unwrap().unwrap();
    assert_eq!(
        (queued.due_at, queued.attempts, queued.reason.as_str()),
        (at(200), 2, "busy")
    );
    store
        .log_call(
            call(requests[0], CallOutcome::Reached, 30),
            CallbackChange::Settle,
            audit("call.log"),
        )
        .await
        .unwrap();
    assert_eq!(store.callback_of(requests[0]).await.unwrap(), None);
    let log = store.calls_of_request(requests[0]).await.unwrap();
    assert_eq!(
        log.iter().map(|c| c.outcome).collect::<Vec<_>>(),
        [
            CallOutcome::NoAnswer,
            CallOutcome::Busy,
            CallOutcome::Reached
        ]
    );
    assert_eq!(log[2], call(requests[0], CallOutcome::Reached, 30));

    // Queued in bulk: one already queued keeps its time.
    let queued = store
        .queue_callbacks(
            requests[1..]
                .iter()
                .enumerate()
                .map(|(i, r)| (*r, at(40 + i as i64), "unreachable".to_string()))
                .collect(),
        )
        .await
        .unwrap();
    assert_eq!(queued, 5);
    assert_eq!(
        store
            .queue_callbacks(vec![(requests[1], at(1), "again".into())])
            .await
            .unwrap(),
        0
    );
    let queue = store.callbacks(100).await.unwrap();
    assert_eq!(
        queue.iter().map(|c| c.request).collect::<Vec<_>>(),
        requests[1..].to_vec(),
        "soonest first"
    );

    // Eight operators take at once at t=42: three callbacks are due, each goes to one
    // operator; the others get none. An operator asking again gets back what they hold.
    let operators: Vec<String> = (0..8).map(|i| format!("user:op{i}")).collect();
    let taken = futures_util::future::join_all(
        operators
            .iter()
            .map(|op| store.take_callback(op, at(42), at(42 + 900))),
    )
    .await;
    let mut got: Vec<RequestId> = taken
        .into_iter()
        .filter_map(|t| t.unwrap().map(|c| c.request))
        .collect();
    got.sort();
    let mut due = requests[1..4].to_vec();
    due.sort();
    assert_eq!(got, due, "each due callback to exactly one operator");
    let holder = store.callback_of(requests[1]).await.unwrap().unwrap();
    let holder = holder.claimed_by.unwrap();
    assert_eq!(
        store
            .take_callback(&holder, at(43), at(43 + 900))
            .await
            .unwrap()
            .map(|c| c.request),
        Some(requests[1]),
        "an operator's own callback comes back to them"
    );
    // After the lease, someone else may take it.
    let other = operators.iter().find(|o| **o != holder).unwrap();
    let after_lease = store
        .take_callback(other, at(42 + 901), at(42 + 1800))
        .await
        .unwrap()
        .unwrap();
    assert!(after_lease.due_at <= at(42 + 901));
}

/// How a backend lets a test play the attacker on the audit trail: run SQL as the database's
/// owner would, on the store's own database.
pub type RawSql<'a> = &'a (dyn Fn(String) -> futures_util::future::BoxFuture<'static, ()> + Sync);

/// Issue 26: the audit trail could be edited or deleted unnoticed. Seals a trail, shows the
/// database refuses edits through its own rules, then plays an attacker who removed those
/// rules (`untrigger`, the backend's SQL) and edits, deletes or inserts one row at a random
/// position: `verify_store` names every one, and the trail verifies again once undone.
pub async fn audit_tampering_is_found(store: &dyn Store, untrigger: &str, raw: RawSql<'_>) {
    use crate::audit_chain::{ChainBreak, verify_store};
    use rand::Rng;

    const EVENTS: i64 = 40;
    store
        .append_audit(
            (0..EVENTS)
                .map(|i| AuditEvent {
                    at: Timestamp::from_unix_micros(1_000 + i),
                    actor: if i % 3 == 0 {
                        Actor::Public
                    } else {
                        Actor::System
                    },
                    action: format!("test.event{}", i % 4),
                    subject: (i % 2 == 0).then(|| format!("subject {i}")),
                    detail: serde_json::json!({ "n": i, "note": "kept" }),
                })
                .collect(),
        )
        .await
        .unwrap();
    let mut seqs = Vec::new();
    loop {
        let page = store
            .audit_trail(seqs.last().copied().unwrap_or(0), PAGE_ITEMS_MAX)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        seqs.extend(page.iter().map(|r| r.seq));
    }
    let first_seq = seqs[seqs.len() - EVENTS as usize];
    assert_eq!(
        seqs.last(),
        Some(&(first_seq + EVENTS - 1)),
        "one append numbers its events without gaps"
    );
    let before = verify_store(store, None).await.unwrap();
    assert!(before.unsealed >= EVENTS as u64, "{before:?}");
    while store.seal_audit(7).await.unwrap() > 0 {}
    let clean = verify_store(store, None).await.unwrap();
    assert_eq!(
        (clean.broken.clone(), clean.unsealed),
        (None, 0),
        "{clean:?}"
    );
    let head = clean.head.expect("a sealed chain");
    let last_seq = head.seq;
    assert!(last_seq >= first_seq + EVENTS - 1);
    let recorded = Some((head.pos, head.hash));

    // The database refuses edits while its rules stand.
    for sql in [
        format!("UPDATE audit_events SET action = 'x' WHERE seq = {first_seq}"),
        format!("DELETE FROM audit_events WHERE seq = {first_seq}"),
        "DELETE FROM audit_chain".to_string(),
    ] {
        let refused = std::panic::AssertUnwindSafe(raw(sql.clone()));
        assert!(
            futures_util::FutureExt::catch_unwind(refused)
                .await
                .is_err(),
            "the database let through: {sql}"
        );
    }

    raw(untrigger.to_string()).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(26);
    for trial in 0..45 {
        // An event inserted after the last one is a new event, sealed next: not a break.
        let seq = rng.random_range(first_seq..last_seq);
        let (tamper, undo) = match trial % 3 {
            0 => {
                let (column, value) = [
                    ("action", "'test.erased'"),
                    ("detail", "'{\"n\":0}'"),
                    ("at", "7"),
                    ("actor", "'user:00000000-0000-0000-0000-000000000000'"),
                    ("subject", "'forged'"),
                ][rng.random_range(0..5)];
                (
                    format!("UPDATE audit_events SET {column} = {value} WHERE seq = {seq}"),
                    restore_row(seq),
                )
            }
            1 => (
                format!(
                    "CREATE TABLE kept AS SELECT * FROM audit_events WHERE seq = {seq}; \
                     DELETE FROM audit_events WHERE seq = {seq}"
                ),
                "INSERT INTO audit_events SELECT * FROM kept; DROP TABLE kept".to_string(),
            ),
            _ => (
                // An insertion must renumber what follows: there is no free number inside.
                format!(
                    "UPDATE audit_events SET seq = seq + 1000000 WHERE seq > {seq}; \
                     UPDATE audit_events SET seq = seq - 999999 WHERE seq > 1000000; \
                     INSERT INTO audit_events (seq, at, actor, action, subject, detail) \
                     VALUES ({next}, 5, 'system', 'test.forged', NULL, '{{}}')",
                    next = seq + 1
                ),
                format!(
                    "DELETE FROM audit_events WHERE seq = {next}; \
                     UPDATE audit_events SET seq = seq + 999999 WHERE seq > {next}; \
                     UPDATE audit_events SET seq = seq - 1000000 WHERE seq > 1000000",
                    next = seq + 1
                ),
            ),
        };
        let kept = (trial % 3 == 0)
            .then(|| format!("CREATE TABLE kept AS SELECT * FROM audit_events WHERE seq = {seq}"));
        if let Some(keep) = kept {
            raw(keep).await;
        }
        raw(tamper.clone()).await;
        let found = verify_store(store, recorded).await.unwrap();
        let broken = found
            .broken
            .unwrap_or_else(|| panic!("not found: {tamper}"));
        let at_seq = match broken {
            ChainBreak::Altered { seq, .. } | ChainBreak::EventDeleted { seq, .. } => seq,
            other => panic!("{tamper}: {other}"),
        };
        let expected = if trial % 3 == 2 { seq + 1 } else { seq };
        assert_eq!(at_seq, expected, "{tamper}: {broken}");
        raw(undo).await;
        let again = verify_store(store, recorded).await.unwrap();
        assert_eq!(again.broken, None, "after undoing {tamper}");
    }

    // An event with a number inside the sealed part that was never sealed.
    raw(
        "INSERT INTO audit_events (seq, at, actor, action, subject, detail) \
         VALUES (-5, 5, 'system', 'test.forged', NULL, '{}')"
            .into(),
    )
    .await;
    assert_eq!(
        verify_store(store, recorded).await.unwrap().broken,
        Some(ChainBreak::Inserted { seq: -5 })
    );
    raw("DELETE FROM audit_events WHERE seq = -5".into()).await;

    // A cut tail: the last link and its event gone; only the recorded head tells.
    raw(format!(
        "DELETE FROM audit_chain WHERE pos = {pos}; DELETE FROM audit_events WHERE seq = {last_seq}",
        pos = head.pos
    ))
    .await;
    assert_eq!(verify_store(store, None).await.unwrap().broken, None);
    assert!(matches!(
        verify_store(store, recorded).await.unwrap().broken,
        Some(ChainBreak::Truncated { .. })
    ));
}

/// Puts back the row kept in table `kept` (the attacker's edit undone).
fn restore_row(seq: i64) -> String {
    format!(
        "DELETE FROM audit_events WHERE seq = {seq}; \
         INSERT INTO audit_events SELECT * FROM kept; DROP TABLE kept"
    )
}

/// The kept link keys (issue 29, item 4): each person is kept once however often (and however
/// concurrently) they are offered; a key's people come back with their requests, at most as
/// many as asked; the model is kept and replaced; erasing a request's contacts forgets its
/// people's keys and makes it due again; forgetting every key forgets the model too.
pub async fn link_keys_story(store: &dyn Store) {
    let mut fixture = Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(29),
        clock: T0 + 29_000_000_000,
    };
    let requests: Vec<RequestInsert> = ["Keyed", "Keyedova", "Keyes", "Keyesova"]
        .into_iter()
        .map(|surname| fixture.insert(&draft(surname, "1991-02-03", "Алматы", "web_form")))
        .collect();
    for insert in &requests {
        store.insert_request(insert).await.unwrap();
    }
    let person = |i: usize| requests[i].request.body.party[0].id;
    let (shared, own) = (7_000_000_000_000_000_001u64, u64::MAX - 29);
    let offered = |i: usize, keys: Vec<u64>| KeyedPerson {
        person: person(i),
        request: requests[i].request.id,
        keys,
    };
    let count_before = store.keyed_person_count().await.unwrap();
    let read_at = store.generation(LINK_KEYS_GENERATION).await.unwrap();
    assert_eq!(
        store
            .key_persons(vec![offered(0, vec![shared, own])], read_at)
            .await
            .unwrap(),
        1
    );
    // Two writers offering overlapping people at once: each person is kept once.
    let (left, right) = futures_util::future::join(
        store.key_persons(
            vec![offered(0, vec![shared, own]), offered(1, vec![shared])],
            read_at,
        ),
        store.key_persons(
            vec![offered(1, vec![shared]), offered(2, vec![own])],
            read_at,
        ),
    )
    .await;
    assert_eq!(
        left.unwrap() + right.unwrap(),
        2,
        "persons 1 and 2, once each"
    );
    assert_eq!(store.keyed_person_count().await.unwrap(), count_before + 3);
    let ids: Vec<RequestId> = requests[..3].iter().map(|r| r.request.id).collect();
    assert!(
        store
            .requests_with_unkeyed_persons(&ids)
            .await
            .unwrap()
            .is_empty(),
        "every person of the three is kept"
    );
    let mut postings = store
        .link_postings(&[shared, own, 12345], 10)
        .await
        .unwrap();
    postings.sort_by_key(|p| (p.key, p.person));
    let mut expected = vec![
        Posting {
            key: shared,
            person: person(0),
            request: requests[0].request.id,
        },
        Posting {
            key: shared,
            person: person(1),
            request: requests[1].request.id,
        },
        Posting {
            key: own,
            person: person(0),
            request: requests[0].request.id,
        },
        Posting {
            key: own,
            person: person(2),
            request: requests[2].request.id,
        },
    ];
    expected.sort_by_key(|p| (p.key, p.person));
    assert_eq!(postings, expected);
    assert_eq!(
        store.link_postings(&[shared], 1).await.unwrap().len(),
        1,
        "at most as many as asked a key"
    );

    // Keeping many at once, in two halves: kept first, found under their keys after.
    let nums = store
        .keep_link_people(
            vec![offered(3, vec![shared]), offered(2, vec![own])],
            read_at,
        )
        .await
        .unwrap();
    assert!(nums[0].is_some() && nums[1].is_none(), "{nums:?}");
    assert_eq!(
        store.keyed_persons(&[person(3)]).await.unwrap(),
        vec![person(3)]
    );
    let found = |postings: Vec<Posting>| postings.iter().any(|p| p.person == person(3));
    assert!(!found(store.link_postings(&[shared], 10).await.unwrap()));
    store
        .index_link_keys(vec![(shared, nums[0].unwrap())])
        .await
        .unwrap();
    assert!(found(store.link_postings(&[shared], 10).await.unwrap()));
    // A key for a number no person holds (forgotten meanwhile) never takes a place of the
    // key's bounded postings.
    let fresh = 7_000_000_000_000_000_029u64;
    store.index_link_keys(vec![(fresh, 0)]).await.unwrap();
    store
        .index_link_keys(vec![(fresh, nums[0].unwrap())])
        .await
        .unwrap();
    assert!(found(store.link_postings(&[fresh], 1).await.unwrap()));

    // The model: kept, read back, replaced.
    let model = |text: &str, persons: u64| StoredLinkModel {
        model: text.into(),
        keys_fingerprint: u64::MAX - 1,
        persons,
        saved_at: Timestamp::from_unix_micros(fixture.clock),
    };
    store.save_link_model(model("{\"v\":1}", 3)).await.unwrap();
    assert_eq!(
        store.link_model().await.unwrap(),
        Some(model("{\"v\":1}", 3))
    );
    store.save_link_model(model("{\"v\":2}", 4)).await.unwrap();
    assert_eq!(
        store.link_model().await.unwrap(),
        Some(model("{\"v\":2}", 4))
    );

    // Erasing a request's contacts forgets its people's keys and makes it due again.
    let fence = match store.lease(LINKAGE_LEASE).await.unwrap() {
        Some((holder, until)) => LeaseFence {
            lease: LINKAGE_LEASE.into(),
            holder: Some(holder),
            at: until,
        },
        None => LeaseFence {
            lease: LINKAGE_LEASE.into(),
            holder: None,
            at: Timestamp::from_unix_micros(fixture.clock),
        },
    };
    store
        .settle_links(vec![], vec![], ids.clone(), fence.clone(), read_at)
        .await
        .unwrap();
    let due = store.links_due(u32::MAX).await.unwrap();
    assert!(ids.iter().all(|id| !due.contains(id)), "settled");
    store
        .erase_contacts(requests[0].request.id, &["+77010000000".into()])
        .await
        .unwrap();
    assert_eq!(
        store.keyed_persons(&[person(0), person(1)]).await.unwrap(),
        vec![person(1)]
    );
    assert_eq!(
        store.requests_with_unkeyed_persons(&ids).await.unwrap(),
        vec![requests[0].request.id],
        "the erased request's person needs keying again"
    );
    assert!(
        store
            .link_postings(&[shared, own], 10)
            .await
            .unwrap()
            .iter()
            .all(|p| p.person != person(0)),
        "the erased person's keys are gone"
    );
    assert!(
        store
            .links_due(u32::MAX)
            .await
            .unwrap()
            .contains(&requests[0].request.id),
        "due again, to be keyed as it reads now"
    );

    // What a keyer made from a request before its keys were forgotten (read at `read_at`,
    // before the erasure above) is not kept, whichever door it comes through: the request
    // stays due, to be keyed as it reads now, and the batch's events about its people go.
    let erased = requests[0].request.id;
    let proposal = LinkEvent {
        at: Timestamp::from_unix_micros(fixture.clock),
        actor: Actor::System,
        kind: LinkEventKind::Review,
        person_a: person(0),
        person_b: person(3),
        match_probability: 0.7,
        explanation: "{}".into(),
        refers_to: None,
    };
    let appended = store
        .settle_links(
            vec![proposal.clone()],
            vec![offered(0, vec![shared, own])],
            vec![erased],
            fence.clone(),
            read_at,
        )
        .await
        .unwrap();
    assert_eq!(
        appended, 0,
        "an event about a person read before the erasure"
    );
    // Also when the erased request was only a candidate of the batch's own request.
    let about_a_candidate = LinkEvent {
        person_a: person(2),
        person_b: person(0),
        ..proposal.clone()
    };
    let appended = store
        .settle_links(
            vec![about_a_candidate],
            vec![],
            vec![requests[2].request.id],
            fence.clone(),
            read_at,
        )
        .await
        .unwrap();
    assert_eq!(
        appended, 0,
        "an event about a candidate read before the erasure"
    );
    assert!(store.keyed_persons(&[person(0)]).await.unwrap().is_empty());
    assert!(
        store.links_due(u32::MAX).await.unwrap().contains(&erased),
        "still due"
    );
    assert_eq!(
        store
            .key_persons(vec![offered(0, vec![shared])], read_at)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .keep_link_people(vec![offered(0, vec![shared])], read_at)
            .await
            .unwrap(),
        vec![None]
    );
    assert!(store.keyed_persons(&[person(0)]).await.unwrap().is_empty());
    // Read after the erasure, it is kept, and settled.
    let after = store.generation(LINK_KEYS_GENERATION).await.unwrap();
    assert!(after > read_at, "forgetting moves the generation on");
    // A relink's pairs: read before the erasure, those about its people are left out; read
    // after, they are logged.
    let relinked = LinkEvent {
        person_a: person(0),
        person_b: person(1),
        ..proposal.clone()
    };
    assert_eq!(
        store
            .append_relinked_pairs(vec![relinked.clone()], read_at)
            .await
            .unwrap(),
        0,
        "a relink's pair about a person read before the erasure"
    );
    assert_eq!(
        store
            .append_relinked_pairs(vec![relinked], after)
            .await
            .unwrap(),
        1,
        "read after it"
    );
    store
        .settle_links(
            vec![],
            vec![offered(0, vec![shared])],
            vec![erased],
            fence.clone(),
            after,
        )
        .await
        .unwrap();
    assert_eq!(
        store.keyed_persons(&[person(0)]).await.unwrap(),
        vec![person(0)]
    );
    assert!(!store.links_due(u32::MAX).await.unwrap().contains(&erased));

    // A keyer settling what it read (its person's keys, and a link event about them) while
    // the request is erased or corrected, racing: whichever lands first, both succeed (on
    // PostgreSQL neither waits on the other in a cycle), the person is not left keyed as they
    // read before, and the request stays due.
    let audit = |action: &str| AuditEvent {
        at: Timestamp::from_unix_micros(T0),
        actor: Actor::System,
        action: action.into(),
        subject: None,
        detail: serde_json::json!({}),
    };
    for round in 0..16u64 {
        let insert = fixture.insert(&draft("Racing", "1992-03-04", "Алматы", "web_form"));
        store.insert_request(&insert).await.unwrap();
        let read_at = store.generation(LINK_KEYS_GENERATION).await.unwrap();
        let racer = KeyedPerson {
            person: insert.request.body.party[0].id,
            request: insert.request.id,
            keys: vec![shared, 7_000_000_000_000_100_000 + round],
        };
        let event = LinkEvent {
            person_a: racer.person,
            ..proposal.clone()
        };
        let settle = store.settle_links(
            vec![event],
            vec![racer.clone()],
            vec![insert.request.id],
            fence.clone(),
            read_at,
        );
        let change = erase_or_correct(store, &insert, round, audit("request.correct"));
        // Each order started first in turn (SQLite's one writer takes them in that order).
        if round % 2 == 0 {
            let (settled, changed) = futures_util::future::join(settle, change).await;
            settled.unwrap();
            changed.unwrap();
        } else {
            let (changed, settled) = futures_util::future::join(change, settle).await;
            settled.unwrap();
            changed.unwrap();
        }
        assert!(
            store
                .keyed_persons(&[racer.person])
                .await
                .unwrap()
                .is_empty(),
            "round {round}: keys made before the change are kept"
        );
        assert!(
            store
                .links_due(u32::MAX)
                .await
                .unwrap()
                .contains(&insert.request.id),
            "round {round}: the changed request is no longer due"
        );
    }

    // A relink's append racing a correction or an erasure of a request it read: its pairs
    // about that request's people are logged before the change commits, or left out; never
    // logged after it. Each append is a relink's chunk (`PAIRS` pairs, all about the changed
    // request's person, so the append takes a while), and the change's side reads the log as
    // soon as the change is stored: whatever the final log holds about the person, that read
    // saw already. (Before the append asked and appended in one transaction, holding the
    // generation's row, a change could commit between its question and its append.)
    const PAIRS: usize = 200;
    let mut partners = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let insert = fixture.insert(&draft("Partner", "1993-04-05", "Алматы", "web_form"));
        store.insert_request(&insert).await.unwrap();
        partners.push(insert.request.body.party[0].id);
    }
    let mut outcomes = [0usize; 2];
    for round in 0..8u64 {
        let insert = fixture.insert(&draft("Relinked", "1993-04-05", "Алматы", "web_form"));
        store.insert_request(&insert).await.unwrap();
        let person = insert.request.body.party[0].id;
        let read_at = store.generation(LINK_KEYS_GENERATION).await.unwrap();
        let pairs: Vec<LinkEvent> = partners
            .iter()
            .map(|&partner| LinkEvent {
                person_a: person,
                person_b: partner,
                ..proposal.clone()
            })
            .collect();
        let append = store.append_relinked_pairs(pairs, read_at);
        let change = async {
            erase_or_correct(store, &insert, round, audit("request.correct"))
                .await
                .unwrap();
            store.link_events_of(&[person]).await.unwrap().len()
        };
        let (appended, seen_once_changed) = if round % 2 == 0 {
            futures_util::future::join(append, change).await
        } else {
            let (seen, appended) = futures_util::future::join(change, append).await;
            (appended, seen)
        };
        let appended = appended.unwrap();
        let logged = store.link_events_of(&[person]).await.unwrap().len();
        assert_eq!(
            logged, appended,
            "round {round}: the answer is what was logged"
        );
        assert!(
            appended == 0 || appended == PAIRS,
            "round {round}: a chunk is logged whole or left out: {appended}"
        );
        assert_eq!(
            seen_once_changed, logged,
            "round {round}: pairs read before the change were logged after it"
        );
        outcomes[usize::from(appended > 0)] += 1;
    }
    // Which comes first is the scheduler's: both are right. Printed for whoever reads the run.
    println!(
        "relinked chunks racing a change: {} left out, {} logged before it",
        outcomes[0], outcomes[1]
    );

    store.forget_link_keys().await.unwrap();
    assert_eq!(store.keyed_person_count().await.unwrap(), 0);
    assert_eq!(store.link_model().await.unwrap(), None);
    assert!(store.link_postings(&[shared], 10).await.unwrap().is_empty());
}

/// Erases the request's phone (rounds 0 and 1 of every 4) or corrects a given name (rounds 2
/// and 3): either forgets its people's kept keys and makes it due again.
async fn erase_or_correct(
    store: &dyn Store,
    insert: &RequestInsert,
    round: u64,
    audit: AuditEvent,
) -> Result<(), StoreError> {
    if round % 4 < 2 {
        store
            .erase_contacts(insert.request.id, &["+77010000000".to_string()])
            .await
            .map(|_| ())
    } else {
        let mut corrected = insert.request.body.clone();
        corrected.party[0].given_names = evac_model::PersonName::new("Алина");
        store
            .correct_request(
                insert.request.id,
                &insert.request.body,
                &corrected,
                false,
                vec![],
                audit,
            )
            .await
    }
}

/// Linkage as shared work (issue 24): every stored request waits for the online linker; the
/// lease holder's settlement appends a batch's links and clears its requests at once, and only
/// while it holds the lease; two nodes racing for a free lease get it once; a kept view's
/// generation moves on.
pub async fn shared_linkage_story(store: &dyn Store) {
    let mut fixture = Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(24),
        clock: T0,
    };
    let before = store.links_due_count().await.unwrap();
    let first = fixture.insert(&draft("Links", "1990-01-01", "Алматы", "web_form"));
    let second = fixture.insert(&draft("Linkova", "1990-01-01", "Алматы", "hotline"));
    for insert in [&first, &second] {
        assert_eq!(
            store.insert_request(insert).await.unwrap(),
            InsertOutcome::Inserted
        );
    }
    assert_eq!(
        store.links_due_count().await.unwrap(),
        before + 2,
        "every stored request waits for the linker"
    );
    let due = store.links_due(u32::MAX).await.unwrap();
    assert!(due.contains(&first.request.id) && due.contains(&second.request.id));

    // The lease: free, held, refused to another until it runs out, then taken over.
    let t = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    assert!(
        store
            .take_lease(LINKAGE_LEASE, "n1", t(0), t(5))
            .await
            .unwrap()
    );
    assert!(
        store
            .take_lease(LINKAGE_LEASE, "n1", t(1), t(6))
            .await
            .unwrap(),
        "renewed"
    );
    assert!(
        !store
            .take_lease(LINKAGE_LEASE, "n2", t(5), t(10))
            .await
            .unwrap(),
        "still held"
    );
    assert!(
        store
            .take_lease(LINKAGE_LEASE, "n2", t(7), t(12))
            .await
            .unwrap(),
        "ran out"
    );
    assert!(
        !store
            .take_lease(LINKAGE_LEASE, "n1", t(8), t(13))
            .await
            .unwrap(),
        "n2 holds it"
    );
    assert_eq!(
        store.lease(LINKAGE_LEASE).await.unwrap(),
        Some(("n2".to_string(), t(12)))
    );

    // A settlement behind a lost lease keeps nothing; the holder's keeps its links once.
    let (a, b) = (
        first.request.body.party[0].id,
        second.request.body.party[0].id,
    );
    let proposal = evac_model::LinkEvent {
        at: t(8),
        actor: Actor::System,
        kind: evac_model::LinkEventKind::Review,
        person_a: a,
        person_b: b,
        match_probability: 0.7,
        explanation: "{}".into(),
        refers_to: None,
    };
    let fence = |holder: Option<&str>| LeaseFence {
        lease: LINKAGE_LEASE.into(),
        holder: holder.map(Into::into),
        at: t(9),
    };
    let head = store.link_events(0, u32::MAX).await.unwrap().len();
    let read_at = store.generation(LINK_KEYS_GENERATION).await.unwrap();
    let keyed = vec![
        KeyedPerson {
            person: a,
            request: first.request.id,
            keys: vec![24, u64::MAX - 24],
        },
        KeyedPerson {
            person: b,
            request: second.request.id,
            keys: vec![24],
        },
    ];
    let stale = store
        .settle_links(
            vec![proposal.clone()],
            keyed.clone(),
            vec![first.request.id, second.request.id],
            fence(Some("n1")),
            read_at,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Refused(_))), "{stale:?}");
    assert_eq!(store.link_events(0, u32::MAX).await.unwrap().len(), head);
    assert_eq!(store.links_due_count().await.unwrap(), before + 2);
    assert!(
        store.keyed_persons(&[a, b]).await.unwrap().is_empty(),
        "a refused settlement keeps no keys"
    );
    let settled = store
        .settle_links(
            vec![proposal.clone()],
            keyed.clone(),
            vec![first.request.id, second.request.id],
            fence(Some("n2")),
            read_at,
        )
        .await
        .unwrap();
    assert_eq!(settled, 1);
    assert_eq!(store.links_due_count().await.unwrap(), before);
    let mut kept = store.keyed_persons(&[a, b]).await.unwrap();
    kept.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(kept, both, "the settlement keeps its people's keys");
    let again = store
        .settle_links(
            vec![proposal.clone()],
            keyed,
            vec![first.request.id],
            fence(Some("n2")),
            read_at,
        )
        .await
        .unwrap();
    assert_eq!(again, 0, "a pair is proposed once");
    let shared = store.link_postings(&[24], 10).await.unwrap();
    assert_eq!(shared.len(), 2, "each person is kept once: {shared:?}");
    // A console's linking (no holder) while a node holds the lease writes nothing.
    let console = store
        .settle_links(vec![proposal.clone()], vec![], vec![], fence(None), read_at)
        .await;
    assert!(
        matches!(console, Err(StoreError::Refused(_))),
        "{console:?}"
    );

    // A node stopping gives the lease up; the next takes it at once.
    store.release_lease(LINKAGE_LEASE, "n1").await.unwrap();
    assert!(
        !store
            .take_lease(LINKAGE_LEASE, "n3", t(9), t(14))
            .await
            .unwrap(),
        "n1 held nothing"
    );
    store.release_lease(LINKAGE_LEASE, "n2").await.unwrap();
    // Nobody holds it: a console's linking is admitted.
    store
        .settle_links(vec![proposal], vec![], vec![], fence(None), read_at)
        .await
        .unwrap();
    assert!(
        store
            .take_lease(LINKAGE_LEASE, "n3", t(9), t(14))
            .await
            .unwrap()
    );

    // Many nodes racing for a lease that ran out: exactly one gets it, every round.
    for round in 0..20 {
        let at = t(20 + round * 10);
        let until = t(25 + round * 10);
        let names: Vec<String> = (0..4).map(|n| format!("racer-{round}-{n}")).collect();
        let takes = names
            .iter()
            .map(|name| store.take_lease(LINKAGE_LEASE, name, at, until));
        let won = futures_util::future::join_all(takes)
            .await
            .into_iter()
            .filter(|taken| *taken.as_ref().unwrap())
            .count();
        assert_eq!(won, 1, "round {round}: one node holds the lease");
    }

    // A kept view's generation.
    let g0 = store.generation(RANKING_GENERATION).await.unwrap();
    store.bump_generation(RANKING_GENERATION).await.unwrap();
    store.bump_generation(RANKING_GENERATION).await.unwrap();
    assert_eq!(store.generation(RANKING_GENERATION).await.unwrap(), g0 + 2);
    assert_eq!(store.generation("never-bumped").await.unwrap(), 0);
}

/// Concurrent intake answers each request as if it came alone (issue 24, item 3: PostgreSQL
/// stores concurrent requests in batches): twenty retries of one request with one key store it
/// once and replay its answer to the rest; the same key with another body is a conflict; a
/// reference code drawn twice is refused for one request only; the rest are stored, and
/// nothing refused leaves a trace.
pub async fn concurrent_intake_answers_each_request(store: &dyn Store) {
    let mut fx = Fixture {
        rng: rand::rngs::StdRng::seed_from_u64(2403),
        clock: T0,
    };
    let before = store.intake_counts().await.unwrap();
    let claim = |key: &str, body: u8| IdempotencyClaim {
        key: key.into(),
        body_sha256: [body; 32],
    };
    let original = fx.insert(&draft("Повторова", "1990-02-03", "Алматы", "web_form"));
    let mut inserts = Vec::new();
    // Twenty retries (new ids, as each retry is validated anew), one body, one key.
    for _ in 0..20 {
        let mut retry = fx.insert(&draft("Повторова", "1990-02-03", "Алматы", "web_form"));
        retry.idempotency = Some(claim("retry-key", 1));
        inserts.push(retry);
    }
    // The same key with another body.
    let mut other_body = fx.insert(&draft("Другова", "1990-02-03", "Алматы", "web_form"));
    other_body.idempotency = Some(claim("retry-key", 2));
    // A reference drawn twice within the burst.
    let mut twin = fx.insert(&draft("Близнецова", "1991-01-01", "Астана", "hotline"));
    twin.request.reference = original.request.reference;
    // Plain requests around them.
    let plain: Vec<RequestInsert> = (0..40)
        .map(|i| {
            let mut r = fx.insert(&draft("Обычнова", "1980-01-01", "Астана", "web_form"));
            if i % 3 == 0 {
                r.idempotency = Some(claim(&format!("plain-{i}"), 3));
            }
            r
        })
        .collect();
    // Two bursts: the keys among plain requests (a batch that commits, with keys lost to
    // another request of the batch), then the twin among plain ones (a batch that fails on the
    // reference and is stored request by request).
    let (first_plain, second_plain) = plain.split_at(30);
    let mut burst: Vec<&RequestInsert> = vec![&original];
    burst.extend(inserts.iter());
    burst.push(&other_body);
    burst.extend(first_plain.iter());
    let mut outcomes =
        futures_util::future::join_all(burst.iter().map(|i| store.insert_request(i)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
    let mut second: Vec<&RequestInsert> = vec![&twin];
    second.extend(second_plain.iter());
    let second_outcomes =
        futures_util::future::join_all(second.iter().map(|i| store.insert_request(i)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
    // In the order the assertions read them: original, retries, other body, twin, plain.
    outcomes.insert(22, second_outcomes[0].clone());
    outcomes.extend(second_outcomes[1..].iter().cloned());
    assert_eq!(outcomes[0], InsertOutcome::Inserted, "the original");
    let retries = &outcomes[1..21];
    let stored_retries: Vec<usize> = (0..20)
        .filter(|&i| retries[i] == InsertOutcome::Inserted)
        .collect();
    let other_body_outcome = &outcomes[21];
    let twin_outcome = &outcomes[22];
    // The key went to one request: a retry, or (if it came first) the other body.
    match other_body_outcome {
        InsertOutcome::Inserted => {
            assert!(stored_retries.is_empty(), "the key is the other body's");
            for r in retries {
                assert_eq!(*r, InsertOutcome::IdempotencyConflict);
            }
        }
        InsertOutcome::IdempotencyConflict => {
            assert_eq!(stored_retries.len(), 1, "one retry is stored: {retries:?}");
            let first = &inserts[stored_retries[0]].request;
            for (i, r) in retries.iter().enumerate() {
                if i != stored_retries[0] {
                    assert_eq!(
                        *r,
                        InsertOutcome::Replayed {
                            id: first.id,
                            reference: first.reference
                        },
                        "retry {i} replays the stored answer"
                    );
                }
            }
        }
        other => panic!("the other body: {other:?}"),
    }
    assert_eq!(
        *twin_outcome,
        InsertOutcome::ReferenceTaken,
        "the twin reference"
    );
    for (i, o) in outcomes[23..].iter().enumerate() {
        assert_eq!(*o, InsertOutcome::Inserted, "plain request {i}");
    }
    let after = store.intake_counts().await.unwrap();
    assert_eq!(
        after.requests - before.requests,
        1 + 1 + plain.len() as u64,
        "the original, the key's one request, the plain ones"
    );
    assert!(
        store.request(twin.request.id).await.unwrap().is_none(),
        "a refused request leaves no trace"
    );
}

/// Issue 27, casework: case assignment. A change goes ahead only while each request has the
/// holder it expects, all its requests or none; eight officers taking the same household at
/// once get it once; the request list filters by holder.
pub async fn assignments_story(store: &dyn Store) {
    let at = |s: i64| Timestamp::from_unix_micros(T0 + s * 1_000_000);
    let audit = || AuditEvent {
        at: at(0),
        actor: Actor::System,
        action: "cases.assign".into(),
        subject: None,
        detail: serde_json::json!({}),
    };
    let mut requests = Vec::new();
    for seed in 0..3 {
        let insert = sample_insert("Поручаева", 700 + seed);
        store.insert_request(&insert).await.unwrap();
        requests.push(insert.request.id);
    }
    let household = requests[..2].to_vec();
    let change = |officer: &str, if_held_by: Option<Option<&str>>| AssignmentChange {
        requests: household.clone(),
        officer: (!officer.is_empty()).then(|| officer.to_string()),
        if_held_by: if_held_by.map(|h| h.map(str::to_string)),
        by: format!("user:{officer}"),
        at: at(1),
    };

    // Eight officers take the household at once: one holds both requests, seven are told.
    let officers: Vec<String> = (0..8).map(|i| format!("officer-{i}")).collect();
    let outcomes = futures_util::future::join_all(
        officers
            .iter()
            .map(|o| store.assign_requests(change(o, Some(None)), audit())),
    )
    .await;
    let winners: Vec<&String> = officers
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_ok())
        .map(|(officer, _)| officer)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let holder = winners[0].clone();
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(refused, StoreError::Refused(why) if why.contains(&holder)),
            "the loser is told who holds it: {refused:?}"
        );
    }
    let held = store.assignments_of(&requests).await.unwrap();
    assert_eq!(
        held.iter().map(|a| a.request).collect::<Vec<_>>(),
        {
            let mut h = household.clone();
            h.sort();
            h
        },
        "both requests, the third untouched"
    );
    assert!(held.iter().all(|a| a.officer == holder));

    // A change expecting another holder changes nothing, for any of its requests.
    let other = officers.iter().find(|o| **o != holder).unwrap();
    let mut partly = change(other, Some(Some(other)));
    partly.requests.push(requests[2]);
    assert!(matches!(
        store.assign_requests(partly, audit()).await,
        Err(StoreError::Refused(_))
    ));
    assert!(
        store
            .assignments_of(&requests[2..])
            .await
            .unwrap()
            .is_empty()
    );
    // The holder hands it over; a supervisor's change taking it whoever holds it goes ahead.
    store
        .assign_requests(change(other, Some(Some(&holder))), audit())
        .await
        .unwrap();
    assert_eq!(
        store.assigned_to(other, 10).await.unwrap().len(),
        2,
        "handed over"
    );
    assert!(store.assigned_to(&holder, 10).await.unwrap().is_empty());
    store
        .assign_requests(change(&holder, None), audit())
        .await
        .unwrap();
    // The list narrows to a holder's requests, and counts them.
    let mine = RequestFilter {
        assignee: Some(holder.clone()),
        ..Default::default()
    };
    let mut listed = list_all(store, &mine, ListOrder::NewestFirst).await;
    listed.sort();
    let mut expected = household.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(store.count_requests(&mine, 100).await.unwrap(), 2);
    // Given up: nobody holds them, and the list by holder is empty.
    store
        .assign_requests(change("", Some(Some(&holder))), audit())
        .await
        .unwrap();
    assert!(store.assignments_of(&requests).await.unwrap().is_empty());
    assert!(
        list_all(store, &mine, ListOrder::NewestFirst)
            .await
            .is_empty()
    );
}

/// Issue 27: the `town` filter and the dashboard's places read the place each request's
/// location resolved to (its GeoNames id, read at intake), so every request of a town counts,
/// not only the most common spellings. A request stored before places were kept (`raw` makes
/// one, with the backend's SQL) is found by `requests_without_place` and counted once its
/// place is set; a place already set is not set again.
pub async fn places_story(store: &dyn Store, raw: RawSql<'_>) {
    const ALMATY: u64 = 1_526_384;
    const ASTANA: u64 = 1_526_273;
    let before = store.dashboard_counts().await.unwrap();
    let count_of = |counts: &DashboardCounts, place: u64| {
        counts
            .by_place
            .iter()
            .find(|(p, _)| *p == place)
            .map_or(0, |(_, n)| *n)
    };
    let mut stored = Vec::new();
    for (i, place) in [Some(ALMATY), Some(ALMATY), Some(ASTANA), None]
        .into_iter()
        .enumerate()
    {
        let mut insert = sample_insert(&format!("Placed{i}"), 9_000 + i as u64);
        insert.request.body.location.place_id = place;
        assert_eq!(
            store.insert_request(&insert).await.unwrap(),
            InsertOutcome::Inserted
        );
        stored.push(insert.request.id);
    }
    let counts = store.dashboard_counts().await.unwrap();
    assert_eq!(count_of(&counts, ALMATY), count_of(&before, ALMATY) + 2);
    assert_eq!(count_of(&counts, ASTANA), count_of(&before, ASTANA) + 1);
    assert!(counts.by_place.windows(2).all(|w| w[0].1 >= w[1].1));
    let in_town = |town| RequestFilter {
        town: Some(town),
        ..Default::default()
    };
    let almaty = list_all(store, &in_town(ALMATY), ListOrder::OldestFirst).await;
    assert_eq!(almaty, stored[..2].to_vec());
    assert!(
        store.requests_without_place(10).await.unwrap().is_empty(),
        "a request's place is read as it is stored (0: no known place)"
    );

    // The last request looks stored before places were kept: its place is read later.
    raw(format!(
        "UPDATE requests SET place_id = NULL WHERE id = '{}'",
        stored[3]
    ))
    .await;
    let unread = store.requests_without_place(10).await.unwrap();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].0, stored[3]);
    assert_eq!(unread[0].1.text, "Алматы");
    store
        .set_request_places(&[(stored[3], ALMATY)])
        .await
        .unwrap();
    store
        .set_request_places(&[(stored[3], ASTANA), (stored[0], ASTANA)])
        .await
        .unwrap();
    let counts = store.dashboard_counts().await.unwrap();
    assert_eq!(count_of(&counts, ALMATY), count_of(&before, ALMATY) + 3);
    assert_eq!(
        count_of(&counts, ASTANA),
        count_of(&before, ASTANA) + 1,
        "a place already read is kept"
    );
    let almaty = list_all(store, &in_town(ALMATY), ListOrder::OldestFirst).await;
    assert_eq!(almaty, [&stored[..2], &stored[3..]].concat());
    assert!(store.requests_without_place(10).await.unwrap().is_empty());

    // Its body does not carry the place read later: a correction that leaves its location
    // keeps the place (it was reset to none, and the request left its town's list).
    let seen = store
        .request(stored[3])
        .await
        .unwrap()
        .unwrap()
        .request
        .body;
    assert_eq!(seen.location.place_id, None);
    let mut corrected = seen.clone();
    corrected.situation = "still in Almaty".into();
    store
        .correct_request(
            stored[3],
            &seen,
            &corrected,
            false,
            vec![],
            AuditEvent {
                at: Timestamp::from_unix_micros(T0 + 9_100_000_000),
                actor: Actor::System,
                action: "request.correct".into(),
                subject: Some(stored[3].to_string()),
                detail: serde_json::json!({}),
            },
        )
        .await
        .unwrap();
    let almaty = list_all(store, &in_town(ALMATY), ListOrder::OldestFirst).await;
    assert_eq!(almaty, [&stored[..2], &stored[3..]].concat());
    let counts = store.dashboard_counts().await.unwrap();
    assert_eq!(count_of(&counts, ALMATY), count_of(&before, ALMATY) + 3);
}
