//! `evac place …`: the gazetteer from the command line.

use clap::Subcommand;
use evac_geo::{Gazetteer, TravelModel};

#[derive(Debug, Subcommand)]
pub enum PlaceCommand {
    /// Resolve a free-text location in any script ("Алма-Ата", "Almaty, Hotel Kazakhstan")
    /// to a place with a confidence, listing the candidates when it is ambiguous.
    Resolve {
        text: String,
        /// Also list airports within this many kilometres, with road time estimates
        #[arg(long, default_value_t = 0.0)]
        airports_within_km: f64,
        /// Show names as they were on this day (YYYY-MM-DD), e.g. 2022-01-06 for Nur-Sultan
        #[arg(long)]
        on: Option<String>,
        /// The country the location is in (ISO code, e.g. KZ): a name shared with towns abroad
        /// means the town in this country
        #[arg(long)]
        country: Option<String>,
    },
    /// List the places a text file (a report, a press article) mentions: countries, towns, and
    /// airports announced by an airport word.
    Mentions { file: std::path::PathBuf },
}

pub fn run(command: PlaceCommand) -> anyhow::Result<()> {
    let gazetteer = Gazetteer::shipped();
    match command {
        PlaceCommand::Mentions { file } => {
            use anyhow::Context;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {} (a UTF-8 text file)", file.display()))?;
            for m in gazetteer.mentions(&text) {
                println!(
                    "{} [{}] {} times, as \"{}\"",
                    m.place.name, m.place.id, m.count, m.words
                );
            }
        }
        PlaceCommand::Resolve {
            text,
            airports_within_km,
            on,
            country,
        } => {
            let country = country
                .map(|c| c.trim().parse::<evac_model::CountryCode>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--country: {e}"))?;
            let describe = |c: &evac_geo::Candidate| match &on {
                None => describe(c),
                Some(day) => {
                    let mut then = c.clone();
                    (then.place.name, then.place.name_ru) = Gazetteer::names_on(&c.place, day);
                    describe(&then)
                }
            };
            let resolution = gazetteer.resolve_in(&text, country.as_ref().map(|c| c.as_str()));
            let Some(best) = &resolution.place else {
                if resolution.candidates.is_empty() {
                    anyhow::bail!(
                        "'{text}' names no place the gazetteer knows; try the town's name alone"
                    );
                }
                println!(
                    "'{text}' is ambiguous: {}",
                    resolution
                        .reason
                        .as_deref()
                        .unwrap_or("several places match")
                );
                println!("candidates:");
                for c in &resolution.candidates {
                    println!("  {}", describe(c));
                }
                return Ok(());
            };
            println!("{}", describe(best));
            if let Some(reason) = &resolution.reason {
                println!("({reason})");
            }
            if resolution.candidates.len() > 1 {
                println!("other candidates:");
                for c in &resolution.candidates[1..] {
                    println!("  {}", describe(c));
                }
            }
            if airports_within_km > 0.0 {
                let travel = TravelModel::default();
                for (airport, km) in gazetteer.airports_near(&best.place, airports_within_km) {
                    println!(
                        "  airport {} ({}): {km:.0} km, about {:.0} min by road",
                        airport.name,
                        airport.id,
                        travel.minutes(&best.place, airport)
                    );
                }
            }
        }
    }
    Ok(())
}

fn describe(c: &evac_geo::Candidate) -> String {
    let p = &c.place;
    format!(
        "{} [{}] {}{}{} ({:.4}, {:.4}) confidence {:.2} ({} \"{}\")",
        p.name,
        p.id,
        p.name_ru
            .as_deref()
            .map(|r| format!("/ {r} "))
            .unwrap_or_default(),
        p.region
            .as_deref()
            .map(|r| format!("{r}, "))
            .unwrap_or_default(),
        p.country,
        p.lat,
        p.lon,
        c.confidence,
        c.how,
        c.matched
    )
}
