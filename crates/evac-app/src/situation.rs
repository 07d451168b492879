//! The situation picture as far as the foundation goes: hubs with their status over time, and
//! reports. Writes are recorded with their actor; reads need `ReadSituation`.

use evac_model::{Actor, Hub, HubStatusChange, Permission, Report, Timestamp};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

/// A hub with its status at a given time and the changes that led there.
#[derive(Debug, Clone, PartialEq)]
pub struct HubView {
    pub hub: Hub,
    /// The change in force at the time asked about, if any.
    pub current: Option<HubStatusChange>,
    pub history: Vec<HubStatusChange>,
}

impl App {
    pub async fn record_hub(&self, hub: &Hub) -> Result<(), AppError> {
        Ok(self.store.upsert_hub(hub).await?)
    }

    pub async fn record_hub_status(
        &self,
        actor: &Actor,
        change: &HubStatusChange,
    ) -> Result<(), AppError> {
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor: actor.clone(),
            action: "hub.status".into(),
            subject: Some(change.hub.clone()),
            detail: serde_json::json!({ "status": change.status.as_str() }),
        };
        Ok(self.store.append_hub_status(change, audit).await?)
    }

    pub async fn record_report(&self, actor: &Actor, report: &Report) -> Result<(), AppError> {
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor: actor.clone(),
            action: "report.create".into(),
            subject: Some(report.id.to_string()),
            detail: serde_json::json!({ "source": report.source }),
        };
        Ok(self.store.insert_report(report, audit).await?)
    }

    /// Every hub with its status at `at`: the latest change that has started and not ended.
    pub async fn hubs(&self, staff: &Staff, at: Timestamp) -> Result<Vec<HubView>, AppError> {
        staff.require(Permission::ReadSituation)?;
        let statuses = self.store.hub_statuses().await?;
        Ok(self
            .store
            .hubs()
            .await?
            .into_iter()
            .map(|hub| {
                let history: Vec<HubStatusChange> = statuses
                    .iter()
                    .filter(|s| s.hub == hub.code)
                    .cloned()
                    .collect();
                let current = history
                    .iter()
                    .rev()
                    .find(|s| s.from <= at && s.until.is_none_or(|u| at < u))
                    .cloned();
                HubView {
                    hub,
                    current,
                    history,
                }
            })
            .collect())
    }

    pub async fn reports(&self, staff: &Staff, limit: u32) -> Result<Vec<Report>, AppError> {
        staff.require(Permission::ReadSituation)?;
        Ok(self.store.reports(limit).await?)
    }
}
