//! `evac bench linker`: how fast the lease holder's online linker drains the queue of requests
//! due for linking after a burst (issue 24: a duplicate posted to another node must be linked
//! within seconds, so the linker must outrun intake's ordinary rate).
//!
//! A crisis is stored and relinked first, so a model and every person's keys are kept. Then,
//! each round, a burst is stored by an app that does not link (as a node without the lease
//! would), and a fresh app takes the lease and the kept model up, as a node does on start;
//! from the moment it matches, the time until nothing is due is the drain. Every burst
//! request is new (read, matched against the kept people, keyed and settled), so requests/s
//! here is the linker's whole cost per request, on SQLite or a given PostgreSQL database.

use std::time::{Duration, Instant};

use clap::Args;
use evac_app::App;
use evac_demo::{Scenario, generate};
use evac_model::Actor;
use tokio::task::JoinSet;

use super::{fresh_app, machine, median};

/// Requests a load keeps in flight: enough for group commit to batch them.
const LOAD_IN_FLIGHT_MAX: usize = 256;

#[derive(Debug, Args)]
pub struct LinkerBenchArgs {
    /// Requests stored and relinked before the bursts (the crisis a burst is matched against)
    #[arg(long, default_value_t = 20_000)]
    pub crisis: usize,
    /// Requests stored in each burst while no node links, then drained
    #[arg(long, default_value_t = 5_000)]
    pub burst: usize,
    /// Bursts (the median is reported); together under the crisis's size, so the model is
    /// not learnt again meanwhile
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Use this (empty, scratch) database instead of a fresh SQLite file in a temporary
    /// directory, e.g. a PostgreSQL database
    #[arg(long)]
    pub bench_database_url: Option<String>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn run(args: LinkerBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.burst * args.rounds < args.crisis,
        "the bursts together must stay under the crisis's size (--crisis), or the linker learns its model again while the bench times it"
    );
    println!("machine: {}", machine());
    let (loader, _dir) = fresh_app(args.bench_database_url.as_deref()).await?;
    let started = Instant::now();
    store_generated(
        &loader,
        Scenario::january_2022(args.crisis, args.seed),
        "crisis",
    )
    .await?;
    eprintln!(
        "stored a crisis of {} requests in {:.1} s",
        args.crisis,
        started.elapsed().as_secs_f64()
    );
    {
        // An app of its own relinks: the loader must stay without a model, so that it never
        // matches what it stores.
        let relinker = App::new(loader.store().clone(), evac_app::Settings::default());
        let started = Instant::now();
        let summary = relinker.relink().await?;
        eprintln!(
            "relinked {} people in {:.1} s",
            summary.persons,
            started.elapsed().as_secs_f64()
        );
        // The relink kept everyone's keys: the due marks it leaves are settled unread.
        relinker.linking_caught_up().await;
    }
    println!(
        "| round | requests drained | people in them | until matching | drain | requests/s | people/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rates = Vec::new();
    for round in 0..args.rounds {
        let scenario = Scenario::january_2022(args.burst, args.seed + 1 + round as u64);
        let people = store_generated(&loader, scenario, &format!("burst{round}")).await?;
        let due = loader.links_due().await?;
        let node = App::new(loader.store().clone(), evac_app::Settings::default());
        let started = Instant::now();
        let worker = node.start_linkage_worker("bench-linker");
        while !node.matches_on_arrival() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the linker did not take the kept model up within 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ready_s = started.elapsed().as_secs_f64();
        let draining = Instant::now();
        node.linking_caught_up().await;
        let drain_s = draining.elapsed().as_secs_f64();
        worker.stop().await;
        let rate = due as f64 / drain_s;
        rates.push(rate);
        println!(
            "| {round} | {due} | {people} | {ready_s:.2} s | {drain_s:.2} s | {rate:.0} | {:.0} |",
            people as f64 / drain_s
        );
    }
    println!(
        "median: {:.0} requests/s drained by the lease holder's linker",
        median(rates)
    );
    Ok(())
}

/// Stores every request `scenario` generates through `app` (a new request each: idempotency
/// keys of its own, `tag`), and answers how many people they hold.
async fn store_generated(app: &App, scenario: Scenario, tag: &str) -> anyhow::Result<usize> {
    let mut in_flight = JoinSet::new();
    let mut people = 0;
    for g in generate(scenario) {
        people += g.draft.party.len();
        let app = app.clone();
        let claim = evac_store::IdempotencyClaim {
            key: format!("bench-linker:{tag}:{}", g.record_id),
            body_sha256: [0; 32],
        };
        in_flight.spawn(async move {
            app.submit_request_at(&Actor::System, &g.draft, Some(claim), g.received_at)
                .await
        });
        while in_flight.len() >= LOAD_IN_FLIGHT_MAX {
            in_flight.join_next().await.expect("non-empty")??;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        done??;
    }
    Ok(people)
}
