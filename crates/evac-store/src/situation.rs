//! The situation's stored rows as both backends read them: a report, a statement joined with
//! its report (a claim), a triage policy version. Each backend selects the columns in the
//! order of these structs' fields and converts with `into_*`, so the parsing and its error
//! messages live once.

use evac_model::{Claim, Grade, ReportMention, ReportState, Statement, Timestamp};

use crate::{StoreError, parse_id};

/// The columns of `reports`, in select order: id, received_at, source, grade, language, text,
/// state, mentions (JSON), external_id.
pub struct ReportRow {
    pub id: String,
    pub received_at: i64,
    pub source: String,
    pub grade: Option<String>,
    pub language: Option<String>,
    pub text: String,
    pub state: String,
    pub mentions: String,
    pub external_id: Option<String>,
}

/// The select list matching [`ReportRow`].
pub const REPORT_COLUMNS: &str =
    "id, received_at, source, grade, language, text, state, mentions, external_id";

impl ReportRow {
    pub fn into_report(self) -> Result<evac_model::Report, StoreError> {
        let id = self.id;
        let mentions: Vec<ReportMention> = serde_json::from_str(&self.mentions)
            .map_err(|e| StoreError::Corrupt(format!("report {id}: mentions: {e}")))?;
        Ok(evac_model::Report {
            received_at: Timestamp::from_unix_micros(self.received_at),
            source: self.source,
            grade: parse_grade(&id, self.grade)?,
            language: self.language,
            text: self.text,
            state: parse_state(&id, &self.state)?,
            mentions,
            external_id: self.external_id,
            id: parse_id("reports.id", &id)?,
        })
    }
}

/// The columns of a statement joined with its report, in select order.
pub struct ClaimRow {
    pub seq: i64,
    pub report: String,
    pub subject: String,
    pub effect: String,
    pub from_at: i64,
    pub until: Option<i64>,
    pub capacity_per_day: Option<i64>,
    pub note: String,
    pub source: String,
    pub grade: Option<String>,
    pub state: String,
    pub received_at: i64,
}

/// The select list matching [`ClaimRow`], over `statements s JOIN reports r`.
pub const CLAIM_COLUMNS: &str = "s.seq, s.report, s.subject, s.effect, s.from_at, s.until, \
     s.capacity_per_day, s.note, r.source, r.grade, r.state, r.received_at";

impl ClaimRow {
    pub fn into_claim(self) -> Result<Claim, StoreError> {
        let corrupt = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("statement {}: {what}: {e}", self.seq))
        };
        let statement = Statement {
            subject: self.subject.parse().map_err(|e| corrupt("subject", &e))?,
            effect: self.effect.parse().map_err(|e| corrupt("effect", &e))?,
            from: Timestamp::from_unix_micros(self.from_at),
            until: self.until.map(Timestamp::from_unix_micros),
            capacity_per_day: self
                .capacity_per_day
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt("capacity", &e))?,
            note: self.note,
        };
        Ok(Claim {
            seq: self.seq,
            grade: parse_grade(&self.report, self.grade)?,
            state: parse_state(&self.report, &self.state)?,
            report: parse_id("statements.report", &self.report)?,
            source: self.source,
            statement,
            received_at: Timestamp::from_unix_micros(self.received_at),
        })
    }
}

/// A stored version of the triage policy.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    pub version: i64,
    /// Empty in a listing of versions.
    pub toml: String,
    pub created_at: Timestamp,
    /// Who stored it, as an actor label (`user:ana`).
    pub author: String,
}

fn parse_grade(report: &str, grade: Option<String>) -> Result<Option<Grade>, StoreError> {
    grade
        .map(|g| {
            g.parse()
                .map_err(|e| StoreError::Corrupt(format!("report {report}: {e}")))
        })
        .transpose()
}

fn parse_state(report: &str, state: &str) -> Result<ReportState, StoreError> {
    ReportState::parse(state)
        .ok_or_else(|| StoreError::Corrupt(format!("report {report}: state '{state}'")))
}
