//! `evac bench manifest`: rendering a transport's manifest (PDF, with CSV as the baseline
//! measured in the same run) and its boarding passes (PDF with a QR code each).
//!
//! Passengers come from the demo generator's parties (names as written in Cyrillic, Kazakh and
//! Latin, with their ICAO 9303 Latin form), so the PDF shapes and subsets the same scripts a
//! real manifest has.

use std::time::Instant;

use clap::Args;
use evac_demo::{Scenario, generate};
use evac_exchange::manifest::{ManifestFormat, ManifestRow, PrintedPass, manifest, passes_pdf};
use evac_model::{
    Timestamp, Transport, TransportId, TransportKind, TransportStatus, to_icao_latin,
};

#[derive(Debug, Args)]
pub struct ManifestBenchArgs {
    #[arg(long, default_value_t = 300)]
    pub passengers: usize,
    /// Timed rounds (the median is reported)
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn passengers(n: usize, seed: u64) -> Vec<ManifestRow> {
    let mut rows = Vec::with_capacity(n);
    for g in generate(Scenario::january_2022(n, seed)) {
        for p in g.draft.party {
            if rows.len() == n {
                return rows;
            }
            let surname = p.surname.unwrap_or_default();
            let given = p.given_names.unwrap_or_default();
            rows.push(ManifestRow {
                order: rows.len() as u32 + 1,
                seat: Some(rows.len() as u32 + 1),
                surname_latin: to_icao_latin(&surname),
                given_names_latin: to_icao_latin(&given),
                surname,
                given_names: given,
                birth_date: p.birth_date.unwrap_or_default(),
                sex: p.sex.unwrap_or_default(),
                nationality: p.citizenship.unwrap_or_default(),
                document_type: p.document_type.unwrap_or_default(),
                document_number: p.document_number.unwrap_or_default(),
                document_expiry: String::new(),
                document_issuing_state: String::new(),
                household: format!("{:09}", rows.len() / 3),
                class: (rows.len() % 4) as u8 + 1,
                escort: String::new(),
                needs: p.needs.join(", "),
                state: "seated".into(),
            });
        }
    }
    rows
}

pub fn run(args: ManifestBenchArgs) -> anyhow::Result<()> {
    let rows = passengers(args.passengers, args.seed);
    let transport = Transport {
        id: TransportId::new_v7(),
        code: "KC-7042".into(),
        kind: TransportKind::Flight,
        hub: "NQZ".into(),
        destination: "Москва Чкаловский".into(),
        departs_at: Timestamp::now(),
        seats: rows.len() as u32,
        stretcher_places: 4,
        wheelchair_places: 4,
        escorts: 4,
        status: TransportStatus::Confirmed,
        payload_kg: None,
        baggage_kg_per_person: None,
        carries_citizens_of: Vec::new(),
        lands_in: None,
        military: false,
        feeds: None,
    };
    let passes: Vec<PrintedPass> = rows
        .iter()
        .map(|r| PrintedPass {
            name: format!("{} {}", r.surname, r.given_names),
            seat: r.seat,
            household: r.household.clone(),
            // A real token's length: prefix, ~150 characters of claims, an 86-character signature.
            token: format!("EVAC1.{}.{}", "A".repeat(150), "B".repeat(86)),
        })
        .collect();
    // One untimed run: the fonts are parsed once per process.
    manifest(&transport, &rows, ManifestFormat::Pdf)?;
    let (mut csv, mut pdf, mut xlsx, mut pass) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut sizes = (0, 0, 0);
    for _ in 0..args.rounds {
        let started = Instant::now();
        let bytes = manifest(&transport, &rows, ManifestFormat::Csv)?;
        csv.push(started.elapsed().as_secs_f64());
        sizes.0 = bytes.len();
        let started = Instant::now();
        manifest(&transport, &rows, ManifestFormat::Xlsx)?;
        xlsx.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let bytes = manifest(&transport, &rows, ManifestFormat::Pdf)?;
        pdf.push(started.elapsed().as_secs_f64());
        sizes.1 = bytes.len();
        let started = Instant::now();
        let bytes = passes_pdf(&transport, &passes)?;
        pass.push(started.elapsed().as_secs_f64());
        sizes.2 = bytes.len();
    }
    let ms = |v: Vec<f64>| super::median(v) * 1e3;
    println!(
        "manifest of {} passengers, median of {} rounds:",
        rows.len(),
        args.rounds
    );
    println!("  CSV (baseline)  {:8.2} ms  {:>8} bytes", ms(csv), sizes.0);
    println!("  XLSX            {:8.2} ms", ms(xlsx));
    println!(
        "  PDF             {:8.2} ms  {:>8} bytes  (goal: at most 1,000 ms)",
        ms(pdf),
        sizes.1
    );
    println!(
        "  passes PDF (QR) {:8.2} ms  {:>8} bytes",
        ms(pass),
        sizes.2
    );
    Ok(())
}
