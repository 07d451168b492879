//! The situation picture: hubs, routes and zones with a status derived from graded reports.
//!
//! Every status comes from statements that reports make (`evac_model::trust`): a report an
//! operator pasted or a CAP alert (read by `evac_exchange::reports`), graded A–F/1–6 and
//! confirmed or dismissed; or a status staff set by hand, which is stored as a confirmed report
//! of theirs. Reads need `ReadSituation`; every change needs `EditSituation` and is audited.

use std::sync::LazyLock;

use evac_exchange::reports::{ReadingContext, ReportReading, read_report};
use evac_geo::Gazetteer;
use evac_model::{
    Actor, Claim, DerivedStatus, Feature, FieldError, Grade, Hub, NewRoute, NewZone, Permission,
    Report, ReportId, ReportState, Route, Statement, Subject, SubjectKind, Timestamp,
    ZONE_RADIUS_KM_MAX, Zone, ZoneCentre, valid_code,
};
use evac_store::AuditEvent;

use crate::{App, AppError, Staff};

/// The shipped gazetteer, built once on first use (the data is compiled in).
pub(crate) fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(Gazetteer::shipped);
    &GAZETTEER
}

/// A hub, route or zone with its status at the time asked about.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    pub subject: Subject,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<Hub>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
    pub derived: DerivedStatus,
}

/// The whole picture at one time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SituationView {
    pub at: Timestamp,
    pub trust: evac_model::TrustPolicy,
    pub hubs: Vec<SubjectView>,
    pub routes: Vec<SubjectView>,
    pub zones: Vec<SubjectView>,
}

impl SituationView {
    /// The view of one subject, if it exists.
    pub fn get(&self, subject: &Subject) -> Option<&SubjectView> {
        [&self.hubs, &self.routes, &self.zones]
            .into_iter()
            .flatten()
            .find(|v| v.subject == *subject)
    }
}

/// What ingesting a report did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Ingested {
    pub report: Report,
    /// `false` when the same report (same CAP identifier or same text) was already stored;
    /// `report` is then the stored one.
    pub new: bool,
    pub format: evac_exchange::reports::ReportFormat,
    /// The statements stored with it (suggestions until it is graded or confirmed).
    pub statements: Vec<Statement>,
    /// Zones a CAP alert described, added to the picture.
    pub zones: Vec<Zone>,
}

fn invalid(path: &str, reason: String) -> AppError {
    AppError::Invalid(vec![FieldError {
        path: path.into(),
        reason,
    }])
}

fn audit(actor: &Actor, action: &str, subject: String, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at: Timestamp::now(),
        actor: actor.clone(),
        action: action.into(),
        subject: Some(subject),
        detail,
    }
}

impl App {
    /// Adds or replaces a hub (airports come from the shipped data; staff add stations,
    /// terminals and border crossings).
    pub async fn record_hub(&self, hub: &Hub) -> Result<(), AppError> {
        if !valid_code(&hub.code) {
            return Err(invalid(
                "code",
                format!(
                    "{} is no hub code; use letters and digits, no spaces or colons",
                    evac_model::quoted(&hub.code)
                ),
            ));
        }
        Ok(self.store.upsert_hub(hub).await?)
    }

    pub async fn add_hub(&self, staff: &Staff, hub: &Hub) -> Result<(), AppError> {
        staff.require(Permission::EditSituation)?;
        self.record_hub(hub).await?;
        self.store
            .append_audit(vec![audit(
                &staff.actor(),
                "hub.upsert",
                hub.code.clone(),
                serde_json::json!({ "kind": hub.kind.as_str() }),
            )])
            .await?;
        Ok(())
    }

