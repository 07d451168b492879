//! Several nodes on one database, one truth (issue 24): linkage is work one node does for all,
//! taken over when that node stops or dies; the desk's kept ranking goes stale on every node
//! when staff change something on one. On SQLite always, on PostgreSQL when a server is
//! configured (CI always).

mod common;

use std::time::{Duration, Instant};

use common::Backend;
use evac_app::{App, LINKAGE_LEASE_MS, LINKAGE_LEASE_RENEW_MS, Staff};
use evac_demo::{Scenario, generate};
use evac_model::{
    Actor, PersonDraft, PersonStatus, RequestDraft, RequestId, Role, SubmitterDraft, Timestamp,
};

fn family(surname: &str, given: &str, phone: &str) -> RequestDraft {
    RequestDraft {
        channel: Some("hotline".into()),
        submitter: SubmitterDraft {
            phones: vec![phone.into()],
            ..SubmitterDraft::default()
        },
        location: evac_model::LocationDraft {
            text: Some("Алматы".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        party: vec![PersonDraft {
            surname: Some(surname.into()),
            given_names: Some(given.into()),
            birth_date: Some("1987-03-09".into()),
            sex: Some("F".into()),
            ..PersonDraft::default()
        }],
        consent: Some(true),
        ..RequestDraft::default()
    }
}

async fn officer(app: &App) -> Staff {
    app.add_user(None, "officer1", Role::Supervisor, "correct horse battery")
        .await
        .unwrap();
    app.console_staff("officer1").await.unwrap()
}

async fn submit(app: &App, draft: &RequestDraft) -> RequestId {
    app.submit_request_at(&Actor::System, draft, None, Timestamp::now())
        .await
        .unwrap()
        .id
}

/// Waits until the two requests are one household as `app` reads the store.
async fn linked_within(app: &App, staff: &Staff, a: RequestId, b: RequestId, within: Duration) {
    let started = Instant::now();
    loop {
        let links = app.request_links(staff, a).await.unwrap();
        if links.household_requests.contains(&b) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{a} and {b} not linked within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Before: the index lived in each node's memory, so a family posted to one node and its copy
/// posted to another stayed unlinked on both until someone ran `evac relink`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_posted_to_another_node_is_linked_and_a_dead_holders_work_taken_over() {
    for backend in Backend::all().await {
        let name = backend.name();
        let (one, two) = (backend.node().await, backend.node().await);
        let staff = officer(&one).await;
        for g in generate(Scenario::january_2022(150, 24)) {
            one.submit_request_at(&Actor::System, &g.draft, None, g.received_at)
                .await
                .unwrap();
        }
        let workers = [
            Some(one.start_linkage_worker("node-1")),
            Some(two.start_linkage_worker("node-2")),
        ];
        let mut workers = workers;
        let lease = Duration::from_millis(LINKAGE_LEASE_MS + 2 * LINKAGE_LEASE_RENEW_MS);

        // Whichever node holds the lease, one copy arrives at each.
        let web = submit(&one, &family("Жұмабаева", "Әйгерім", "8 701 555 12 34")).await;
        let hotline = submit(&two, &family("Zhumabayeva", "Aigerim", "8 701 555 12 34")).await;
        // The first holder relinks first (a few hundred requests): seconds, not minutes.
        linked_within(&two, &staff, hotline, web, Duration::from_secs(30)).await;
        // The other node reads the same link log: it sees the pair without a relink. (How
        // soon is a benchmark's question; a second was too tight once on two busy cores.)
        linked_within(&one, &staff, web, hotline, Duration::from_secs(10)).await;

        // The holder stops (gives the lease up): the other links the next pair at once.
        let holder = holder_index(&one)
            .await
            .unwrap_or_else(|| panic!("{name}: a holder"));
        workers[holder].take().unwrap().stop().await;
        let (other, survivor) = if holder == 0 {
            (&one, &two)
        } else {
            (&two, &one)
        };
        let a = submit(other, &family("Серикова", "Дана", "8 702 111 22 33")).await;
        let b = submit(survivor, &family("Serikova", "Dana", "8 702 111 22 33")).await;
        linked_within(survivor, &staff, b, a, lease + Duration::from_secs(30)).await;

        // It comes back, the survivor dies without a word (its lease is left to run out), and
        // the first takes the work over: the pair stored meanwhile is linked.
        let back = other.start_linkage_worker(&format!("node-{}", holder + 1));
        drop(workers[1 - holder].take());
        let c = submit(survivor, &family("Нурланова", "Айша", "8 705 444 55 66")).await;
        let d = submit(other, &family("Nurlanova", "Aisha", "8 705 444 55 66")).await;
        let dead_at = Instant::now();
        linked_within(other, &staff, d, c, lease + Duration::from_secs(30)).await;
        assert_eq!(
            holder_index(&one).await,
            Some(holder),
            "{name}: the node that came back holds the lease"
        );
        assert!(
            dead_at.elapsed() >= Duration::from_millis(LINKAGE_LEASE_MS / 2),
            "{name}: linked only once the dead node's lease ran out ({:?})",
            dead_at.elapsed()
        );
        // The relink linked them; the drain then clears their due marks.
        tokio::time::timeout(Duration::from_secs(30), other.linking_caught_up())
            .await
            .unwrap_or_else(|_| panic!("{name}: linking caught up"));
        assert_eq!(
            other.links_due().await.unwrap(),
            0,
            "{name}: nothing waits for linking"
        );

        back.stop().await;
        backend.finish().await;
    }
}

/// Which node (0 or 1) holds the linkage lease, as the store says.
async fn holder_index(app: &App) -> Option<usize> {
    let (holder, _) = app
        .store()
        .lease(evac_store::LINKAGE_LEASE)
        .await
        .unwrap()?;
    ["node-1", "node-2"].iter().position(|n| *n == holder)
}

/// Before: a status changed on one node marked only that node's kept ranking stale; another
/// node's desk served its own for up to a minute, so two planners saw two queues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_is_ranked_on_every_node() {
    for backend in Backend::all().await {
        let name = backend.name();
        let (one, two) = (backend.node().await, backend.node().await);
        let staff = officer(&one).await;
        let mut requests = Vec::new();
        for g in generate(Scenario::january_2022(60, 25)) {
            requests.push(
                one.submit_request_at(&Actor::System, &g.draft, None, g.received_at)
                    .await
                    .unwrap(),
            );
        }
        let before_one = one.desk_ranking(&staff, true).await.unwrap().unwrap();
        let before_two = two.desk_ranking(&staff, true).await.unwrap().unwrap();
        assert_eq!(before_one.total, before_two.total, "{name}");

        // Node one withdraws every person of one household.
        let gone = &requests[0];
        let stored = one.store().request(gone.id).await.unwrap().unwrap();
        for person in &stored.request.body.party {
            one.change_person(
                &staff,
                gone.id,
                person.id,
                Some(PersonStatus::Withdrawn),
                "left by road",
                Timestamp::now(),
            )
            .await
            .unwrap();
        }
        let after_two = two.desk_ranking(&staff, false).await.unwrap().unwrap();
        assert!(
            after_two.total < before_two.total,
            "{name}: node two still ranks {} households after node one withdrew one (was {})",
            after_two.total,
            before_two.total
        );
        let after_one = one.desk_ranking(&staff, false).await.unwrap().unwrap();
        assert_eq!(after_one.total, after_two.total, "{name}: one queue");
        backend.finish().await;
    }
}

/// Asserts that the audit trail records `expected` relinks, and no more a second after the
/// last arrived (a relink logs its links before it says it relinked).
async fn assert_relinks(app: &App, expected: usize, why: &str) {
    let count = || async {
        app.store()
            .audit_trail(0, u32::MAX)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event.action == "link.relink")
            .count()
    };
    let started = Instant::now();
    while count().await < expected && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count().await, expected, "{why}");
}

