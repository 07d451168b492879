//! `evac bench notify`: what telling people costs. A generated crisis with Almaty's airport and
//! road open and flights from Almaty and Nur-Sultan with seats for everyone; publishing the plan
//! (which queues every seat notice in the transaction that stores the seats) is timed next to
//! the same plan's preview on the same data (the baseline: planning alone). Then this node's
//! sender drains the outbox through the log channel, and every notice's queue-to-accepted
//! latency is reported (p50, p99). Medians over rounds, each on a fresh crisis.

use std::time::{Duration, Instant};

use clap::Args;
use evac_model::{Role, StatementDraft, TransportDraft};
use evac_store::{MessageFilter, MessageState};

#[derive(Debug, Args)]
pub struct NotifyBenchArgs {
    /// Requests in each round's crisis (about 2.6 people each)
    #[arg(long, default_value_t = 4_000)]
    pub requests: usize,
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
}

/// Seats per flight of the benchmark's airlift.
const FLIGHT_SEATS: u32 = 300;

pub async fn run(args: NotifyBenchArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for round in 0..args.rounds {
        rows.push(one_round(&args, round as u64).await?);
    }
    let median = |f: &dyn Fn(&Round) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "evac bench notify: {} requests, {} rounds, medians ({})",
        args.requests,
        args.rounds,
        super::machine()
    );
    println!(
        "  people seated {:.0}, notices queued {:.0}",
        median(&|r| r.people as f64),
        median(&|r| r.notices as f64)
    );
    println!(
        "  preview (baseline: planning alone) {:.2} s; publish with its notices {:.2} s",
        median(&|r| r.preview_s),
        median(&|r| r.publish_s)
    );
    println!(
        "  draining through the log channel {:.2} s; queue-to-accepted (newest 1,000 notices) p50 {:.0} ms, p99 {:.0} ms",
        median(&|r| r.drain_s),
        median(&|r| r.p50_ms),
        median(&|r| r.p99_ms)
    );
    Ok(())
}

struct Round {
    people: u32,
    notices: u64,
    preview_s: f64,
    publish_s: f64,
    drain_s: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn one_round(args: &NotifyBenchArgs, round: u64) -> anyhow::Result<Round> {
    let (app, _dir, loaded, _) = super::demo_app(args.requests, args.seed + round).await?;
    app.add_user(None, "bench", Role::Supervisor, "correct horse battery")
        .await?;
    let staff = app.console_staff("bench").await?;
    let start = evac_demo::Scenario::january_2022(args.requests, args.seed).start;
    app.seed_demo_situation(&staff, start).await?;
    for (subject, effect) in [("hub:ALA", "open"), ("route:almaty-airport", "open")] {
        let statement = StatementDraft {
            subject: Some(subject.into()),
            effect: Some(effect.into()),
            from: Some(start.plus_seconds(3_600).to_string()),
            ..Default::default()
        }
        .validate(start)
        .map_err(evac_app::AppError::Invalid)?;
        app.set_status_as(&staff, &statement).await?;
    }
    let people = app.store().intake_counts().await?.persons;
    let flights = (people as u32).div_ceil(FLIGHT_SEATS) + 2;
    for i in 0..flights {
        let draft = TransportDraft {
            code: Some(format!("B{i}")),
            hub: Some(if i % 2 == 0 { "ALA" } else { "NQZ" }.into()),
            destination: Some("Moscow".into()),
            departs_at: Some(start.plus_seconds((40 + i64::from(i)) * 3_600).to_string()),
            seats: Some(FLIGHT_SEATS.to_string()),
            ..Default::default()
        };
        app.add_transport(&staff, &draft).await?;
    }
    let at = start.plus_seconds(30 * 3_600);
    let started = Instant::now();
    app.run_plan(&staff, at).await?;
    let preview_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let published = app.publish_plan(&staff, at).await?;
    let publish_s = started.elapsed().as_secs_f64();
    let queued: u64 = app
        .store()
        .message_counts()
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum();
    let started = Instant::now();
    let senders = app.start_senders()?;
    loop {
        let counts = app.store().message_counts().await?;
        let open: u64 = counts
            .iter()
            .filter(|(s, _)| matches!(s, MessageState::Queued | MessageState::Sending))
            .map(|(_, n)| n)
            .sum();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_s = started.elapsed().as_secs_f64();
    drop(senders);
    // The newest notices (a page: the store bounds it), which waited longest behind the rest.
    let mut latencies: Vec<i64> = app
        .store()
        .messages(&MessageFilter::default(), evac_store::PAGE_ITEMS_MAX)
        .await?
        .iter()
        .filter_map(|m| Some(m.sent_at?.unix_micros() - m.created_at.unix_micros()))
        .collect();
    latencies.sort_unstable();
    let at_share = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |&us| us as f64 / 1_000.0)
    };
    eprintln!(
        "round {round}: {loaded} requests, {} people seated, {queued} notices, preview {preview_s:.2} s, publish {publish_s:.2} s, drain {drain_s:.2} s",
        published.people_seated
    );
    Ok(Round {
        people: published.people_seated,
        notices: queued,
        preview_s,
        publish_s,
        drain_s,
        p50_ms: at_share(0.5),
        p99_ms: at_share(0.99),
    })
}