    /// Adds or replaces a route, measuring it with the travel model.
    pub async fn add_route(&self, staff: &Staff, new: &NewRoute) -> Result<Route, AppError> {
        staff.require(Permission::EditSituation)?;
        let mut errors = Vec::new();
        if !valid_code(&new.code) {
            errors.push(FieldError {
                path: "code".into(),
                reason: format!(
                    "{} is no route code; use letters, digits and dashes",
                    evac_model::quoted(&new.code)
                ),
            });
        }
        let from = gazetteer().resolve(&new.from).place;
        if from.is_none() {
            errors.push(FieldError {
                path: "from".into(),
                reason: format!(
                    "{} is no known place; write a town's name",
                    evac_model::quoted(&new.from)
                ),
            });
        }
        let hub = self
            .store
            .hubs()
            .await?
            .into_iter()
            .find(|h| h.code == new.to_hub);
        if hub.is_none() {
            errors.push(FieldError {
                path: "to_hub".into(),
                reason: format!(
                    "no hub has the code {}; add the hub first",
                    evac_model::quoted(&new.to_hub)
                ),
            });
        }
        let (Some(from), Some(hub), true) = (from, hub, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let (road_km, minutes) = self
            .settings
            .travel
            .estimate((from.place.lat, from.place.lon), (hub.lat, hub.lon));
        let route = Route {
            code: new.code.clone(),
            mode: new.mode,
            from_place: from.place.id.clone(),
            from_name: from.place.name.clone(),
            to_hub: hub.code,
            distance_km: (road_km * 10.0).round() / 10.0,
            travel_minutes: minutes.round() as u32,
        };
        self.upsert_feature(&staff.actor(), &Feature::Route(route.clone()))
            .await?;
        Ok(route)
    }

    /// Adds or replaces a zone.
    pub async fn add_zone(&self, staff: &Staff, new: &NewZone) -> Result<Zone, AppError> {
        staff.require(Permission::EditSituation)?;
        if !valid_code(&new.code) {
            return Err(invalid(
                "code",
                format!("{} is no zone code", evac_model::quoted(&new.code)),
            ));
        }
        if !(new.radius_km > 0.0 && new.radius_km <= ZONE_RADIUS_KM_MAX) {
            return Err(invalid(
                "radius_km",
                format!(
                    "{} km is no zone radius; give 0 to {ZONE_RADIUS_KM_MAX} km",
                    new.radius_km
                ),
            ));
        }
        let (lat, lon, place_name) = match &new.around {
            ZoneCentre::Point { lat, lon } if lat.abs() <= 90.0 && lon.abs() <= 180.0 => {
                (*lat, *lon, None)
            }
            ZoneCentre::Point { .. } => {
                return Err(invalid(
                    "lat",
                    "latitude and longitude are out of range".into(),
                ));
            }
            ZoneCentre::Place(text) => {
                let place = gazetteer().resolve(text).place.ok_or_else(|| {
                    invalid(
                        "around",
                        format!(
                            "{text} is no known place; write a town's name",
                            text = evac_model::quoted(&text)
                        ),
                    )
                })?;
                (place.place.lat, place.place.lon, Some(place.place.name))
            }
        };
        let zone = Zone {
            code: new.code.clone(),
            name: new
                .name
                .clone()
                .or(place_name)
                .unwrap_or_else(|| new.code.clone()),
            lat,
            lon,
            radius_km: new.radius_km,
        };
        self.upsert_feature(&staff.actor(), &Feature::Zone(zone.clone()))
            .await?;
        Ok(zone)
    }

    async fn upsert_feature(&self, actor: &Actor, feature: &Feature) -> Result<(), AppError> {
        let subject = feature.subject().to_string();
        let event = audit(actor, "feature.upsert", subject, serde_json::json!({}));
        Ok(self.store.upsert_feature(feature, event).await?)
    }

    /// Every hub, route and zone with its derived status at `at`.
    pub async fn situation(&self, staff: &Staff, at: Timestamp) -> Result<SituationView, AppError> {
        staff.require(Permission::ReadSituation)?;
        self.situation_at(at).await
    }

    /// The picture without a permission check, for the app's own use (triage, planning).
    pub(crate) async fn situation_at(&self, at: Timestamp) -> Result<SituationView, AppError> {
        let claims = self.store.claims().await?;
        self.situation_with(&claims, at).await
    }

    /// The trust policy in force: the configured one, except on an exercise (a drill's copy or
    /// the demo's generated replay of a past crisis), where claims last from the earliest one
    /// until a week past today: a replay's situation does not expire on today's clock.
    async fn trust_for(&self, claims: &[Claim]) -> Result<evac_model::TrustPolicy, AppError> {
        let trust = self.settings.trust;
        if self.store.exercise().await?.is_none() {
            return Ok(trust);
        }
        let earliest = claims.iter().map(|c| c.received_at).min();
        Ok(earliest.map_or(trust, |since| trust.lasting_since(since, Timestamp::now())))
    }

    /// The picture at `at` from claims the caller has already read.
    pub(crate) async fn situation_with(
        &self,
        claims: &[Claim],
        at: Timestamp,
    ) -> Result<SituationView, AppError> {
        let trust = self.trust_for(claims).await?;
        let view = |subject: Subject, name: String, hub, feature| SubjectView {
            derived: trust.derive(&subject, claims, at),
            subject,
            name,
            hub,
            feature,
        };
        let hubs = self
            .store
            .hubs()
            .await?
            .into_iter()
            .map(|h| view(Subject::hub(&h.code), h.name.clone(), Some(h), None))
            .collect();
        let (mut routes, mut zones) = (Vec::new(), Vec::new());
        for feature in self.store.features().await? {
            let subject = feature.subject();
            match &feature {
                Feature::Route(r) => {
                    let name = format!("{} → {} ({})", r.from_name, r.to_hub, r.mode);
                    routes.push(view(subject, name, None, Some(feature)));
                }
                Feature::Zone(z) => {
                    let name = z.name.clone();
                    zones.push(view(subject, name, None, Some(feature)));
                }
            }
        }
        Ok(SituationView {
            at,
            trust,
            hubs,
            routes,
            zones,
        })
    }

    /// Reads a report (plain text in any language, or a CAP 1.2 alert) and stores it as a
    /// draft with the places it mentions and the statements it suggests. Ingesting the same
    /// report again stores nothing and answers with the stored one.
    pub async fn ingest_report(
        &self,
        actor: &Actor,
        input: &str,
        source: Option<&str>,
        received_at: Timestamp,
    ) -> Result<Ingested, AppError> {
        // The picture's routes and zones, so a sentence about a road or a town names them.
        let (mut routes, mut zones) = (Vec::new(), Vec::new());
        for feature in self.store.features().await? {
            match feature {
                Feature::Route(route) => routes.push(route),
                Feature::Zone(zone) => zones.push(zone),
            }
        }
        let context = ReadingContext {
            gazetteer: gazetteer(),
            routes: &routes,
            zones: &zones,
            received_at,
            time_zone: self.settings.desk_time_zone.clone(),
            country: self
                .settings
                .default_region
                .as_ref()
                .map(|c| c.as_str().to_string()),
        };
        let reading: ReportReading =
            read_report(input, &context).map_err(|e| invalid("text", e.to_string()))?;
        let source = source
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or(reading.source.clone())
            .ok_or_else(|| {
                invalid(
                    "source",
                    "say who the report comes from (an agency, a paper, a caller)".into(),
                )
            })?;
        // A statement about an airport evac has no hub for yet adds that hub from the data.
        let known_hubs = self.store.hubs().await?;
        let mut statements = Vec::new();
        for statement in reading.statements {
            if statement.subject.kind == SubjectKind::Hub
                && !known_hubs.iter().any(|h| h.code == statement.subject.code)
            {
                let Some(hub) = hub_from_gazetteer(&statement.subject.code) else {
                    continue;
                };
                self.record_hub(&hub).await?;
            }
            statements.push(statement);
        }
        for zone in &reading.zones {
            self.upsert_feature(actor, &Feature::Zone(zone.clone()))
                .await?;
        }
        let report = Report {
            id: ReportId::new_v7(),
            received_at: reading.sent_at,
            source,
            grade: None,
            language: reading.language,
            text: reading.text,
            state: ReportState::Draft,
            mentions: reading.mentions,
            external_id: Some(reading.external_id),
        };
        let event = audit(
            actor,
            "report.ingest",
            report.id.to_string(),
            serde_json::json!({ "format": reading.format, "statements": statements.len() }),
        );
        let (id, new) = self
            .store
            .insert_report(&report, &statements, event)
            .await?;
        let report = if new {
            report
        } else {
            self.store
                .report(id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("report {id}")))?
        };
        Ok(Ingested {
            report,
            new,
            format: reading.format,
            statements,
            zones: reading.zones,
        })
    }

