//! Roles and what each may do. This table is the one place access rules live: the web layer
//! asks `role.allows(permission)` and nothing else decides.

use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    CaseOfficer,
    Planner,
    FieldOfficer,
    Supervisor,
    Auditor,
}

/// Something a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See requests and the people in them.
    ReadRequests,
    /// See how to reach people: phones, e-mail addresses, the submitter, their messages and
    /// calls. (A field officer at a gate needs none of it.)
    ReadContacts,
    /// See what people wrote of their situation and needs, medical ones included.
    ReadCaseNotes,
    /// Enter or change requests (phoned-in requests, corrections).
    WriteRequests,
    /// Download requests in bulk (CSV, JSONL, XLSX).
    ExportRequests,
    /// Create users and tokens.
    ManageUsers,
    /// Read the audit trail.
    ReadAudit,
    /// See hubs, routes and situation reports.
    ReadSituation,
    /// Verify identity and citizenship: mark people verified or ineligible.
    VerifyPeople,
    /// Decide whether two records are one person (the duplicate review queue), undo links.
    ReviewDuplicates,
    /// Ingest, grade, confirm and dismiss reports; add hubs, routes, zones and statements.
    EditSituation,
    /// Store a new version of the triage policy.
    ChangePolicy,
    /// Add transports and change their status; run and publish plans.
    PlanTransports,
    /// Read a transport's manifest and boarding passes.
    ReadManifests,
    /// Check passengers in and board them; release no-shows' seats to standby.
    CheckIn,
    /// Send a broadcast to a group of requesters.
    Broadcast,
    /// Answer a person's request for their data, and erase it.
    ProtectData,
    /// Give cases to other staff, or take them from whoever holds them (anyone who enters
    /// requests may take a case nobody holds, and give up their own).
    AssignCases,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Operator,
        Role::CaseOfficer,
        Role::Planner,
        Role::FieldOfficer,
        Role::Supervisor,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::CaseOfficer => "case_officer",
            Role::Planner => "planner",
            Role::FieldOfficer => "field_officer",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ReadRequests => matches!(
                self,
                Operator | CaseOfficer | Planner | FieldOfficer | Supervisor
            ),
            // Field-level access (issue 26): everyone who reads requests sees names, birth
            // dates, documents, places and seats; how to reach people and what they wrote of
            // their situation and health only those who act on it.
            ReadContacts | ReadCaseNotes => {
                matches!(self, Operator | CaseOfficer | Planner | Supervisor)
            }
            WriteRequests => matches!(self, Operator | CaseOfficer | Supervisor),
            ExportRequests => matches!(self, CaseOfficer | Planner | Supervisor),
            ManageUsers => matches!(self, Supervisor),
            // Auditors read the trail and nothing else; supervisors oversee it too.
            ReadAudit => matches!(self, Auditor | Supervisor),
            ReadSituation => !matches!(self, Auditor),
            ReviewDuplicates | VerifyPeople => matches!(self, CaseOfficer | Supervisor),
            EditSituation => matches!(self, Operator | Planner | Supervisor),
            ChangePolicy => matches!(self, Supervisor),
            PlanTransports => matches!(self, Planner | Supervisor),
            ReadManifests | CheckIn => matches!(self, Planner | FieldOfficer | Supervisor),
            // Telling a transport's passengers of a change, or a town what to do.
            Broadcast => matches!(self, Planner | Supervisor),
            ProtectData | AssignCases => matches!(self, Supervisor),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::Choice for Role {
    const WHAT: &'static str = "Role";

    fn parse_choice(s: &str) -> Option<Self> {
        Role::parse(s)
    }

    fn choices() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_read_only_the_trail() {
        assert!(Role::Auditor.allows(Permission::ReadAudit));
        assert!(!Role::Auditor.allows(Permission::ReadRequests));
        assert!(!Role::Auditor.allows(Permission::ExportRequests));
    }

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
