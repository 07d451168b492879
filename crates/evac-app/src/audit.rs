//! The audit trail's integrity (issue 26, item 5): a sealer on every node links new events into
//! the hash chain (`evac_store::audit_chain`) every second, and a verification walks the chain,
//! optionally through a head recorded earlier, and is itself audited.

use std::time::Duration;

use evac_model::{FieldError, Permission, Timestamp};
use evac_store::AuditEvent;
use evac_store::audit_chain::{AuditVerdict, ChainLink, verify_store};

use crate::{App, AppError, Staff};

/// How often a node seals what was written since (milliseconds).
pub const SEAL_INTERVAL_MS: u64 = 1_000;
/// Events sealed per transaction: a seal holds PostgreSQL's chain lock, which makes new audit
/// writers wait, for one batch at a time.
const SEAL_BATCH_EVENTS: u32 = 5_000;

/// The running sealer; it stops when dropped.
pub struct AuditSealer {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AuditSealer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    /// Seals every event written so far; how many.
    pub async fn seal_audit(&self) -> Result<u64, AppError> {
        let mut sealed = 0;
        loop {
            let n = self.store.seal_audit(SEAL_BATCH_EVENTS).await?;
            sealed += u64::from(n);
            if n < SEAL_BATCH_EVENTS {
                return Ok(sealed);
            }
        }
    }

    /// Seals every [`SEAL_INTERVAL_MS`] until the returned guard is dropped. Sealers on
    /// several nodes take turns under the store's lock.
    pub fn start_audit_sealer(&self) -> AuditSealer {
        let app = self.clone();
        AuditSealer {
            task: tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(SEAL_INTERVAL_MS));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let Err(e) = app.seal_audit().await {
                        tracing::warn!(error = %e, "sealing the audit trail failed; trying again");
                    }
                }
            }),
        }
    }

    /// The chain's head after sealing what was written so far, to record elsewhere.
    pub async fn audit_head(&self, staff: &Staff) -> Result<Option<ChainLink>, AppError> {
        staff.require(Permission::ReadAudit)?;
        self.seal_audit().await?;
        Ok(self.store.audit_chain_head().await?)
    }

    /// Seals what was written so far, then walks the whole chain (through `recorded_head`,
    /// `pos:hex`, if given). The verification and its outcome join the trail.
    pub async fn verify_audit(
        &self,
        staff: &Staff,
        recorded_head: Option<&str>,
    ) -> Result<AuditVerdict, AppError> {
        staff.require(Permission::ReadAudit)?;
        let recorded = recorded_head
            .map(|text| {
                evac_store::audit_chain::parse_head(text).ok_or_else(|| {
                    AppError::Invalid(vec![FieldError {
                        path: "head".into(),
                        reason: format!(
                            "{text} is not a recorded head; give it as `evac audit head` printed it (position:64 hex digits)", text = evac_model::quoted(&text)),
                    }])
                })
            })
            .transpose()?;
        self.seal_audit().await?;
        let verdict = verify_store(self.store.as_ref(), recorded).await?;
        self.store
            .append_audit(vec![AuditEvent {
                at: Timestamp::now(),
                actor: staff.actor(),
                action: "audit.verify".into(),
                subject: None,
                detail: serde_json::json!({
                    "head": verdict.head.map(|h| h.label()),
                    "recorded_head": recorded_head,
                    "broken": verdict.broken.as_ref().map(|b| b.to_string()),
                }),
            }])
            .await?;
        Ok(verdict)
    }
}
