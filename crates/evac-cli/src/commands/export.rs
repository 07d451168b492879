//! `evac export requests`: every request (or a filtered set) to a file or standard output.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use evac_app::{App, ExportActor};
use evac_exchange::export::{Exporter, Format};
use evac_store::RequestFilter;

use crate::config::Config;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    Requests,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Jsonl,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export
    pub what: What,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Add the HXL hashtag row under the headers
    #[arg(long)]
    pub hxl: bool,
    /// Write here instead of standard output (required for xlsx on a terminal)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only requests whose location matches (any script)
    #[arg(long)]
    pub place: Option<String>,
    #[command(flatten)]
    pub sealing: crate::sealed::Sealing,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Xlsx => Format::Xlsx,
        }
    }
}

/// Streams the export into `out`; returns the number of requests written, and `out`.
pub async fn export_to<W: Write>(
    app: &App,
    format: Format,
    hxl: bool,
    filter: RequestFilter,
    out: W,
) -> anyhow::Result<(u64, W)> {
    let mut cursor = app
        .begin_export(ExportActor::ServerConsole, filter, format.extension())
        .await?;
    let mut exporter = Exporter::new(format, out, hxl)?;
    let mut count = 0;
    while let Some(page) = cursor.next_page().await? {
        for stored in &page {
            exporter.write_request(&stored.request, &stored.statuses)?;
        }
        count += page.len() as u64;
    }
    let mut out = exporter.finish()?;
    out.flush()?;
    Ok((count, out))
}

pub async fn run(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let What::Requests = args.what;
    let app = super::app(config, false).await?;
    let filter = RequestFilter {
        place: args.place.clone(),
        ..Default::default()
    };
    let format = args.format.format();
    // Sealed (age) or clear, the export streams through one writer, finished at the end.
    let sealer = args.sealing.prepare()?;
    let count = match &args.out {
        Some(path) => {
            let file = super::private_file(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let out = sealer.wrap(std::io::BufWriter::with_capacity(1 << 20, file))?;
            let (count, out) = export_to(&app, format, args.hxl, filter, out).await?;
            out.finish()
                .with_context(|| format!("cannot write {}", path.display()))?;
            count
        }
        None => {
            use std::io::IsTerminal;
            if (matches!(format, Format::Xlsx) || args.sealing.encrypts())
                && std::io::stdout().is_terminal()
            {
                anyhow::bail!(
                    "an XLSX or encrypted file cannot be shown on a terminal; add --out FILE"
                );
            }
            let out = sealer.wrap(std::io::BufWriter::new(std::io::stdout().lock()))?;
            let (count, out) = export_to(&app, format, args.hxl, filter, out).await?;
            out.finish()?;
            count
        }
    };
    eprintln!("exported {count} requests");
    Ok(())
}