/// Before: every server start relinked the whole store before it matched anything (two
/// minutes at a million requests), as the index lived only in the linking node's memory. Now
/// each linked person's keys and the model are kept in the store: a restarted node matches at
/// once from them, with no relink; keys made by another release are made again by a relink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_matches_from_the_kept_keys_without_relinking() {
    for backend in Backend::all().await {
        let name = backend.name();
        let first = backend.node().await;
        let staff = officer(&first).await;
        for g in generate(Scenario::january_2022(150, 29)) {
            first
                .submit_request_at(&Actor::System, &g.draft, None, g.received_at)
                .await
                .unwrap();
        }
        // Stored before the first start: the relink keeps its keys.
        let phone = "8 701 555 12 34";
        let web = submit(&first, &family("Жұмабаева", "Әйгерім", phone)).await;
        let worker = first.start_linkage_worker("node-1");
        let hotline = submit(&first, &family("Zhumabayeva", "Aigerim", phone)).await;
        linked_within(&first, &staff, hotline, web, Duration::from_secs(30)).await;
        assert_relinks(&first, 1, &format!("{name}: the first start relinks")).await;
        worker.stop().await;
        drop(first);

        // Restarted: a pair stored now, and a third copy of a person the relink kept, are
        // matched without a relink.
        let second = backend.node().await;
        let worker = second.start_linkage_worker("node-1");
        let a = submit(&second, &family("Серикова", "Дана", "8 702 111 22 33")).await;
        let b = submit(&second, &family("Serikova", "Dana", "8 702 111 22 33")).await;
        let third = submit(&second, &family("Jumabaeva", "Aigerim", phone)).await;
        linked_within(&second, &staff, b, a, Duration::from_secs(10)).await;
        linked_within(&second, &staff, third, web, Duration::from_secs(10)).await;
        assert_relinks(
            &second,
            1,
            &format!("{name}: a restart matches from the kept keys"),
        )
        .await;
        worker.stop().await;
        drop(second);

        // Keys kept by another release (its fingerprint differs) are made again: a relink
        // forgets them all (a person no request has any more goes) and keys everyone.
        let mut kept = kept_model(&backend).await;
        kept.keys_fingerprint ^= 1;
        let third_node = backend.node().await;
        third_node.store().save_link_model(kept).await.unwrap();
        let sentinel = evac_store::KeyedPerson {
            person: evac_model::PersonId::new_v7(),
            request: web,
            keys: vec![29],
        };
        let read_at = third_node
            .store()
            .generation(evac_store::LINK_KEYS_GENERATION)
            .await
            .unwrap();
        third_node
            .store()
            .key_persons(vec![sentinel.clone()], read_at)
            .await
            .unwrap();
        let worker = third_node.start_linkage_worker("node-1");
        let c = submit(&third_node, &family("Нурланова", "Айша", "8 705 444 55 66")).await;
        let d = submit(
            &third_node,
            &family("Nurlanova", "Aisha", "8 705 444 55 66"),
        )
        .await;
        linked_within(&third_node, &staff, d, c, Duration::from_secs(30)).await;
        assert_relinks(
            &third_node,
            2,
            &format!("{name}: keys made otherwise are made again"),
        )
        .await;
        assert_eq!(
            third_node
                .store()
                .link_model()
                .await
                .unwrap()
                .map(|m| m.keys_fingerprint),
            Some(evac_link::block::keys_fingerprint()),
            "{name}"
        );
        assert!(
            third_node
                .store()
                .keyed_persons(&[sentinel.person])
                .await
                .unwrap()
                .is_empty(),
            "{name}: keys made otherwise are forgotten"
        );
        worker.stop().await;
        backend.finish().await;
    }
}

/// The model the store keeps.
async fn kept_model(backend: &Backend) -> evac_store::StoredLinkModel {
    backend
        .node()
        .await
        .store()
        .link_model()
        .await
        .unwrap()
        .expect("a relink keeps its model")
}
