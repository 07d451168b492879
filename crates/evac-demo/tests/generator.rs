//! The generator's output is valid input, its ground truth is complete, and the crisis looks
//! like the one it models.

use std::collections::{HashMap, HashSet};

use evac_demo::{Scenario, generate};
use evac_model::ValidationContext;

#[test]
fn every_record_validates_and_the_truth_covers_every_party_member() {
    let mut households: HashMap<u64, usize> = HashMap::new();
    let (mut almaty, mut unaccompanied, mut latin_written, mut total) = (0, 0, 0, 0);
    let mut persons = HashSet::new();
    for g in generate(Scenario::january_2022(3_000, 42)) {
        let ctx = ValidationContext {
            now: g.received_at,
            default_region: Some("KZ".parse().unwrap()),
        };
        let request = g
            .draft
            .validate(&ctx)
            .unwrap_or_else(|e| panic!("{} does not validate: {e:?}", g.record_id));
        assert_eq!(g.truth.len(), request.party.len(), "{}", g.record_id);
        assert_eq!(request.external_ref.as_deref(), Some(g.record_id.as_str()));
        for t in &g.truth {
            persons.insert(t.person_id);
        }
        *households.entry(g.truth[0].household_id).or_default() += 1;
        total += 1;
        almaty += usize::from(
            request.location.text.contains("Alma") || request.location.text.contains("Алма"),
        );
        unaccompanied += request.unaccompanied_minors(ctx.now.date_utc()).len();
        latin_written += usize::from(request.party.iter().any(|p| {
            p.surname.as_ref().is_some_and(|s| s.as_written.is_ascii()) && p.patronymic.is_none()
        }));
    }
    assert_eq!(total, 3_000);
    let share = |n: usize| n as f64 / total as f64;
    assert!(
        (0.45..0.65).contains(&share(almaty)),
        "mostly from Almaty: {}",
        share(almaty)
    );
    assert!(
        unaccompanied > 100,
        "children on holiday and children alone: {unaccompanied}"
    );
    let duplicated = households.values().filter(|&&n| n > 1).count();
    assert!(
        duplicated as f64 / households.len() as f64 > 0.2,
        "the same families arrive several times"
    );
    assert!(
        latin_written > 300,
        "names written in Latin letters too: {latin_written}"
    );
    assert!(persons.len() > total, "more people than requests");
}

#[test]
fn the_scenario_hubs_and_reports_come_from_the_shipped_data() {
    let seed = evac_demo::seed_situation();
    let codes: Vec<&str> = seed.hubs.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(codes, vec!["ALA", "NQZ", "CIT", "KGF", "FRU", "TAS"]);
    let ala = seed
        .statuses
        .iter()
        .find(|s| s.subject == evac_model::Subject::hub("ALA"))
        .unwrap();
    assert_eq!(ala.effect, evac_model::Effect::Closed);
    assert_eq!(seed.hubs[0].icao.as_deref(), Some("UAAA"));
    for status in &seed.statuses {
        status.effect.check_fits(status.subject.kind).unwrap();
        let known = match status.subject.kind {
            evac_model::SubjectKind::Hub => seed.hubs.iter().any(|h| h.code == status.subject.code),
            evac_model::SubjectKind::Route => {
                seed.routes.iter().any(|r| r.code == status.subject.code)
            }
            evac_model::SubjectKind::Zone => {
                seed.zones.iter().any(|z| z.code == status.subject.code)
            }
        };
        assert!(known, "{} is seeded", status.subject);
    }
    let reports = evac_demo::seed_reports();
    assert_eq!(reports.len(), 2);
    assert!(reports[0].1.contains("Almaty") && reports[1].1.contains("aeroporto di Almaty"));
}
