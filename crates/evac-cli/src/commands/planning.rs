//! `evac transport …` and `evac plan`: transports and planning from the server's console.

use clap::Subcommand;
use evac_model::{Choice, Timestamp, Transport, TransportId, TransportStatus};

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
        /// Kilograms of people and baggage it may lift (an Il-76 on a long leg); without it,
        /// seats are its only bound
        #[arg(long)]
        payload_kg: Option<u32>,
        /// Checked baggage each passenger may bring, in kilograms
        #[arg(long)]
        baggage_kg_per_person: Option<u32>,
        /// Whose citizens alone it carries, with their dependants ("RU,BY"); without it,
        /// whoever the policy seats
        #[arg(long)]
        carries_citizens_of: Option<String>,
        /// The country it lands in (RU), so households asking to be taken elsewhere are not
        /// seated on it; without it, it serves any destination
        #[arg(long)]
        lands_in: Option<String>,
        /// A military or state transport (an air force's or EMERCOM's): it may leave from a
        /// hub open to military transports alone
        #[arg(long)]
        military: bool,
        /// For a feeder (a convoy to another hub, where its people take a flight out planned
        /// with it as one journey): the hub it ends at
        #[arg(long, requires = "arrives_at")]
        feeds_hub: Option<String>,
        /// For a feeder: when it arrives at `--feeds-hub` (RFC 3339)
        #[arg(long)]
        arrives_at: Option<String>,
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
    /// Write the passenger manifest (CSV, XLSX or PDF) of a transport.
    Manifest {
        /// The transport's id or code
        transport: String,
        /// csv, xlsx or pdf
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Where to write it (default: manifest-CODE.FORMAT, with .age when encrypted)
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        sealing: crate::sealed::Sealing,
    },
    /// Print the boarding passes of a transport (PDF, six per page, with QR codes).
    Passes {
        /// The transport's id or code
        transport: String,
        /// Where to write it (default: passes-CODE.pdf, with .age when encrypted)
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        sealing: crate::sealed::Sealing,
    },
    /// At the call time: release the seats of everyone not checked in to standby households.
    NoShows {
        /// The transport's id or code
        transport: String,
        /// The call time (RFC 3339; default now)
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        who: Who,
    },
}

/// `evac pass …`: boarding passes at the gate.
#[derive(Debug, Subcommand)]
pub enum PassCommand {
    /// Verify a pass offline with the public key and show what it says (no database needed).
    Verify {
        token: String,
        /// The public key (`evac pass key` prints it)
        #[arg(long)]
        public_key: String,
    },
    /// Print the public keys that verify passes (newest first, comma-separated after a
    /// rotation; `pass verify --public-key` takes them so).
    Key {
        #[command(flatten)]
        who: Who,
    },
    /// Check a passenger in with the token of their pass (once).
    CheckIn {
        token: String,
        #[command(flatten)]
        who: Who,
    },
    /// Board a checked-in passenger.
    Board {
        token: String,
        #[command(flatten)]
        who: Who,
    },
}

/// How far `plan --publish --at` may be from the clock on a live database (seconds): a
/// planner's "now" typed by hand, not a replay.
const PUBLISH_CLOCK_SLACK_S: i64 = 300;

fn time_flag(flag: &str, text: Option<String>) -> anyhow::Result<Timestamp> {
    match text {
        None => Ok(Timestamp::now()),
        Some(t) => t.parse().map_err(|_| {
            anyhow::anyhow!("{flag} '{t}' is not an RFC 3339 time like 2022-01-06T08:00:00Z")
        }),
    }
}

/// A transport by id or code.
async fn find_transport(
    app: &evac_app::App,
    staff: &evac_app::Staff,
    text: &str,
) -> anyhow::Result<Transport> {
    app.transports(staff)
        .await?
        .into_iter()
        .find(|t| t.id.to_string() == text || t.code.eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no transport has the id or code '{text}'; `evac transport list` shows them"
            )
        })
}

