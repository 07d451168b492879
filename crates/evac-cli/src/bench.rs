//! `evac bench …`: measurements that back the figures in docs/BENCHMARKS.md.

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {}

pub async fn run(_config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    match command {}
}
