//! `evac bench link`: linkage quality and speed on the generator's ground truth.
//!
//! The generator's requests are split into person records (one per party member); the first
//! `--records` are linked in one batch, the next `--online` are matched one by one against the
//! batch's index, as requests arriving later would be. Quality is scored against the truth the
//! generator keeps; speed is the batch's wall time (normalisation included) and the per-record
//! latency of online matching.

use std::collections::HashMap;
use std::time::Instant;

use clap::Args;
use evac_demo::{Scenario, generate};
use evac_link::evaluate::{blocking_pair_recall, cluster_f1, pair_metrics, pair_metrics_where};
use evac_link::normalize::Script;
use evac_link::sources::records_of_draft;
use evac_link::{Index, Likeness, LinkRecord, Prepared, Settings, link};

use super::{machine, median, peak_rss_mb};

#[derive(Debug, Args)]
pub struct LinkBenchArgs {
    /// Person records to link in one batch (one per party member of a generated request)
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Records matched one at a time against the batch afterwards
    #[arg(long, default_value_t = 2_000)]
    pub online: usize,
    /// Print this many wrongly merged and missed pairs with their explanations (generated
    /// names only: this is for tuning, never for real data)
    #[arg(long, default_value_t = 0)]
    pub show_errors: usize,
    /// Override the auto-merge threshold (a probability) to see its trade-off
    #[arg(long)]
    pub auto_merge_probability_min: Option<f64>,
}

pub(super) struct Truth {
    person: u64,
    household: u64,
}

