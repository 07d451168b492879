//! `evac generate --out DIR`: the demo crisis as files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use evac_demo::{Generated, Scenario, generate};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write into (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Number of requests
    #[arg(long, default_value_t = 2_000)]
    pub requests: usize,
    /// Seed: the same seed always gives the same crisis
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
}

/// Columns of requests.csv: one person a row, a request's rows together under one `group`;
/// the headers are ones `evac import` recognises without a mapping.
const CSV_HEADERS: [&str; 18] = [
    "group",
    "id",
    "received",
    "surname",
    "given names",
    "patronymic",
    "birth date",
    "age",
    "sex",
    "citizenship",
    "document number",
    "phone",
    "needs",
    "relation",
    "location",
    "country",
    "situation",
    "submitter phone",
];

/// Generated requests as an importable CSV (with a BOM, so Excel shows Cyrillic).
pub struct ImportableCsv<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> ImportableCsv<W> {
    pub fn new(mut out: W) -> anyhow::Result<Self> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CSV_HEADERS)?;
        Ok(ImportableCsv { csv })
    }

    /// Writes one request, a row per person; returns the rows written.
    pub fn write(&mut self, g: &Generated) -> anyhow::Result<usize> {
        let d = &g.draft;
        let received = g.received_at.to_string();
        for (i, p) in d.party.iter().enumerate() {
            // Request-level columns go on the first row of the group only, as people fill them in.
            let first = |value: Option<&str>| {
                if i == 0 {
                    value.unwrap_or("").to_string()
                } else {
                    String::new()
                }
            };
            let age = p.age_years.map(|a| a.to_string()).unwrap_or_default();
            self.csv.write_record([
                g.record_id.as_str(),
                g.record_id.as_str(),
                &received,
                p.surname.as_deref().unwrap_or(""),
                p.given_names.as_deref().unwrap_or(""),
                p.patronymic.as_deref().unwrap_or(""),
                p.birth_date.as_deref().unwrap_or(""),
                &age,
                p.sex.as_deref().unwrap_or(""),
                p.citizenship.as_deref().unwrap_or(""),
                p.document_number.as_deref().unwrap_or(""),
                p.phones.first().map(String::as_str).unwrap_or(""),
                &p.needs.join(", "),
                p.relation.as_deref().unwrap_or(""),
                &first(d.location.text.as_deref()),
                &first(d.location.country.as_deref()),
                &first(d.situation.as_deref()),
                &first(d.submitter.phones.first().map(String::as_str)),
            ])?;
        }
        Ok(d.party.len())
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        self.csv.flush()?;
        Ok(())
    }
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let create = |name: &str| -> anyhow::Result<BufWriter<File>> {
        let path = args.out.join(name);
        Ok(BufWriter::new(File::create(&path).with_context(|| {
            format!("cannot write {}", path.display())
        })?))
    };
    let mut jsonl = create("requests.jsonl")?;
    let mut csv = ImportableCsv::new(create("requests.csv")?)?;
    let mut truth = csv::Writer::from_writer(create("truth.csv")?);
    truth.write_record(["record_id", "party_index", "person_id", "household_id"])?;

    let bar = crate::progress::bar(args.requests as u64, "generating");
    for g in generate(Scenario::january_2022(args.requests, args.seed)) {
        serde_json::to_writer(&mut jsonl, &api_json(&g))?;
        jsonl.write_all(b"\n")?;
        csv.write(&g)?;
        for t in &g.truth {
            truth.serialize((&t.record_id, t.party_index, t.person_id, t.household_id))?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    csv.finish()?;
    truth.flush()?;
    jsonl.flush()?;
    println!(
        "wrote {n} requests to {dir}/requests.jsonl and {dir}/requests.csv, ground truth to {dir}/truth.csv",
        n = args.requests,
        dir = args.out.display()
    );
    Ok(())
}

/// The request as the API takes it (POST /api/v1/requests), plus when it arrived.
pub fn api_json(g: &Generated) -> serde_json::Value {
    let d = &g.draft;
    serde_json::json!({
        "received_at": g.received_at.to_string(),
        "request": {
            "channel": d.channel, "language": d.language,
            "submitter": { "name": d.submitter.name, "phones": d.submitter.phones },
            "location": { "text": d.location.text, "country": d.location.country, "lat": d.location.lat, "lon": d.location.lon, "accuracy_m": d.location.accuracy_m },
            "situation": d.situation, "urgency": d.urgency, "consent": d.consent, "external_ref": d.external_ref,
            "party": d.party.iter().map(|p| serde_json::json!({
                "surname": p.surname, "given_names": p.given_names, "patronymic": p.patronymic,
                "birth_date": p.birth_date, "age_years": p.age_years, "sex": p.sex, "citizenship": p.citizenship,
                "document": p.document_number.as_ref().map(|n| serde_json::json!({ "number": n })),
                "phones": p.phones, "needs": p.needs, "relation": p.relation,
            })).collect::<Vec<_>>(),
        }
    })
}
