//! Which claims about a hub, route or zone to trust, and what they add up to.
//!
//! A report states an effect on a hub or route (open, restricted, closed) or a zone (a threat
//! level) for a time window; a [`Claim`] is that statement with the report's grade. Planning
//! trusts a claim when an operator confirmed it, or when its Admiralty grade meets the
//! [`TrustPolicy`]'s threshold and nobody dismissed it. Trusted claims in force weigh by their
//! grade and fade with age (a half-life in hours); the status is the effect with the most
//! weight, and every trusted claim for another effect is returned beside it as a conflict,
//! never silently dropped. No trusted claim: the status is unknown, and the caller says so.
//! A claim older than the policy's `claim_hours_max` no longer decides anything, however
//! nothing newer contradicts it: a status nobody has reported for a week is unknown, with the
//! last claims kept beside it as history.

use crate::{Effect, Grade, ReportId, ReportState, Statement, Subject, Timestamp};

/// One report's statement about one subject, with what the report's grading says of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Claim {
    /// Its place in the store (claims are added, never edited).
    pub seq: i64,
    /// The report it comes from (an id staff can open).
    pub report: ReportId,
    pub source: String,
    #[serde(flatten)]
    pub statement: Statement,
    pub grade: Option<Grade>,
    pub state: ReportState,
    pub received_at: Timestamp,
}

/// When a claim counts, and how fast it fades.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TrustPolicy {
    /// Least reliable source trusted without confirmation: 'A' (only the best) … 'F'.
    pub reliability_worst: char,
    /// Least credible information trusted without confirmation: 1 … 6.
    pub credibility_worst: u8,
    /// A claim's weight halves every this many hours after it was received.
    pub half_life_hours: f64,
    /// A claim received longer ago than this many hours has expired: it is history, not
    /// status (a week by default: seven half-lives, when it weighs under 1 % of a new one).
    pub claim_hours_max: f64,
}

impl Default for TrustPolicy {
    /// B2 or better: a usually reliable source saying something probably true.
    fn default() -> Self {
        TrustPolicy {
            reliability_worst: 'B',
            credibility_worst: 2,
            half_life_hours: 24.0,
            claim_hours_max: 168.0,
        }
    }
}

/// A trusted claim and its weight at the time asked about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct WeighedClaim {
    pub claim: Claim,
    pub weight: f64,
    /// `confirmed by an operator` or `graded B2, at least B2`.
    pub why_trusted: String,
}

/// A subject's derived status at a time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DerivedStatus {
    /// `None` when no trusted claim is in force: unknown, not open.
    pub status: Option<Effect>,
    /// People a day, from the strongest supporting claim that gives a capacity.
    pub capacity_per_day: Option<u32>,
    /// Share of the trusted weight behind `status`, 0.0 to 1.0.
    pub agreement: f64,
    pub supporting: Vec<WeighedClaim>,
    /// Trusted claims in force for another effect, strongest first.
    pub conflicting: Vec<WeighedClaim>,
    /// Claims in force not trusted (ungraded, graded too low, or dismissed), for the record.
    pub untrusted: Vec<Claim>,
    /// Trusted claims whose window still covers the time asked about but which have expired
    /// (older than `claim_hours_max`), newest first, at most [`HISTORY_CLAIMS_MAX`]: what was
    /// last known, shown beside an unknown status.
    pub expired: Vec<Claim>,
}

impl DerivedStatus {
    /// The threat level planning weighs a zone at: its status, or, when unknown because its
    /// claims expired, the last level known (an old report of fighting is no all-clear).
    pub fn threat_for_planning(&self) -> Option<u8> {
        match self.status {
            Some(effect) => effect.threat(),
            None => self
                .expired
                .first()
                .and_then(|c| c.statement.effect.threat()),
        }
    }

    /// The daily hours the subject is closed in, when it is under a curfew: in force, or, as
    /// for [`DerivedStatus::may_be_closed`], the last thing known of it, now expired (an old
    /// curfew nobody has lifted is no reason to send people there by night).
    pub fn curfew(&self) -> Option<crate::DailyWindow> {
        let last = match self.status {
            Some(effect) => Some(effect),
            None => self.expired.first().map(|c| c.statement.effect),
        };
        match last {
            Some(Effect::Curfew(window)) => Some(window),
            _ => None,
        }
    }

    /// Whether the subject is open to military and state transports alone: in force, or, as
    /// for [`DerivedStatus::curfew`], the last thing known of it, now expired.
    pub fn military_only(&self) -> bool {
        let last = match self.status {
            Some(effect) => Some(effect),
            None => self.expired.first().map(|c| c.statement.effect),
        };
        last == Some(Effect::MilitaryOnly)
    }