pub async fn pass(config: &Config, command: PassCommand) -> anyhow::Result<()> {
    if let PassCommand::Verify { token, public_key } = &command {
        let claims = evac_model::verify_pass(public_key, token)?;
        println!(
            "valid pass {}: person {}, household {}, transport {}",
            claims.pass, claims.person, claims.household, claims.transport
        );
        return Ok(());
    }
    let app = super::app(config, false).await?;
    let board = matches!(command, PassCommand::Board { .. });
    match command {
        PassCommand::Verify { .. } => unreachable!("answered above without the store"),
        PassCommand::Key { who } => {
            let staff = app.console_staff(&who.user).await?;
            println!("{}", app.pass_public_key(&staff).await?);
        }
        PassCommand::CheckIn { token, who } | PassCommand::Board { token, who } => {
            let staff = app.console_staff(&who.user).await?;
            let now = Timestamp::now();
            let scanned = if board {
                app.board(&staff, &token, now).await?
            } else {
                app.check_in(&staff, &token, now).await?
            };
            println!(
                "{}: {} (born {}, document {}), household {}, {}",
                scanned.state,
                scanned.name,
                scanned.birth_date.as_deref().unwrap_or("?"),
                scanned.document.as_deref().unwrap_or("?"),
                scanned.household,
                scanned.transport_code
            );
        }
    }
    Ok(())
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
            payload_kg,
            baggage_kg_per_person,
            carries_citizens_of,
            lands_in,
            military,
            feeds_hub,
            arrives_at,
            who,
        } => {
            let staff = app.console_staff(&who.user).await?;
            // The same door as the API's and the desk's.
            let draft = evac_model::TransportDraft {
                code: Some(code),
                kind: Some(kind),
                hub: Some(hub),
                destination: Some(destination),
                departs_at: Some(departs_at),
                seats: Some(seats.to_string()),
                stretcher_places: Some(stretcher_places.to_string()),
                wheelchair_places: Some(wheelchair_places.to_string()),
                escorts: Some(escorts.to_string()),
                status: None,
                payload_kg: payload_kg.map(|kg| kg.to_string()),
                baggage_kg_per_person: baggage_kg_per_person.map(|kg| kg.to_string()),
                carries_citizens_of,
                lands_in,
                military: military.then(|| "yes".to_string()),
                feeds_hub,
                arrives_at,
            };
            let transport = app.add_transport(&staff, &draft).await?;
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
        TransportCommand::Manifest {
            transport,
            format,
            out,
            who,
            sealing,
        } => {
            let staff = app.console_staff(&who.user).await?;
            let t = find_transport(&app, &staff, &transport).await?;
            let format =
                evac_exchange::manifest::ManifestFormat::parse(&format).ok_or_else(|| {
                    anyhow::anyhow!("--format '{format}' is not one of: csv, xlsx, pdf")
                })?;
            let manifest = app.manifest(&staff, t.id).await?;
            let bytes =
                evac_exchange::manifest::manifest(&manifest.transport, &manifest.rows, format)?;
            let out = out.unwrap_or_else(|| {
                sealed_name(
                    format!("manifest-{}.{}", t.code, format.extension()),
                    &sealing,
                )
            });
            let sealer = sealing.prepare()?;
            sealer.write_all(super::private_file(&out)?, &bytes)?;
            println!(
                "{} passengers of {} → {}",
                manifest.rows.len(),
                t.code,
                out.display()
            );
        }
        TransportCommand::Passes {
            transport,
            out,
            who,
            sealing,
        } => {
            let staff = app.console_staff(&who.user).await?;
            let t = find_transport(&app, &staff, &transport).await?;
            let printed: Vec<evac_exchange::manifest::PrintedPass> = app
                .boarding_passes(&staff, t.id)
                .await?
                .into_iter()
                .map(|p| evac_exchange::manifest::PrintedPass {
                    name: p.name,
                    seat: p.seat_number,
                    household: p.household,
                    token: p.token,
                })
                .collect();
            let bytes = evac_exchange::manifest::passes_pdf(&t, &printed)?;
            let out =
                out.unwrap_or_else(|| sealed_name(format!("passes-{}.pdf", t.code), &sealing));
            let sealer = sealing.prepare()?;
            sealer.write_all(super::private_file(&out)?, &bytes)?;
            println!(
                "{} boarding passes of {} → {}",
                printed.len(),
                t.code,
                out.display()
            );
        }
        TransportCommand::NoShows { transport, at, who } => {
            let staff = app.console_staff(&who.user).await?;
            let t = find_transport(&app, &staff, &transport).await?;
            let at =
                evac_app::call_time_not_ahead("--at", time_flag("--at", at)?, Timestamp::now())?;
            let done = app.release_no_shows(&staff, t.id, at).await?;
            println!(
                "{}: {} seats released; {} standby households seated",
                done.transport_code,
                done.released,
                done.standby.len()
            );
            for s in &done.standby {
                println!("  {} ({} people)", s.household, s.people);
            }
            for h in &done.held_back {
                println!(
                    "  held back: {} ({} people): {}",
                    h.household, h.people, h.why
                );
            }
        }
    }
    Ok(())
}