    pub async fn ingest_report_as(
        &self,
        staff: &Staff,
        input: &str,
        source: Option<&str>,
    ) -> Result<Ingested, AppError> {
        staff.require(Permission::EditSituation)?;
        self.ingest_report(&staff.actor(), input, source, Timestamp::now())
            .await
    }

    pub async fn reports(&self, staff: &Staff, limit: u32) -> Result<Vec<Report>, AppError> {
        staff.require(Permission::ReadSituation)?;
        Ok(self.store.reports(limit).await?)
    }

    /// What each report states (its suggestions until it is graded or confirmed), by report.
    pub async fn statements_by_report(
        &self,
        staff: &Staff,
    ) -> Result<std::collections::HashMap<ReportId, Vec<Statement>>, AppError> {
        staff.require(Permission::ReadSituation)?;
        let mut by_report: std::collections::HashMap<ReportId, Vec<Statement>> =
            std::collections::HashMap::new();
        for claim in self.store.claims().await? {
            by_report
                .entry(claim.report)
                .or_default()
                .push(claim.statement);
        }
        Ok(by_report)
    }

    /// A report with every statement it makes.
    pub async fn report(
        &self,
        staff: &Staff,
        id: ReportId,
    ) -> Result<(Report, Vec<Claim>), AppError> {
        staff.require(Permission::ReadSituation)?;
        let report = self
            .store
            .report(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("report {id}")))?;
        let claims = self
            .store
            .claims()
            .await?
            .into_iter()
            .filter(|c| c.report == id)
            .collect();
        Ok((report, claims))
    }

    /// Grades a report and/or confirms or dismisses it (what is not given stays).
    pub async fn judge_report(
        &self,
        staff: &Staff,
        id: ReportId,
        grade: Option<Grade>,
        state: Option<ReportState>,
    ) -> Result<Report, AppError> {
        staff.require(Permission::EditSituation)?;
        let report = self
            .store
            .report(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("report {id}")))?;
        let grade = grade.or(report.grade);
        let state = state.unwrap_or(report.state);
        let event = audit(
            &staff.actor(),
            "report.judge",
            id.to_string(),
            serde_json::json!({ "grade": grade.map(|g| g.to_string()), "state": state.as_str() }),
        );
        self.store.update_report(id, grade, state, event).await?;
        Ok(Report {
            grade,
            state,
            ..report
        })
    }

    /// Adds a statement to a report, checking that its subject exists and its effect fits.
    pub async fn add_statement(
        &self,
        staff: &Staff,
        report: ReportId,
        statement: &Statement,
    ) -> Result<(), AppError> {
        staff.require(Permission::EditSituation)?;
        self.check_statement(statement).await?;
        let event = audit(
            &staff.actor(),
            "report.statement",
            report.to_string(),
            serde_json::json!({ "subject": statement.subject.to_string(), "effect": statement.effect.to_string() }),
        );
        if !self
            .store
            .add_statements(report, std::slice::from_ref(statement), event)
            .await?
        {
            return Err(AppError::NotFound(format!("report {report}")));
        }
        Ok(())
    }

    /// Sets a status by hand: a confirmed report by the staff member with one statement,
    /// said now.
    pub async fn set_status(
        &self,
        actor: &Actor,
        source: &str,
        statement: &Statement,
    ) -> Result<ReportId, AppError> {
        self.set_status_said(actor, source, statement, Timestamp::now())
            .await
    }

    /// As [`App::set_status`], said at `said_at` (a replay's clock). A status about later is
    /// known from when it was said: a closure announced today for tomorrow is known to today's
    /// plan. One back-dated (a late entry) was known from when it held.
    pub async fn set_status_said(
        &self,
        actor: &Actor,
        source: &str,
        statement: &Statement,
        said_at: Timestamp,
    ) -> Result<ReportId, AppError> {
        self.check_statement(statement).await?;
        let report = Report {
            id: ReportId::new_v7(),
            received_at: statement.from.min(said_at),
            source: source.to_string(),
            grade: None,
            language: None,
            text: statement.note.clone(),
            state: ReportState::Confirmed,
            mentions: Vec::new(),
            external_id: None,
        };
        let event = audit(
            actor,
            "status.set",
            statement.subject.to_string(),
            serde_json::json!({ "effect": statement.effect.to_string() }),
        );
        Ok(self
            .store
            .insert_report(&report, std::slice::from_ref(statement), event)
            .await?
            .0)
    }

    pub async fn set_status_as(
        &self,
        staff: &Staff,
        statement: &Statement,
    ) -> Result<ReportId, AppError> {
        staff.require(Permission::EditSituation)?;
        let source = format!("crisis centre staff ({})", staff.name);
        self.set_status(&staff.actor(), &source, statement).await
    }

    async fn check_statement(&self, statement: &Statement) -> Result<(), AppError> {
        let mut errors = Vec::new();
        if let Err(e) = statement.effect.check_fits(statement.subject.kind) {
            errors.push(FieldError {
                path: "effect".into(),
                reason: e.to_string(),
            });
        }
        let exists = match statement.subject.kind {
            SubjectKind::Hub => self
                .store
                .hubs()
                .await?
                .iter()
                .any(|h| h.code == statement.subject.code),
            _ => self
                .store
                .features()
                .await?
                .iter()
                .any(|f| f.subject() == statement.subject),
        };
        if !exists {
            errors.push(FieldError {
                path: "subject".into(),
                reason: format!("{} does not exist; add it first", statement.subject),
            });
        }
        if statement.until.is_some_and(|u| u <= statement.from) {
            errors.push(FieldError {
                path: "until".into(),
                reason: "the window ends before it starts".into(),
            });
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    /// The highest trusted threat level at a point at `at`, from the zones that contain it.
    pub(crate) fn threat_at(view: &SituationView, lat: f64, lon: f64) -> u8 {
        view.zones
            .iter()
            .filter_map(|z| match (&z.feature, z.derived.threat_for_planning()) {
                (Some(Feature::Zone(zone)), Some(level))
                    if evac_geo::distance_km(lat, lon, zone.lat, zone.lon) <= zone.radius_km =>
                {
                    Some(level)
                }
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// How a request's location reads in the gazetteer, for a case officer: the town planning
/// uses, or the towns it could be (and why none was chosen), or nothing known.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LocationReading {
    /// "Aksu (Pavlodar Region, KZ)".
    pub town: Option<String>,
    /// When no town stands out: every place the text could mean, most likely first.
    pub candidates: Vec<String>,
    /// How the stated country or a region narrowed it, or why several remain (in English).
    pub reason: Option<String>,
}

/// Reads a request's location as planning does (see [`town_of`]).
pub fn read_location(location: &evac_model::Location) -> LocationReading {
    let resolution = gazetteer().resolve_in(
        &location.text,
        location.country.as_ref().map(|c| c.as_str()),
    );
    let describe = |p: &evac_geo::Place| match &p.region {
        Some(region) => format!("{} ({region}, {})", p.name, p.country),
        None => format!("{} ({})", p.name, p.country),
    };
    LocationReading {
        town: resolution.place.as_ref().map(|c| describe(&c.place)),
        candidates: if resolution.place.is_some() {
            Vec::new()
        } else {
            resolution
                .candidates
                .iter()
                .map(|c| describe(&c.place))
                .collect()
        },
        reason: resolution.reason,
    }
}

/// The town a request's location text resolves to, if any, in the request's stated country
/// when it names one.
pub(crate) fn town_of(location: &evac_model::Location) -> Option<evac_geo::Place> {
    gazetteer()
        .resolve_in(
            &location.text,
            location.country.as_ref().map(|c| c.as_str()),
        )
        .place
        .map(|c| c.place)
}

/// The town (its GeoNames id) a location resolves to, as a request keeps it: what the request
/// list's `town` filter and the dashboard's places read. A location that reads as an airport
/// or only a country has none.
pub(crate) fn place_of(location: &evac_model::Location) -> Option<u64> {
    town_of(location).and_then(|place| geonames_id(&place.id))
}

/// The number of a gazetteer id of a GeoNames place (`geonames:1526384`).
pub fn geonames_id(place: &str) -> Option<u64> {
    place.strip_prefix("geonames:")?.parse().ok()
}

impl App {
    /// Reads the place of every request stored before places were kept (or by a node that
    /// did not keep them), a batch at a time, so the `town` filter and the dashboard count
    /// them too. Several nodes may run it at once: a place is set only where none is.
    /// Returns how many requests it read.
    pub async fn catch_up_places(&self) -> Result<u64, AppError> {
        let mut read = 0;
        loop {
            let batch = self
                .store
                .requests_without_place(evac_store::PLACE_BACKFILL_BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(read);
            }
            let places: Vec<(evac_model::RequestId, u64)> = batch
                .iter()
                .map(|(id, location)| (*id, place_of(location).unwrap_or(0)))
                .collect();
            self.store.set_request_places(&places).await?;
            read += places.len() as u64;
        }
    }
}

/// Where a location is: the coordinates the requester gave, else its town's.
pub(crate) fn point_of(
    location: &evac_model::Location,
    town: Option<&evac_geo::Place>,
) -> Option<(f64, f64)> {
    location
        .coordinates
        .map(|c| (c.lat, c.lon))
        .or(town.map(|p| (p.lat, p.lon)))
}

/// A hub for an airport of the shipped data, by IATA code.
pub(crate) fn hub_from_gazetteer(code: &str) -> Option<Hub> {
    let place = gazetteer().get(&format!("airport:{code}"))?;
    Some(Hub {
        code: code.to_string(),
        kind: evac_model::HubKind::Airport,
        name: place.name.clone(),
        country: place.country.parse().ok()?,
        municipality: place.serves.clone(),
        lat: place.lat,
        lon: place.lon,
        iata: Some(code.to_string()),
        icao: None,
    })
}
