//! Transports: planners add flights, buses, trains and convoys and move them through their
//! status; everyone who reads the situation sees them. Every change is audited.

use evac_model::{FieldError, Permission, Timestamp, Transport, TransportId, TransportStatus};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

impl App {
    /// Adds a transport (or replaces one with the same id), after checking its fields and hub.
    pub async fn add_transport(
        &self,
        staff: &Staff,
        transport: &Transport,
    ) -> Result<(), AppError> {
        staff.require(Permission::PlanTransports)?;
        let mut problems = transport.problems();
        if !self
            .store
            .hubs()
            .await?
            .iter()
            .any(|h| h.code == transport.hub)
        {
            problems.push(FieldError {
                path: "hub".into(),
                reason: format!("no hub has the code '{}'; add the hub first", transport.hub),
            });
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        self.store_transport(staff, transport, "transport.upsert")
            .await
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
