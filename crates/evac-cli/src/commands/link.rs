//! `evac link FILE --mapping M.toml --out DIR`: deduplicate a spreadsheet that has nothing to
//! do with evac's store (an NGO's list, a parliament office's list), or, with
//! `--against-store`, link it against the master list of stored requests.
//!
//! Writes `DIR/clusters.csv` (`record_id,person_id,household_id`: a person or household is named
//! by its first record, or by the stored person's id when it matched the store),
//! `DIR/pairs.csv` (`record_id_a,record_id_b,match_probability,band,explanation`, pairs at or
//! above the review threshold, each with its per-field weights) and, when some cells could not be read, `DIR/problems.csv`; prints a summary.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use evac_app::ExportActor;
use evac_exchange::link_file::{LinkMapping, read_link_file};
use evac_link::sources::records_of_request;
use evac_link::{Band, Settings, link};
use evac_store::RequestFilter;

use crate::config::Config;

/// Prefix of stored records' ids in a linkage against the store (file ids cannot clash).
const STORE_PREFIX: &str = "store:";
const FILE_PREFIX: &str = "file:";

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// A .csv or .xlsx file; one person a row
    pub file: PathBuf,
    /// A TOML file naming the column(s) of each field (see `evac_exchange::link_file`)
    #[arg(long)]
    pub mapping: PathBuf,
    /// Directory for clusters.csv, pairs.csv and problems.csv (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Link the file against the requests in the store (the master list) instead of only
    /// within itself
    #[arg(long)]
    pub against_store: bool,
}

pub async fn run(config: &Config, args: LinkArgs) -> anyhow::Result<()> {
    let mapping_text = std::fs::read_to_string(&args.mapping)
        .with_context(|| format!("cannot read the mapping {}", args.mapping.display()))?;
    let mapping = LinkMapping::from_toml(&mapping_text)
        .with_context(|| format!("in {}", args.mapping.display()))?;
    let file = read_link_file(&args.file, &mapping)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;

    let file_records = file.records.len();
    let mut records = file.records;
    let mut stored_records = 0;
    if args.against_store {
        for r in &mut records {
            r.record_id = format!("{FILE_PREFIX}{}", r.record_id);
            r.group = r.group.take().map(|g| format!("{FILE_PREFIX}{g}"));
        }
        let app = super::app(config, false).await?;
        let mut cursor = app
            .begin_export(ExportActor::ServerConsole, RequestFilter::default(), "link")
            .await?;
        while let Some(page) = cursor.next_page().await? {
            for stored in page {
                for mut r in records_of_request(&stored.request) {
                    r.record_id = format!("{STORE_PREFIX}{}", r.record_id);
                    r.group = r.group.map(|g| format!("{STORE_PREFIX}{g}"));
                    records.push(r);
                    stored_records += 1;
                }
            }
        }
    }
    let linkage = tokio::task::spawn_blocking(move || link(records, &Settings::default()))
        .await
        .context("linkage stopped")??;

    // A cluster's name: a stored person's id when it has one, else its first record's id.
    let shown = |id: &str| -> String {
        id.strip_prefix(STORE_PREFIX)
            .or_else(|| id.strip_prefix(FILE_PREFIX))
            .unwrap_or(id)
            .to_string()
    };
    let mut cluster_name: HashMap<u32, String> = HashMap::new();
    for (i, id) in linkage.record_ids.iter().enumerate() {
        let cluster = linkage.person[i];
        let entry = cluster_name.entry(cluster).or_insert_with(|| id.clone());
        if id.starts_with(STORE_PREFIX) && !entry.starts_with(STORE_PREFIX) {
            *entry = id.clone();
        }
    }
    let is_file_record = |id: &str| !id.starts_with(STORE_PREFIX);
    let mut clusters = csv::Writer::from_path(args.out.join("clusters.csv"))?;
    clusters.write_record(["record_id", "person_id", "household_id"])?;
    let mut persons = std::collections::HashSet::new();
    let mut households = std::collections::HashSet::new();
    let mut matched_store = 0;
    for (i, id) in linkage.record_ids.iter().enumerate() {
        if !is_file_record(id) {
            continue;
        }
        let person = &cluster_name[&linkage.person[i]];
        matched_store += usize::from(person.starts_with(STORE_PREFIX));
        let household = &linkage.record_ids[linkage.household[i] as usize];
        persons.insert(person.clone());
        households.insert(household.clone());
        clusters.write_record([shown(id), shown(person), shown(household)])?;
    }
    clusters.flush()?;

    let mut pairs = csv::Writer::from_path(args.out.join("pairs.csv"))?;
    pairs.write_record([
        "record_id_a",
        "record_id_b",
        "match_probability",
        "band",
        "explanation",
    ])?;
    let mut by_band: HashMap<Band, usize> = HashMap::new();
    for p in &linkage.pairs {
        let (a, b) = (
            &linkage.record_ids[p.a as usize],
            &linkage.record_ids[p.b as usize],
        );
        if !is_file_record(a) && !is_file_record(b) {
            continue;
        }
        *by_band.entry(p.band).or_default() += 1;
        pairs.write_record([
            shown(a),
            shown(b),
            format!("{:.4}", p.match_probability),
            p.band.as_str().to_string(),
            explanation(&linkage.explain(p.a, p.b)),
        ])?;
    }
    pairs.flush()?;

    if !file.problems.is_empty() {
        let mut problems = csv::Writer::from_path(args.out.join("problems.csv"))?;
        problems.write_record(["row", "column", "problem"])?;
        for p in &file.problems {
            problems.write_record([p.row.to_string(), p.column.clone(), p.reason.clone()])?;
        }
        problems.flush()?;
    }

    println!(
        "{} rows read, {} linked, {} skipped",
        file.rows, file_records, file.rows_skipped
    );
    if args.against_store {
        println!(
            "against {stored_records} stored person records: {matched_store} file records matched a stored person"
        );
    }
    println!(
        "{} persons and {} households among the file's records ({} records were duplicates)",
        persons.len(),
        households.len(),
        file_records - persons.len().min(file_records)
    );
    println!(
        "pairs: {} auto-merged, {} for review",
        by_band.get(&Band::AutoMerge).copied().unwrap_or(0),
        by_band.get(&Band::Review).copied().unwrap_or(0)
    );
    println!("written: {}", args.out.join("clusters.csv").display());
    println!("written: {}", args.out.join("pairs.csv").display());
    if !file.problems.is_empty() {
        println!(
            "{} cells or rows could not be read: see {}",
            file.problems.len(),
            args.out.join("problems.csv").display()
        );
    }
    Ok(())
}

/// A score as one line a case officer can read: each compared field, its level and its weight
/// in bits (positive for the same person).
fn explanation(score: &evac_link::Score) -> String {
    let mut parts: Vec<String> = score
        .fields
        .iter()
        .filter(|f| f.level != "missing")
        .map(|f| format!("{} {} {:+.1}", f.field.name(), f.level, f.weight))
        .collect();
    if score.names_swapped {
        parts.push("(given name and surname swapped)".into());
    }
    parts.join("; ")
}
