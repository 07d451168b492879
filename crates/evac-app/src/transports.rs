//! Transports: planners add flights, buses, trains and convoys and move them through their
//! status; everyone who reads the situation sees them. Every change is audited.

use evac_model::{
    FieldError, Permission, Timestamp, Transport, TransportDraft, TransportId, TransportStatus,
};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

impl App {
    /// Adds a transport from its draft (the API's JSON, the desk's form, the console's flags:
    /// one door), under a new id: every problem of its fields and an unknown hub, at once.
    pub async fn add_transport(
        &self,
        staff: &Staff,
        draft: &TransportDraft,
    ) -> Result<Transport, AppError> {
        staff.require(Permission::PlanTransports)?;
        let checked = draft.validate(TransportId::new_v7());
        let hub = draft
            .hub
            .as_deref()
            .map(|h| h.trim().to_ascii_uppercase())
            .unwrap_or_default();
        let mut problems = checked.as_ref().err().cloned().unwrap_or_default();
        let hub_named = !hub.is_empty() && !problems.iter().any(|p| p.path == "hub");
        if hub_named && !self.store.hubs().await?.iter().any(|h| h.code == hub) {
            problems.push(FieldError {
                path: "hub".into(),
                reason: format!("no hub has the code '{hub}'; add the hub first"),
            });
        }
        match checked {
            Ok(transport) if problems.is_empty() => {
                self.store_transport(staff, &transport, "transport.upsert")
                    .await?;
                Ok(transport)
            }
            _ => Err(AppError::Invalid(problems)),
        }
    }

    async fn store_transport(
        &self,
        staff: &Staff,
        transport: &Transport,
        action: &str,
    ) -> Result<(), AppError> {
        let audit = AuditEvent {
            at: Timestamp::now(),
            actor: staff.actor(),
            action: action.into(),
            subject: Some(transport.id.to_string()),
            detail: serde_json::json!({ "status": transport.status.as_str(), "seats": transport.seats }),
        };
        Ok(self.store.upsert_transport(transport, audit).await?)
    }

    /// Every transport, earliest departure first.
    pub async fn transports(&self, staff: &Staff) -> Result<Vec<Transport>, AppError> {
        staff.require(Permission::ReadSituation)?;
        Ok(self.store.transports().await?)
    }

    /// Moves a transport to a new status; a departed or cancelled one stays so.
    pub async fn set_transport_status(
        &self,
        staff: &Staff,
        id: TransportId,
        status: TransportStatus,
    ) -> Result<Transport, AppError> {
        staff.require(Permission::PlanTransports)?;
        let mut transport = self
            .store
            .transports()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| AppError::NotFound(format!("transport {id}")))?;
        if !transport.takes_people() && transport.status != status {
            return Err(AppError::Conflict(format!(
                "transport {} is {}; it cannot become {status}",
                transport.code, transport.status
            )));
        }
        transport.status = status;
        self.store_transport(staff, &transport, "transport.status")
            .await?;
        Ok(transport)
    }
}
