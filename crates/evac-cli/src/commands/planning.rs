//! `evac transport …` and `evac plan`: transports and planning from the server's console.

use clap::Subcommand;
use evac_model::{Choice, Timestamp, Transport, TransportId, TransportKind, TransportStatus};

use super::review::Who;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum TransportCommand {
    /// Add a flight, bus, train or convoy.
    Add {
        /// What staff call it (RF-7042, bus-3)
        code: String,
        /// flight, bus, train or convoy
        #[arg(long, default_value = "flight")]
        kind: String,
        /// The hub it leaves from (a hub code: NQZ)
        #[arg(long)]
        hub: String,
        #[arg(long)]
        destination: String,
        /// Departure (RFC 3339)
        #[arg(long)]
        departs_at: String,
        #[arg(long)]
        seats: u32,
        #[arg(long, default_value_t = 0)]
        stretcher_places: u32,
        #[arg(long, default_value_t = 0)]
        wheelchair_places: u32,
        /// Escorts on board for unaccompanied minors
        #[arg(long, default_value_t = 0)]
        escorts: u32,
        #[command(flatten)]
        who: Who,
    },
    /// Every transport, earliest departure first.
    List {
        #[command(flatten)]
        who: Who,
    },
    /// Move a transport to another status (confirmed, boarding, departed, cancelled).
    Status {
        id: String,
        status: String,
        #[command(flatten)]
        who: Who,
    },
}

fn word<T: Choice>(flag: &str, text: &str) -> anyhow::Result<T> {
    T::parse_choice(text)
        .ok_or_else(|| anyhow::anyhow!("{flag} '{text}' is not one of: {}", T::choices()))
}

pub async fn transport(config: &Config, command: TransportCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        TransportCommand::Add {
            code,
            kind,
            hub,
            destination,
            departs_at,
            seats,
            stretcher_places,
            wheelchair_places,
            escorts,
            who,
        } => {
            let staff = app.console_staff(&who.user).await?;
            let transport = Transport {
                id: TransportId::new_v7(),
                code,
                kind: word::<TransportKind>("--kind", &kind)?,
                hub,
                destination,
                departs_at: departs_at.parse().map_err(|_| {
                    anyhow::anyhow!("--departs-at '{departs_at}' is not an RFC 3339 time like 2022-01-07T06:00:00Z")
                })?,
                seats,
                stretcher_places,
                wheelchair_places,
                escorts,
                status: TransportStatus::Planned,
            };
            app.add_transport(&staff, &transport).await?;
            println!("added {transport} (id {})", transport.id);
        }
        TransportCommand::List { who } => {
            let staff = app.console_staff(&who.user).await?;
            for t in app.transports(&staff).await? {
                println!(
                    "{}  {:<10} {:<8} {} → {}  {}  {} seats ({} stretcher, {} wheelchair, {} escorts)",
                    t.id,
                    t.code,
                    t.kind,
                    t.hub,
                    t.destination,
                    t.departs_at,
                    t.seats,
                    t.stretcher_places,
                    t.wheelchair_places,
                    t.escorts
                );
                println!("      {}", t.status);
            }
        }
        TransportCommand::Status { id, status, who } => {
            let staff = app.console_staff(&who.user).await?;
            let id: TransportId = id.parse().map_err(|_| {
                anyhow::anyhow!("'{id}' is not a transport id; `evac transport list` shows them")
            })?;
            let t = app
                .set_transport_status(&staff, id, word::<TransportStatus>("status", &status)?)
                .await?;
            println!("{} is {}", t.code, t.status);
        }
    }
    Ok(())
}

/// `evac plan --as USER`: plans every household onto the stored transports now (a preview).
pub async fn plan(config: &Config, who: Who, waiting_shown: usize) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&who.user).await?;
    let run = app.run_plan(&staff, Timestamp::now()).await?;
    println!(
        "{} households: {} seated ({} people), {} waiting",
        run.households,
        run.seated.len(),
        run.seated_people,
        run.waiting.len()
    );
    let mut per_transport: std::collections::BTreeMap<&str, (usize, u32)> = Default::default();
    for s in &run.seated {
        let entry = per_transport.entry(s.transport_code.as_str()).or_default();
        entry.0 += 1;
        entry.1 += s.people;
    }
    for (code, (households, people)) in per_transport {
        println!("  {code}: {households} households, {people} people");
    }
    for w in run.waiting.iter().take(waiting_shown) {
        println!(
            "  waiting {} (class {}, {} people):",
            w.reference, w.class, w.people
        );
        for (code, why) in &w.why {
            println!("      {code}: {why}");
        }
    }
    Ok(())
}
