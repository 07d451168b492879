//! `evac bench plan`: the planner's speed on a large instance, and its gap to the exact
//! optimum (the MIP solver) on small ones and on a tight one, in the same run.
//!
//! Instances are synthetic and seeded: hubs of Kazakhstan and its neighbours, transports
//! spread over three days, households of one to six in four priority classes (a tenth of them
//! children alone, some with stretchers or wheelchairs), each reaching one to three hubs. One
//! transport in `--feeder-every` is a convoy to the next hub, where its people take a flight
//! out: journeys of two legs compete with direct ones.

use std::time::Instant;

use clap::Args;
use evac_plan::{Case, Reach, Settings, Transport, better, exact, plan};
use rand::{Rng, SeedableRng};

#[derive(Debug, Args)]
pub struct PlanBenchArgs {
    #[arg(long, default_value_t = 100_000)]
    pub households: usize,
    #[arg(long, default_value_t = 1_000)]
    pub transports: usize,
    /// Random small instances compared with the exact optimum
    #[arg(long, default_value_t = 200)]
    pub small: usize,
    /// Households and flights of the tight instance (fewer seats than people)
    #[arg(long, default_value_t = 500)]
    pub tight_households: usize,
    #[arg(long, default_value_t = 20)]
    pub tight_flights: usize,
    /// Time limit of each class's MIP solve on the tight instance, milliseconds
    #[arg(long, default_value_t = 60_000)]
    pub tight_solve_time_ms_max: u64,
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Also write the tight instance and a mid-size one (with evac's plans) into this
    /// directory, for scripts/highs-check.sh to compare with HiGHS's optimum
    #[arg(long, value_name = "DIR")]
    pub export_instance: Option<std::path::PathBuf>,
    /// Households and transports of the mid-size exported instance
    #[arg(long, default_value_t = 2_000)]
    pub mid_households: usize,
    #[arg(long, default_value_t = 60)]
    pub mid_transports: usize,
    /// Also write this many more tight instances (seeds 200, 201, …: even seeds 500
    /// households and 20 flights of 30–80 seats, odd seeds 1,000 households and 40 flights of
    /// 30–100 seats), each with evac's plan, as `more-SEED.json`
    #[arg(long, default_value_t = 0, requires = "export_instance")]
    pub export_more: u64,
    /// One transport in this many is a convoy to the next hub (0: none, the instances before
    /// journeys had legs, for a baseline in the same run)
    #[arg(long, default_value_t = 10)]
    pub feeder_every: usize,
}

const HOUR: i64 = 3_600_000_000;
const START: i64 = 1_641_340_800_000_000;
const HUBS: [&str; 8] = ["ALA", "NQZ", "CIT", "KGF", "FRU", "TAS", "PWQ", "GUW"];

fn instance(
    seed: u64,
    households: usize,
    transports: usize,
    seats: (u32, u32),
    feeder_every: usize,
) -> (Vec<Transport>, Vec<Case>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let ts = (0..transports)
        .map(|i| Transport {
            id: format!("t{i}"),
            hub: HUBS[rng.random_range(0..HUBS.len())].into(),
            departs_at_us: START + rng.random_range(2..72) * HOUR,
            seats: rng.random_range(seats.0..=seats.1),
            stretcher_places: rng.random_range(0..4),
            wheelchair_places: rng.random_range(0..4),
            escorts: rng.random_range(0..3),
            usable: true,
            hub_open_at_departure: rng.random_bool(0.95),
            // Bound by seats, as the figures in docs/BENCHMARKS.md were measured.
            payload_kg: None,
            baggage_kg_per_person: 0,
            carries_citizens_of: Vec::new(),
            lands_in: None,
            feeds: None,
        })
        .collect::<Vec<_>>();
    // Convoys drawn from their own stream, so the rest of the instance is what it was before
    // journeys had legs.
    let mut legs = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x6c65_6773);
    let ts: Vec<Transport> = ts
        .into_iter()
        .enumerate()
        .map(|(i, mut t)| {
            if feeder_every > 0 && i % feeder_every == feeder_every - 1 {
                let next = (HUBS.iter().position(|h| *h == t.hub).unwrap_or(0) + 1) % HUBS.len();
                t.feeds = Some(evac_plan::Feed {
                    hub: HUBS[next].into(),
                    arrives_at_us: t.departs_at_us + legs.random_range(4..20) * HOUR,
                });
            }
            t
        })
        .collect();
    let cases = (0..households)
        .map(|i| {
            let people = rng.random_range(1..=6);
            let alone = rng.random_bool(0.1);
            let first = rng.random_range(0..HUBS.len());
            let reach = (0..rng.random_range(1..=3))
                .map(|k| Reach {
                    hub: HUBS[(first + k) % HUBS.len()].into(),
                    travel_minutes: rng.random_range(20..900),
                    open: Vec::new(),
                })
                .collect();
            Case {
                id: format!("h{i}"),
                people,
                class: if alone { 1 } else { rng.random_range(1..=4) },
                score: rng.random_range(0.0..72.0),
                stretchers: u32::from(rng.random_bool(0.02)),
                wheelchairs: u32::from(rng.random_bool(0.03)),
                unaccompanied_minors: if alone { people } else { 0 },
                escorts: u32::from(!alone && rng.random_bool(0.02)),
                mass_kg: people * 84,
                ready_at_us: START + rng.random_range(0..24) * HOUR,
                reach,
                not_eligible: None,
                citizenships: Vec::new(),
                destinations: Vec::new(),
            }
        })
        .collect();
    (ts, cases)
}