/// `evac plan --as USER`: plans every household onto the stored transports now (a preview).
/// `evac plan --export-instance FILE`: the instance and evac's plan, as JSON.
pub async fn export_instance(
    config: &Config,
    who: Who,
    at: Option<String>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&who.user).await?;
    let at = time_flag("--at", at)?;
    let instance = app.plan_instance(&staff, at).await?;
    let out = std::fs::File::create(file)
        .map_err(|e| anyhow::anyhow!("--export-instance {}: {e}", file.display()))?;
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer(&mut out, &instance)?;
    std::io::Write::flush(&mut out)?;
    println!(
        "{}: {} households, {} transports, {} feasible pairs; evac's objective per class {:?}",
        file.display(),
        instance.cases.len(),
        instance.transports.len(),
        instance.pairs.len(),
        instance
            .evac_value
            .iter()
            .map(|v| (v * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    Ok(())
}

pub async fn plan(
    config: &Config,
    who: Who,
    waiting_shown: usize,
    publish: bool,
    at: Option<String>,
) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&who.user).await?;
    let back_dated = at.is_some();
    let at = time_flag("--at", at)?;
    let off_by_s = (at.unix_micros() - Timestamp::now().unix_micros()).abs() / 1_000_000;
    if publish && back_dated && off_by_s > PUBLISH_CLOCK_SLACK_S {
        if let Some((from, _)) = app.store().exercise().await? {
            eprintln!("exercise copy of {from}: publishing as of {at}");
        } else {
            anyhow::bail!(
                "publishing as of {at} would write seats, passes and audit events dated then into \
                 the live record; rehearse in an exercise copy: `evac exercise --to DIR`, then \
                 `evac --data-dir DIR plan --publish --at {at} …`"
            );
        }
    }
    if publish {
        let published = app.publish_plan(&staff, at).await?;
        println!(
            "published: {} households seated ({} people), {} passes issued; {} moved, {} gained a seat, {} lost one",
            published.households_seated,
            published.people_seated,
            published.passes_issued,
            published.moved.len(),
            published.gained.len(),
            published.lost.len()
        );
        for c in published.moved.iter().chain(&published.lost) {
            println!(
                "  {} ({} people): {} → {}: {}",
                c.household,
                c.people,
                c.from.as_deref().unwrap_or("-"),
                c.to.as_deref().unwrap_or("no seat"),
                c.why
            );
        }
        return Ok(());
    }
    let run = app.run_plan(&staff, at).await?;
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

/// A default file name, with `.age` when the file is encrypted.
fn sealed_name(name: String, sealing: &crate::sealed::Sealing) -> std::path::PathBuf {
    if sealing.encrypts() {
        format!("{name}.age").into()
    } else {
        name.into()
    }
}