pub fn run(args: LinkBenchArgs) -> anyhow::Result<()> {
    println!("machine: {}", machine());
    let (all, truth) = generated_records(args.records + args.online, args.seed);
    // Online records are spread over the whole stream (a household's copies arrive close
    // together in the generator, so the tail alone would hold few duplicates of the batch).
    let stride = (all.len() / args.online.max(1)).max(2);
    let (mut records, mut online) = (Vec::with_capacity(all.len()), Vec::new());
    for (i, r) in all.into_iter().enumerate() {
        if args.online > 0 && i % stride == stride - 1 && online.len() < args.online {
            online.push(r);
        } else {
            records.push(r);
        }
    }
    let batch_len = records.len();
    let originals: HashMap<String, LinkRecord> = if args.show_errors > 0 {
        records
            .iter()
            .map(|r| (r.record_id.clone(), r.clone()))
            .collect()
    } else {
        HashMap::new()
    };
    let rss_before_mb = peak_rss_mb().unwrap_or(0.0);

    let started = Instant::now();
    let mut settings = Settings::default();
    if let Some(p) = args.auto_merge_probability_min {
        settings.auto_merge_probability_min = p;
    }
    let linkage = link(records, &settings)?;
    let batch_s = started.elapsed().as_secs_f64();
    let rss_after_mb = peak_rss_mb().unwrap_or(0.0);

    let truth_of = |id: &str| &truth[id];
    let true_person: Vec<u64> = linkage
        .record_ids
        .iter()
        .map(|id| truth_of(id).person)
        .collect();
    let true_household: Vec<u64> = linkage
        .record_ids
        .iter()
        .map(|id| truth_of(id).household)
        .collect();
    let persons = pair_metrics(&linkage.person, &true_person);
    let households = pair_metrics(&linkage.household, &true_household);
    let scripts: Vec<Script> = linkage.prepared.iter().map(|p| p.script).collect();
    let cross_script = pair_metrics_where(&linkage.person, &true_person, |i, j| {
        matches!(
            (scripts[i], scripts[j]),
            (Script::Cyrillic, Script::Latin) | (Script::Latin, Script::Cyrillic)
        )
    });
    let blocking_recall = blocking_pair_recall(
        linkage.candidate_pairs.iter().map(|p| (p.a, p.b)),
        &true_person,
    );

    println!(
        "\nbatch: {batch_len} records ({} requests' parties), seed {}",
        linkage.group_names.len(),
        args.seed
    );
    println!(
        "  time {batch_s:.2} s = {:.0} records/s (normalisation, blocking, EM, scoring, clustering)",
        batch_len as f64 / batch_s
    );
    println!(
        "  peak RSS {rss_after_mb:.0} MB (before linking {rss_before_mb:.0} MB: generated input)"
    );
    println!(
        "  blocking: {} keys, {} blocks ({} skipped as larger than {}), {} candidate pairs, pair recall {:.4}",
        linkage.blocking.keys,
        linkage.blocking.blocks,
        linkage.blocking.blocks_skipped_as_too_large,
        linkage.settings.block_size_max,
        linkage.blocking.candidate_pairs,
        blocking_recall
    );
    println!(
        "  candidate pairs by key kind: {}",
        linkage
            .blocking
            .pairs_by_kind
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  model: prior {:.4}, {} EM iterations, name association {:.2} (surname and given name agree together that many times more often than apart)",
        linkage.model.prior_match_probability,
        linkage.model.em_iterations,
        linkage.model.name_association
    );
    let line = |name: &str, m: &evac_link::evaluate::PairMetrics| {
        println!(
            "  {name:<28} precision {:.4} recall {:.4} F1 {:.4}  ({} true pairs, {} predicted)",
            m.precision, m.recall, m.f1, m.true_pairs, m.predicted_pairs
        );
    };
    line("persons (pairs)", &persons);
    line("persons, Cyrillic vs Latin", &cross_script);
    line("households (pairs)", &households);
    println!(
        "  persons cluster F1 {:.4}; households cluster F1 {:.4}",
        cluster_f1(&linkage.person, &true_person),
        cluster_f1(&linkage.household, &true_household)
    );

    print_reliability(&linkage, &true_person, &true_household);

    if args.show_errors > 0 {
        show_errors(
            &linkage,
            &true_person,
            &true_household,
            &originals,
            args.show_errors,
        );
    }

    if !online.is_empty() {
        let auto_merge_probability_min = linkage.settings.auto_merge_probability_min;
        let started = Instant::now();
        let index = Index::from_linkage(linkage);
        let index_s = started.elapsed().as_secs_f64();
        let mut latencies_us = Vec::with_capacity(online.len());
        let (mut with_true_match, mut top_correct, mut top_wrong) = (0u64, 0u64, 0u64);
        let persons_in_batch: std::collections::HashSet<u64> =
            true_person.iter().copied().collect();
        for record in &online {
            let started = Instant::now();
            let prepared = Prepared::new(record);
            let found = index.matches(&prepared, record.group.as_deref(), &[], 5);
            latencies_us.push(started.elapsed().as_secs_f64() * 1e6);
            let truth = truth_of(&record.record_id).person;
            let has_match = persons_in_batch.contains(&truth);
            with_true_match += u64::from(has_match);
            let top_auto = found
                .first()
                .filter(|c| c.score.match_probability >= auto_merge_probability_min);
            match top_auto {
                Some(c) if true_person[c.index as usize] == truth => top_correct += 1,
                Some(_) => top_wrong += 1,
                None => {}
            }
        }
        latencies_us.sort_by(f64::total_cmp);
        let pct = |p: f64| latencies_us[((latencies_us.len() - 1) as f64 * p) as usize];
        println!(
            "\nonline: {} records matched one by one against the batch's index (built in {index_s:.2} s)",
            online.len()
        );
        println!(
            "  latency per record (normalise + match): median {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            median(latencies_us.clone()),
            pct(0.99),
            pct(1.0)
        );
        println!(
            "  {with_true_match} have their person in the batch; auto-merge top match right {top_correct}, wrong {top_wrong}"
        );
    }
    Ok(())
}