/// The median of `v` (NaN for none: `--small 0` runs no small instance).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The relative gap of `fast` below `best`, over the first class where they differ.
fn gap(fast: &[f64], best: &[f64]) -> f64 {
    fast.iter()
        .zip(best)
        .find(|(f, b)| (*f - *b).abs() > 1e-9 * (1.0 + b.abs()))
        .map_or(0.0, |(f, b)| ((b - f) / b.abs().max(1e-9)).max(0.0))
}

pub fn run(args: PlanBenchArgs) -> anyhow::Result<()> {
    let settings = Settings::default();
    println!("machine: {}; seed {}", super::machine(), args.seed);
    let never = || false;

    let (ts, cases) = instance(
        args.seed,
        args.households,
        args.transports,
        (50, 300),
        args.feeder_every,
    );
    let people: u32 = cases.iter().map(|c| c.people).sum();
    let seats: u32 = ts.iter().map(|t| t.seats).sum();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..args.rounds.max(1) {
        let t = Instant::now();
        last = Some(plan(&ts, &cases, settings, START, &never));
        times.push(t.elapsed().as_secs_f64());
    }
    let greedy_only = Settings {
        improvement_rounds_max: 0,
        ..settings
    };
    let t = Instant::now();
    let greedy = plan(&ts, &cases, greedy_only, START, &never);
    let greedy_s = t.elapsed().as_secs_f64();
    let p = last.expect("one round");
    evac_plan::check(&ts, &cases, settings, &p).map_err(anyhow::Error::msg)?;
    let seated: u32 = p
        .assigned
        .iter()
        .zip(&cases)
        .filter(|(a, _)| a.is_some())
        .map(|(_, c)| c.people)
        .sum();
    println!(
        "large: {} households ({people} people), {} transports ({seats} seats): {:.3} s (median of {}), {seated} people seated",
        cases.len(),
        ts.len(),
        median(times),
        args.rounds
    );
    println!(
        "  greedy alone (no improvement rounds): {greedy_s:.3} s; improvement {} the objective",
        if better(&p.value, &greedy.value) {
            "raised"
        } else {
            "did not change"
        }
    );

    let mut gaps = Vec::new();
    let mut exact_ms = Vec::new();
    for i in 0..args.small {
        let (ts, cases) = instance(args.seed * 1_000 + i as u64, 8, 3, (3, 10), 0);
        let fast = plan(&ts, &cases, settings, START, &never);
        let t = Instant::now();
        let best = exact::plan_exact(&ts, &cases, settings, START)?;
        exact_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if better(&fast.value, &best.value) {
            anyhow::bail!("instance {i}: the fast plan beats the exact one: the MIP is wrong");
        }
        gaps.push(gap(&fast.value, &best.value));
    }
    let optimal = gaps.iter().filter(|g| **g == 0.0).count();
    let worst = gaps.iter().copied().fold(0.0, f64::max);
    let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    println!(
        "small: {} instances of 8 households and 3 transports: optimal in {optimal}, mean gap {:.3} %, worst {:.3} %, within 0.5 % in {} (exact median {:.1} ms)",
        gaps.len(),
        mean * 100.0,
        worst * 100.0,
        gaps.iter().filter(|g| **g <= 0.005).count(),
        median(exact_ms)
    );

    let (ts, cases) = instance(
        args.seed + 99,
        args.tight_households,
        args.tight_flights,
        (30, 80),
        args.feeder_every,
    );
    let people: u32 = cases.iter().map(|c| c.people).sum();
    let seats: u32 = ts.iter().map(|t| t.seats).sum();
    let t = Instant::now();
    let fast = plan(&ts, &cases, settings, START, &never);
    let fast_s = t.elapsed().as_secs_f64();
    evac_plan::check(&ts, &cases, settings, &fast).map_err(anyhow::Error::msg)?;
    println!(
        "tight: {} households ({people} people), {} flights ({seats} seats)",
        cases.len(),
        ts.len()
    );
    let show = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!(
        "  evac:  {fast_s:.4} s, value by class {}",
        show(&fast.value)
    );
    let t = Instant::now();
    match exact::plan_exact_within(
        &ts,
        &cases,
        settings,
        START,
        Some(args.tight_solve_time_ms_max),
    ) {
        Ok(best) => {
            println!(
                "  MIP:   {:.2} s (each class's solve limited to {} ms), value by class {}; gap {:.3} %",
                t.elapsed().as_secs_f64(),
                args.tight_solve_time_ms_max,
                show(&best.value),
                gap(&fast.value, &best.value) * 100.0
            );
        }
        Err(e) => println!(
            "  MIP:   no plan after {:.2} s ({} ms per class): {e}",
            t.elapsed().as_secs_f64(),
            args.tight_solve_time_ms_max
        ),
    }
    let t = Instant::now();
    let bounds = exact::class_bounds(&ts, &cases, settings, START)?;
    let within: Vec<String> = fast
        .value
        .iter()
        .zip(&bounds)
        .map(|(f, b)| format!("{:.1} %", 100.0 * f / b.max(1e-9)))
        .collect();
    println!(
        "  LP bound per class (each class alone, households splittable): {} in {:.2} s; evac reaches {}",
        show(&bounds),
        t.elapsed().as_secs_f64(),
        within.join(" / ")
    );
    if let Some(dir) = &args.export_instance {
        std::fs::create_dir_all(dir)?;
        let (mid_ts, mid_cases) = instance(
            args.seed + 7,
            args.mid_households,
            args.mid_transports,
            (40, 160),
            args.feeder_every,
        );
        let mid = plan(&mid_ts, &mid_cases, settings, START, &never);
        let more: Vec<(String, Vec<Transport>, Vec<Case>)> = (200..200 + args.export_more)
            .map(|seed| {
                let (households, flights, seats) = if seed % 2 == 0 {
                    (500, 20, (30, 80))
                } else {
                    (1_000, 40, (30, 100))
                };
                let (ts, cases) = instance(seed, households, flights, seats, args.feeder_every);
                (format!("more-{seed}"), ts, cases)
            })
            .collect();
        let more_plans: Vec<_> = more
            .iter()
            .map(|(_, ts, cases)| plan(ts, cases, settings, START, &never))
            .collect();
        let named = [
            ("tight", &ts, &cases, &fast),
            ("mid", &mid_ts, &mid_cases, &mid),
        ]
        .into_iter()
        .chain(
            more.iter()
                .zip(&more_plans)
                .map(|((name, ts, cases), fast)| (name.as_str(), ts, cases, fast)),
        );
        for (name, ts, cases, fast) in named {
            let file = dir.join(format!("{name}.json"));
            let exported = evac_plan::instance::PlanInstance::new(ts, cases, settings, START, fast);
            let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
            serde_json::to_writer(&mut out, &exported)?;
            std::io::Write::flush(&mut out)?;
            println!(
                "exported {name}: {} households, {} transports, {} pairs to {}",
                cases.len(),
                ts.len(),
                exported.pairs.len(),
                file.display()
            );
        }
    }
    if let Some(mb) = super::peak_rss_mb() {
        println!("peak RSS {mb:.0} MB");
    }
    Ok(())
}
