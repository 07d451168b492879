//! Which case officer holds which request ("my cases").
//!
//! One row per assigned request. A change names the holder it expects (the one the officer's
//! page showed), and the store makes it only if that is still the holder, for every request
//! of the change at once: two officers taking the same household at once get it once, and the
//! second is told who has it.

use evac_model::{RequestId, Timestamp};

/// A request and the officer holding it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Assignment {
    pub request: RequestId,
    /// The holder's user id.
    pub officer: String,
    /// Who assigned it (an actor label, `user:…`).
    pub assigned_by: String,
    pub assigned_at: Timestamp,
}

/// A change of holder for some requests, made only if each still has the expected holder.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentChange {
    pub requests: Vec<RequestId>,
    /// The new holder's user id; `None` gives the requests up.
    pub officer: Option<String>,
    /// The holder each request must have now (`Some(None)`: nobody); `None` takes them
    /// whoever holds them.
    pub if_held_by: Option<Option<String>>,
    pub by: String,
    pub at: Timestamp,
}

/// Why an assignment was not made: a request has another holder than expected.
pub fn held_by_another(request: RequestId, holder: Option<&str>) -> crate::StoreError {
    crate::StoreError::Refused(match holder {
        Some(holder) => format!("request {request} is held by user:{holder} now"),
        None => format!("request {request} is held by nobody now"),
    })
}