/// How far a case officer can trust the probability shown: for each band, the share of its
/// pairs that are truly one person, over every pair shown (merged or queued) and over the
/// review queue alone; and the relatives (one true household, two true people) shown at 0.5 or
/// more, the pairs a trusting officer would wrongly merge.
fn print_reliability(linkage: &evac_link::Linkage, true_person: &[u64], true_household: &[u64]) {
    use evac_link::evaluate::reliability;
    let same = |p: &evac_link::LinkedPair| true_person[p.a as usize] == true_person[p.b as usize];
    let queued =
        |p: &&evac_link::LinkedPair| !(p.band == evac_link::Band::AutoMerge && p.same_person);
    for (what, table) in [
        (
            "every pair shown",
            reliability(linkage.pairs.iter().map(|p| (p.match_probability, same(p)))),
        ),
        (
            "the review queue",
            reliability(
                linkage
                    .pairs
                    .iter()
                    .filter(queued)
                    .map(|p| (p.match_probability, same(p))),
            ),
        ),
    ] {
        println!("  reliability, {what} (shown probability: pairs, truly one person, mean shown):");
        for band in table {
            println!(
                "    >= {:<6} {:>8} pairs  {:>7.2} % true  (mean shown {:.2} %)",
                band.probability_min,
                band.pairs,
                band.true_share * 100.0,
                band.mean_shown * 100.0
            );
        }
    }
    let relatives: Vec<f64> = linkage
        .pairs
        .iter()
        .filter(|p| {
            let (a, b) = (p.a as usize, p.b as usize);
            true_household[a] == true_household[b] && true_person[a] != true_person[b]
        })
        .map(|p| p.match_probability)
        .collect();
    println!(
        "  relatives (one household, two people) shown >= 0.5: {} (highest {:.3})",
        relatives.len(),
        relatives.iter().copied().fold(0.0, f64::max)
    );
}

/// At least `count` person records from the generator, with their truth.
pub(super) fn generated_records(
    count: usize,
    seed: u64,
) -> (Vec<LinkRecord>, HashMap<String, Truth>) {
    let mut records = Vec::with_capacity(count);
    let mut truth = HashMap::with_capacity(count);
    // More requests than needed: the generator streams, and we stop at `count` records.
    for generated in generate(Scenario::january_2022(count, seed)) {
        let received = generated.received_at.date_utc();
        for (record, t) in records_of_draft(&generated.record_id, &generated.draft, received)
            .into_iter()
            .zip(&generated.truth)
        {
            truth.insert(
                record.record_id.clone(),
                Truth {
                    person: t.person_id,
                    household: t.household_id,
                },
            );
            records.push(record);
        }
        if records.len() >= count {
            break;
        }
    }
    (records, truth)
}