    /// Whether planning must treat the subject as closed: it is, or its status is unknown and
    /// the last thing known of it, now expired, is a closure. An old closure nobody has
    /// confirmed since is no reason to send people there: someone must say it reopened.
    pub fn may_be_closed(&self) -> bool {
        self.status == Some(Effect::Closed)
            || (self.status.is_none()
                && self
                    .expired
                    .first()
                    .is_some_and(|c| c.statement.effect == Effect::Closed))
    }
}

/// At most this many expired claims are kept with a status, as its history.
pub const HISTORY_CLAIMS_MAX: usize = 5;

impl TrustPolicy {
    /// Why a claim is trusted, or `None`.
    pub fn trusts(&self, claim: &Claim) -> Option<String> {
        match claim.state {
            ReportState::Dismissed => None,
            ReportState::Confirmed => Some("confirmed by an operator".into()),
            ReportState::Draft => {
                let grade = claim.grade?;
                (grade.reliability() <= self.reliability_worst
                    && grade.credibility() <= self.credibility_worst)
                    .then(|| {
                        format!(
                            "graded {grade}, at least {}{}",
                            self.reliability_worst, self.credibility_worst
                        )
                    })
            }
        }
    }

    /// The status of `subject` at `at` from `claims` (about anything; the others are ignored).
    pub fn derive(&self, subject: &Subject, claims: &[Claim], at: Timestamp) -> DerivedStatus {
        let in_force = claims.iter().filter(|c| {
            let s = &c.statement;
            s.subject == *subject
                && s.from <= at
                && s.until.is_none_or(|u| at < u)
                && c.received_at <= at
        });
        let mut trusted: Vec<WeighedClaim> = Vec::new();
        let mut untrusted = Vec::new();
        let mut expired: Vec<Claim> = Vec::new();
        for claim in in_force {
            match self.trusts(claim) {
                Some(_) if self.has_expired(claim, at) => expired.push(claim.clone()),
                Some(why_trusted) => trusted.push(WeighedClaim {
                    weight: self.weight(claim, at),
                    claim: claim.clone(),
                    why_trusted,
                }),
                None => untrusted.push(claim.clone()),
            }
        }
        let mut by_effect: Vec<(Effect, f64)> = Vec::new();
        for w in &trusted {
            let effect = w.claim.statement.effect;
            match by_effect.iter_mut().find(|(e, _)| *e == effect) {
                Some((_, total)) => *total += w.weight,
                None => by_effect.push((effect, w.weight)),
            }
        }
        // Most weight first; on a tie the more restrictive effect wins (safer to plan on).
        by_effect.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        let total: f64 = by_effect.iter().map(|(_, w)| w).sum();
        let status = by_effect.first().map(|(e, _)| *e);
        let (mut supporting, mut conflicting): (Vec<_>, Vec<_>) = trusted
            .into_iter()
            .partition(|w| Some(w.claim.statement.effect) == status);
        for list in [&mut supporting, &mut conflicting] {
            list.sort_by(|a, b| {
                b.weight
                    .total_cmp(&a.weight)
                    .then(a.claim.report.cmp(&b.claim.report))
            });
        }
        DerivedStatus {
            status,
            capacity_per_day: supporting
                .iter()
                .find_map(|w| w.claim.statement.capacity_per_day),
            // Claims faded to nothing still stand (nothing newer contradicts them), but say
            // nothing about agreement.
            agreement: by_effect
                .first()
                .map_or(0.0, |(_, w)| if total > 0.0 { w / total } else { 0.0 }),
            supporting,
            conflicting,
            untrusted,
            expired: {
                expired.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.seq.cmp(&a.seq)));
                expired.truncate(HISTORY_CLAIMS_MAX);
                expired
            },
        }
    }

    /// The policy with claims received since `since` lasting until a week past `now`: a replay
    /// of a past crisis (the demo's January 2022) keeps its situation in force today.
    pub fn lasting_since(mut self, since: Timestamp, now: Timestamp) -> TrustPolicy {
        const WEEK_HOURS: f64 = 168.0;
        let hours = (now.unix_micros() - since.unix_micros()).max(0) as f64 / 3.6e9;
        self.claim_hours_max = self.claim_hours_max.max(hours + WEEK_HOURS);
        self
    }

    /// Whether a claim has expired at `at`: more than `claim_hours_max` since it took effect
    /// (received, or the start of its window when that is later: "closed from 15 January"
    /// said on the 6th counts from the 15th). A claim with an end of its own ("until 20
    /// January") holds to that end.
    fn has_expired(&self, claim: &Claim, at: Timestamp) -> bool {
        if claim.statement.until.is_some() {
            return false;
        }
        at.unix_micros() > self.expires_at(claim).unix_micros()
    }

    /// When a claim without an end of its own expires (for callers that must know where a
    /// status may change).
    pub fn expires_at(&self, claim: &Claim) -> Timestamp {
        let took_effect = claim.received_at.max(claim.statement.from);
        let hours = self.claim_hours_max.min(1e9);
        took_effect.plus_seconds((hours * 3600.0) as i64)
    }

    /// A claim's weight at `at`: confirmed claims weigh as A1; a grade weighs by how far it is
    /// from F6; all fade with age.
    fn weight(&self, claim: &Claim, at: Timestamp) -> f64 {
        let base = match (claim.state, claim.grade) {
            (ReportState::Confirmed, _) | (_, None) => 1.0,
            (_, Some(g)) => {
                let reliability = f64::from(b'F' - g.reliability() as u8) / 5.0;
                let credibility = f64::from(6 - g.credibility()) / 5.0;
                reliability * credibility
            }
        };
        let age_hours =
            ((at.unix_micros() - claim.received_at.unix_micros()).max(0) as f64) / 3.6e9;
        base * 0.5_f64.powf(age_hours / self.half_life_hours.max(f64::EPSILON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn t(hours: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_641_340_800_000_000 + hours * HOUR)
    }

    /// Reports are named by a number in their id, so a test can say which is which.
    fn claim(
        report: u128,
        effect: Effect,
        grade: Option<&str>,
        state: ReportState,
        received_h: i64,
    ) -> Claim {
        Claim {
            seq: report as i64,
            report: ReportId(uuid::Uuid::from_u128(report)),
            source: format!("source {report}"),
            statement: Statement {
                subject: Subject::hub("ALA"),
                effect,
                from: t(received_h),
                until: None,
                capacity_per_day: None,
                note: String::new(),
            },
            grade: grade.map(|g| g.parse().unwrap()),
            state,
            received_at: t(received_h),
        }
    }

    fn reports(claims: &[Claim]) -> Vec<u128> {
        claims.iter().map(|c| c.report.0.as_u128()).collect()
    }

    fn ala() -> Subject {
        Subject::hub("ALA")
    }

    #[test]
    fn only_trusted_claims_decide_and_conflicts_are_shown() {
        use Effect::*;
        use ReportState::*;
        let claims = vec![
            claim(1, Closed, Some("A2"), Draft, 0),
            claim(2, Open, Some("E5"), Draft, 1),
            claim(3, Open, Some("B2"), Draft, 2),
            claim(4, Open, None, Draft, 2),
            claim(5, Open, Some("A1"), Dismissed, 2),
        ];
        let derived = TrustPolicy::default().derive(&ala(), &claims, t(3));
        assert_eq!(derived.status, Some(Closed), "A2 outweighs B2");
        assert_eq!(derived.supporting[0].claim.report.0.as_u128(), 1);
        assert_eq!(
            derived.conflicting.len(),
            1,
            "the ministry's claim is shown, not dropped"
        );
        assert_eq!(derived.conflicting[0].claim.report.0.as_u128(), 3);
        assert!(derived.agreement > 0.5 && derived.agreement < 1.0);
        assert_eq!(reports(&derived.untrusted), [2, 4, 5]);
        assert!(
            derived.supporting[0]
                .why_trusted
                .contains("graded A2, at least B2")
        );
    }

    #[test]
    fn old_claims_fade_and_confirmation_counts() {
        use Effect::*;
        let old = claim(6, Closed, Some("A1"), ReportState::Draft, 0);
        let new = claim(7, Open, Some("B2"), ReportState::Draft, 48);
        let policy = TrustPolicy::default();
        let derived = policy.derive(&ala(), &[old.clone(), new.clone()], t(49));
        assert_eq!(
            derived.status,
            Some(Open),
            "two half-lives later the old claim weighs less"
        );
        let confirmed = Claim {
            state: ReportState::Confirmed,
            grade: Some("F6".parse().unwrap()),
            ..claim(8, Restricted, None, ReportState::Confirmed, 49)
        };
        let derived = policy.derive(&ala(), &[old, new, confirmed], t(49));
        assert_eq!(derived.status, Some(Restricted));
        assert_eq!(
            derived.supporting[0].why_trusted,
            "confirmed by an operator"
        );
    }

    /// A curfew stays a curfew when its claim expires with nothing newer, as a closure does.
    #[test]
    fn an_expired_curfew_still_closes_the_night() {
        let policy = TrustPolicy::default();
        let night: Effect = "curfew:23:00-07:00".parse().unwrap();
        let curfew = claim(1, night, Some("A1"), ReportState::Confirmed, 0);
        let derived = policy.derive(&ala(), std::slice::from_ref(&curfew), t(24));
        assert_eq!(derived.status, Some(night));
        let Effect::Curfew(window) = night else {
            panic!("{night:?}")
        };
        assert_eq!(derived.curfew(), Some(window));
        let years_later = t(24 * 365 * 3);
        let derived = policy.derive(&ala(), std::slice::from_ref(&curfew), years_later);
        assert_eq!(derived.status, None);
        assert_eq!(derived.curfew(), Some(window), "the last thing known");
        let lifted = claim(
            2,
            Effect::Open,
            Some("B2"),
            ReportState::Draft,
            24 * 365 * 3 - 1,
        );
        let derived = policy.derive(&ala(), &[curfew, lifted], years_later);
        assert_eq!(derived.curfew(), None, "a newer report lifted it");
    }

    /// Issue 30, item 4: a claim faded to weight 0.00 still decided a status years later
    /// when nothing newer existed.
    #[test]
    fn an_expired_claim_is_history_and_the_status_unknown() {
        let policy = TrustPolicy::default();
        let closed = claim(1, Effect::Closed, Some("A1"), ReportState::Confirmed, 0);
        let derived = policy.derive(&ala(), std::slice::from_ref(&closed), t(24 * 6));
        assert_eq!(
            derived.status,
            Some(Effect::Closed),
            "six days: still in force"
        );
        assert!(derived.expired.is_empty());
        let years_later = t(24 * 365 * 3);
        let derived = policy.derive(&ala(), std::slice::from_ref(&closed), years_later);
        assert_eq!(derived.status, None, "three years later nothing is known");
        assert!(derived.supporting.is_empty());
        assert_eq!(reports(&derived.expired), [1], "the last claim is history");
        assert!(
            derived.may_be_closed(),
            "planning sends nobody through an expired closure"
        );
        let renewed = claim(
            2,
            Effect::Open,
            Some("B2"),
            ReportState::Draft,
            24 * 365 * 3 - 1,
        );
        let derived = policy.derive(&ala(), &[closed, renewed], years_later);
        assert_eq!(derived.status, Some(Effect::Open));
        assert!(
            derived.conflicting.is_empty(),
            "an expired claim is no conflict"
        );
        assert!(!derived.may_be_closed(), "a newer report reopened it");
        // A window ahead counts from its start; a window with an end holds to it.
        let mut ahead = claim(4, Effect::Closed, Some("A1"), ReportState::Draft, 0);
        ahead.statement.from = t(24 * 9);
        assert_eq!(
            policy
                .derive(&ala(), std::slice::from_ref(&ahead), t(24 * 10))
                .status,
            Some(Effect::Closed),
            "said on day 0 for day 9: in force on day 10"
        );
        let mut until = claim(5, Effect::Closed, Some("A1"), ReportState::Draft, 0);
        until.statement.until = Some(t(24 * 20));
        assert_eq!(
            policy
                .derive(&ala(), std::slice::from_ref(&until), t(24 * 19))
                .status,
            Some(Effect::Closed),
            "closed until day 20: still closed on day 19"
        );
        let mut zone = claim(6, Effect::Threat(5), Some("A1"), ReportState::Draft, 0);
        zone.statement.subject = Subject::new(crate::SubjectKind::Zone, "almaty");
        let old = policy.derive(&zone.statement.subject, &[zone.clone()], years_later);
        assert_eq!(old.status, None);
        assert_eq!(
            old.threat_for_planning(),
            Some(5),
            "fighting is not forgotten by silence"
        );
        let strict = TrustPolicy {
            claim_hours_max: 2.0,
            ..TrustPolicy::default()
        };
        let fresh = claim(3, Effect::Closed, Some("A1"), ReportState::Draft, 0);
        assert_eq!(
            strict
                .derive(&ala(), std::slice::from_ref(&fresh), t(2))
                .status,
            Some(Effect::Closed)
        );
        assert_eq!(
            strict.derive(&ala(), &[fresh], t(3)).status,
            None,
            "configurable"
        );
    }

    #[test]
    fn nothing_trusted_means_unknown_and_windows_end() {
        let policy = TrustPolicy::default();
        let rumour = claim(2, Effect::Closed, Some("D4"), ReportState::Draft, 0);
        assert_eq!(policy.derive(&ala(), &[rumour], t(1)).status, None);
        let mut curfew = claim(9, Effect::Restricted, Some("A1"), ReportState::Draft, 0);
        curfew.statement.until = Some(t(8));
        assert_eq!(
            policy.derive(&ala(), &[curfew.clone()], t(7)).status,
            Some(Effect::Restricted)
        );
        assert_eq!(
            policy.derive(&ala(), &[curfew.clone()], t(8)).status,
            None,
            "the window has ended"
        );
        assert_eq!(
            policy.derive(&Subject::hub("NQZ"), &[curfew], t(7)).status,
            None,
            "another hub"
        );
    }
}
