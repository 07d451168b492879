//! Transports: planners add flights, buses, trains and convoys and move them through their
//! status; everyone who reads the situation sees them. Every change is audited.

use crate::{Refusal, RefusalArg, RefusalKind};
use evac_model::{
    FieldError, Permission, Timestamp, Transport, TransportDraft, TransportId, TransportStatus,
};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

/// Which transports a list shows, and in which order: the API's list and the planning page's
/// alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransportFilter {
    pub status: Option<TransportStatus>,
    /// A hub's code (`ALA`), in any case.
    pub hub: Option<String>,
    pub order: TransportOrder,
}

/// The orders of a transport list; each breaks ties by departure, then code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransportOrder {
    /// Earliest departure first.
    #[default]
    Departure,
    Code,
    Hub,
    /// Most seats first.
    Seats,
}

impl TransportOrder {
    pub const ALL: [TransportOrder; 4] = [
        TransportOrder::Departure,
        TransportOrder::Code,
        TransportOrder::Hub,
        TransportOrder::Seats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransportOrder::Departure => "departure",
            TransportOrder::Code => "code",
            TransportOrder::Hub => "hub",
            TransportOrder::Seats => "seats",
        }
    }

    pub fn parse(text: &str) -> Option<TransportOrder> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl TransportFilter {
    /// The transports this filter lets through, in its order.
    pub fn apply(&self, mut transports: Vec<Transport>) -> Vec<Transport> {
        transports.retain(|t| {
            self.status.is_none_or(|s| t.status == s)
                && self
                    .hub
                    .as_deref()
                    .is_none_or(|h| t.hub.eq_ignore_ascii_case(h.trim()))
        });
        let by_departure = |a: &Transport, b: &Transport| {
            a.departs_at
                .cmp(&b.departs_at)
                .then_with(|| a.code.cmp(&b.code))
        };
        transports.sort_by(|a, b| {
            match self.order {
                TransportOrder::Departure => std::cmp::Ordering::Equal,
                // As people read codes: `bus-0` beside `BUS-1`, not after `ZZ-1`.
                TransportOrder::Code => a.code.to_lowercase().cmp(&b.code.to_lowercase()),
                TransportOrder::Hub => a.hub.to_lowercase().cmp(&b.hub.to_lowercase()),
                TransportOrder::Seats => b.seats.cmp(&a.seats),
            }
            .then_with(|| by_departure(a, b))
        });
        transports
    }
}

impl App {
    /// The transports `filter` lets through, in its order, and how many there are in all.
    pub async fn transports_where(
        &self,
        staff: &Staff,
        filter: &TransportFilter,
    ) -> Result<(Vec<Transport>, usize), AppError> {
        let all = self.transports(staff).await?;
        // A hub nobody has entered is a typo, not an empty hub: say which hubs there are.
        if let Some(hub) = filter.hub.as_deref().map(str::trim) {
            let hubs = self.store.hubs().await?;
            if !hubs.iter().any(|h| h.code.eq_ignore_ascii_case(hub)) {
                let mut known: Vec<&str> = hubs.iter().map(|h| h.code.as_str()).collect();
                known.sort_unstable();
                return Err(AppError::Invalid(vec![FieldError {
                    path: "query.hub".into(),
                    reason: format!(
                        "no hub has the code {hub}; the hubs are {}",
                        if known.is_empty() {
                            "none yet".to_string()
                        } else {
                            known.join(", ")
                        },
                        hub = evac_model::quoted(&hub)
                    ),
                }]));
            }
        }
        let total = all.len();
        Ok((filter.apply(all), total))
    }

    /// Adds a transport from its draft (the API's JSON, the desk's form, the console's flags:
    /// one door), under a new id: every problem of its fields and an unknown hub, at once.
    pub async fn add_transport(
        &self,
        staff: &Staff,
        draft: &TransportDraft,
    ) -> Result<Transport, AppError> {
        staff.require(Permission::PlanTransports)?;
        let checked =
            draft.validate_in(TransportId::new_v7(), self.settings.desk_time_zone.clone());
        let hub = draft
            .hub
            .as_deref()
            .map(|h| h.trim().to_ascii_uppercase())
            .unwrap_or_default();
        let mut problems = checked.as_ref().err().cloned().unwrap_or_default();
        // The hub it leaves from, and the hub a feeder ends at, are hubs the cell knows.
        let feeds_hub = draft
            .feeds_hub
            .as_deref()
            .map(|h| h.trim().to_ascii_uppercase())
            .unwrap_or_default();
        let hubs = self.store.hubs().await?;
        for (path, code) in [("hub", &hub), ("feeds_hub", &feeds_hub)] {
            let named = !code.is_empty() && !problems.iter().any(|p| p.path == path);
            if named && !hubs.iter().any(|h| h.code == *code) {
                problems.push(FieldError {
                    path: path.into(),
                    reason: format!(
                        "no hub has the code {code}; add the hub first",
                        code = evac_model::quoted(&code)
                    ),
                });
            }
        }
        match checked {
            Ok(mut transport) if problems.is_empty() => {
                // One code leaving at one time is one transport: its id follows from them, so
                // a double submission (two clicks, two desks at once) stores one row, and the
                // second is told the transport exists rather than doubling its seats.
                transport.id = transport_id_of(&transport.code, transport.departs_at);
                if let Some(existing) = self
                    .store
                    .transports()
                    .await?
                    .into_iter()
                    .find(|t| t.id == transport.id)
                    && existing.status != evac_model::TransportStatus::Cancelled
                {
                    return Err(AppError::Conflict(
                        Refusal::new(
                            RefusalKind::TransportExists,
                            format!(
                                "{} leaving at {} exists already (submitted twice?); change it or cancel it instead",
                                existing.code,
                                self.shown_time(existing.departs_at)
                            ),
                        )
                        .text("code", &existing.code)
                        .text("departs", self.shown_time(existing.departs_at)),
                    ));
                }
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
    /// The transports a gate can serve (not departed or cancelled), earliest first: the
    /// check-in screen is bound to one of them.
    pub async fn gate_transports(&self, staff: &Staff) -> Result<Vec<Transport>, AppError> {
        staff.require(Permission::CheckIn)?;
        let mut transports: Vec<Transport> = self
            .store
            .transports()
            .await?
            .into_iter()
            .filter(Transport::takes_people)
            .collect();
        transports.sort_by_key(|t| (t.departs_at, t.code.clone()));
        Ok(transports)
    }

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
            return Err(AppError::Conflict(
                Refusal::new(
                    RefusalKind::TransportStatusFinal,
                    format!(
                        "transport {} is {}; it cannot become {status}",
                        transport.code, transport.status
                    ),
                )
                .text("code", &transport.code)
                .with("status", RefusalArg::TransportStatus(transport.status))
                .with("wanted", RefusalArg::TransportStatus(status)),
            ));
        }
        transport.status = status;
        self.store_transport(staff, &transport, "transport.status")
            .await?;
        Ok(transport)
    }
}

/// The id of the transport with `code` leaving at `departs_at`: the same for every submission
/// of it (a UUID drawn from their digest).
fn transport_id_of(code: &str, departs_at: evac_model::Timestamp) -> TransportId {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("transport:{code}:{}", departs_at.unix_micros()));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    TransportId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}