fn show_errors(
    linkage: &evac_link::Linkage,
    true_person: &[u64],
    true_household: &[u64],
    originals: &HashMap<String, LinkRecord>,
    count: usize,
) {
    let describe = |i: u32| {
        let r = &originals[&linkage.record_ids[i as usize]];
        format!(
            "{} | {} | {} | {:?} {:?} {:?} | {:?} | {:?}",
            r.surname.as_deref().unwrap_or("-"),
            r.given_names.as_deref().unwrap_or("-"),
            r.patronymic.as_deref().unwrap_or("-"),
            r.birth_date,
            r.birth_year_range,
            r.sex,
            r.phones,
            r.document_number
        )
    };
    let explain = |a: u32, b: u32| {
        let s = linkage.explain(a, b);
        let fields: Vec<String> = s
            .fields
            .iter()
            .filter(|f| f.level != "missing")
            .map(|f| format!("{}={}({:+.1})", f.field.name(), f.level, f.weight))
            .collect();
        format!(
            "p={:.3} w={:+.1}{} {}",
            s.match_probability,
            s.match_weight,
            if s.household_bounded {
                " (household-bounded)"
            } else {
                ""
            },
            fields.join(" ")
        )
    };
    // m as EM learnt it, next to m counted on the true matches among the candidates.
    let mut true_m: Vec<Vec<f64>> = evac_link::FIELDS
        .iter()
        .map(|f| vec![0.0; f.levels().len()])
        .collect();
    for p in &linkage.candidate_pairs {
        if true_person[p.a as usize] == true_person[p.b as usize] {
            let c = evac_link::compare::compare(
                &linkage.prepared[p.a as usize],
                &linkage.prepared[p.b as usize],
            );
            for (f, &level) in c.levels.iter().enumerate() {
                if level != evac_link::compare::MISSING {
                    true_m[f][level as usize] += 1.0;
                }
            }
        }
    }
    println!(
        "\nmodel (level: m learnt / m true / u / u within one family / the same, born close and of one sex / u within one larger group):"
    );
    for field in evac_link::FIELDS {
        let f = field.index();
        let true_total: f64 = true_m[f].iter().sum::<f64>().max(1.0);
        let levels: Vec<String> = field
            .levels()
            .iter()
            .enumerate()
            .map(|(l, name)| {
                format!(
                    "{name} {:.4}/{:.4}/{:.5}/{:.4}/{:.4}/{:.4}",
                    linkage.model.m[f][l],
                    true_m[f][l] / true_total,
                    linkage.model.u[f][l],
                    linkage.model.household[0].u(Likeness::ANY)[f][l],
                    linkage.model.household[0].u(Likeness::SIBLINGS)[f][l],
                    linkage.model.household[1].u(Likeness::ANY)[f][l]
                )
            })
            .collect();
        println!("  {:<16} {}", field.name(), levels.join("  "));
    }
    println!(
        "  members born within what an age tells apart: {:.4} of a family's pairs, {:.4} of a larger group's",
        linkage.model.household[0].years_close, linkage.model.household[1].years_close
    );
    let show_pairs = |title: &str, wanted: &dyn Fn(usize, usize, f64) -> bool| {
        println!("\n{title}:");
        for p in linkage
            .pairs
            .iter()
            .filter(|p| wanted(p.a as usize, p.b as usize, p.match_probability))
            .take(count)
        {
            println!(
                "  A {}\n  B {}\n    {}",
                describe(p.a),
                describe(p.b),
                explain(p.a, p.b)
            );
        }
    };
    show_pairs(
        "relatives shown at 0.5 or more (one true household, two true people)",
        &|a, b, _| true_household[a] == true_household[b] && true_person[a] != true_person[b],
    );
    show_pairs(
        "strangers shown at 0.8 or more (two true households)",
        &|a, b, p| true_household[a] != true_household[b] && p >= 0.8,
    );
    println!("\nwrongly merged (same predicted person, different true person):");
    let mut shown = 0;
    'outer: for (i, &p) in linkage.person.iter().enumerate() {
        for j in i + 1..linkage.person.len() {
            if linkage.person[j] == p && true_person[i] != true_person[j] {
                println!(
                    "  A {}\n  B {}\n    {}",
                    describe(i as u32),
                    describe(j as u32),
                    explain(i as u32, j as u32)
                );
                shown += 1;
                if shown >= count {
                    break 'outer;
                }
                break;
            }
        }
    }
    println!("\nmissed (same true person, different predicted person):");
    let candidates: std::collections::HashSet<(u32, u32)> =
        linkage.candidate_pairs.iter().map(|p| (p.a, p.b)).collect();
    let mut by_truth: HashMap<u64, Vec<u32>> = HashMap::new();
    for (i, &t) in true_person.iter().enumerate() {
        by_truth.entry(t).or_default().push(i as u32);
    }
    let mut shown = 0;
    let mut keys: Vec<&u64> = by_truth.keys().collect();
    keys.sort();
    'missed: for t in keys {
        let members = &by_truth[t];
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                if linkage.person[a as usize] != linkage.person[b as usize] {
                    let blocked = candidates.contains(&(a.min(b), a.max(b)));
                    println!(
                        "  A {}\n  B {}\n    {} {}",
                        describe(a),
                        describe(b),
                        if blocked {
                            "compared:"
                        } else {
                            "NOT A CANDIDATE:"
                        },
                        explain(a, b)
                    );
                    shown += 1;
                    if shown >= count {
                        break 'missed;
                    }
                }
            }
        }
    }
}
