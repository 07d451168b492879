//! The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`.
//!
//! Written by hand next to the DTOs it describes; a test checks that every route the router
//! serves appears here and nothing else does, so the document cannot silently fall behind.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Value, json};

fn problem_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn filter_parameters() -> Vec<Value> {
    let p = |name: &str, schema: Value, description: &str| json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description });
    vec![
        p(
            "status",
            json!({ "type": "string", "enum": evac_model::PersonStatus::ALL.map(|s| s.as_str()) }),
            "requests with at least one person in this status",
        ),
        p(
            "place",
            json!({ "type": "string" }),
            "part of the location, in any script (Алматы finds Almaty)",
        ),
        p(
            "name",
            json!({ "type": "string" }),
            "part of a person's surname or given names, in any script (Иванова finds Ivanova)",
        ),
        p(
            "channel",
            json!({ "type": "string", "enum": evac_model::Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() }),
            "how the request arrived",
        ),
        p(
            "received_from",
            json!({ "type": "string", "examples": ["2022-01-05", "05.01.2022", "2022-01-05T06:00:00Z"] }),
            "received at or after: an RFC 3339 time, or a day (UTC) as people write it",
        ),
        p(
            "received_until",
            json!({ "type": "string", "examples": ["2022-01-07", "2022-01-07T18:00:00Z"] }),
            "received before this time (exclusive), or up to the end of this day (UTC)",
        ),
        p(
            "has_minors",
            json!({ "type": "boolean" }),
            "requests with (or without) people under 18",
        ),
        p(
            "citizenship",
            json!({ "type": "string", "examples": ["KZ"] }),
            "requests with someone of this citizenship (ISO 3166 two-letter code)",
        ),
        p(
            "need",
            json!({ "type": "string", "enum": evac_model::Need::ALL.iter().map(|n| n.as_str()).collect::<Vec<_>>() }),
            "requests with someone who has this need",
        ),
        p(
            "has_duplicates",
            json!({ "type": "boolean", "enum": [true] }),
            "requests with someone linked to, or suggested as, another record (as of the kept ranking, which a link decision renews)",
        ),
        p(
            "assignee",
            json!({ "type": "string", "examples": ["me", "0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11"] }),
            "requests a staff member holds: `me`, or their user id",
        ),
        p(
            "town",
            json!({ "type": "string", "examples": ["1526384"] }),
            "requests whose location reads as this gazetteer place, among the most common location texts the dashboard counts (its place links use it)",
        ),
    ]
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn build() -> Value {
    let bearer = json!([{ "bearer": [] }]);
    let at_parameter = json!({ "name": "at", "in": "query", "schema": { "type": "string", "format": "date-time" }, "description": "default: now" });
    let id_parameter = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } });
    let token_schema = json!({ "type": "object", "additionalProperties": false, "required": ["token"], "properties": {
        "token": { "type": "string", "description": "the pass's token (its QR code), or its 6-character pass code with `transport`", "examples": ["EVAC1.…", "3F9A0C"] },
        "transport": { "type": "string", "format": "uuid", "description": "the transport the gate serves; required with a pass code" }
    } });
    let statement_schema = json!({ "type": "object", "additionalProperties": false, "required": ["subject", "effect"], "properties": { "subject": { "type": "string", "examples": ["hub:ALA", "route:almaty-bishkek", "zone:almaty-centre"] }, "effect": { "type": "string", "examples": ["closed", "open", "restricted", "threat:4"] }, "from": { "type": "string", "format": "date-time", "description": "default: now" }, "until": { "type": "string", "format": "date-time" }, "capacity_per_day": { "type": "integer" }, "note": { "type": "string" } } });
    let request_ref = json!({ "$ref": "#/components/schemas/RequestOut" });
    let string_list = json!({ "type": "array", "items": { "type": "string" } });
    let mut list_parameters = filter_parameters();
    list_parameters.push(json!({ "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": evac_store::PAGE_ITEMS_MAX, "default": 50 } }));
    list_parameters.push(json!({ "name": "cursor", "in": "query", "schema": { "type": "string" }, "description": "next_cursor of the previous page" }));
    let mut export_parameters = filter_parameters();
    export_parameters.push(json!({ "name": "format", "in": "query", "schema": { "type": "string", "enum": ["csv", "jsonl", "xlsx"], "default": "csv" } }));
    export_parameters.push(json!({ "name": "hxl", "in": "query", "schema": { "type": "boolean" }, "description": "add the HXL hashtag row" }));

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "evac API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Evacuation requests in, staff views out. Everything but public intake, health and this document needs a staff bearer token (`evac token create NAME`). Errors are RFC 9457 problem details."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" }, "detail": { "type": "string" },
                        "errors": { "type": "array", "items": { "type": "object", "required": ["path", "reason"], "properties": { "path": { "type": "string", "examples": ["party[2].birth_date"] }, "reason": { "type": "string", "examples": ["2031-01-01 is in the future"] } } } }
                    }
                },
                "RequestIn": {
                    "type": "object", "additionalProperties": false, "required": ["location", "party"],
                    "properties": {
                        "channel": { "type": "string", "enum": evac_model::Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), "default": "api" },
                        "language": { "type": "string", "examples": ["ru", "kk", "it", "en"] },
                        "submitter": { "type": "object", "additionalProperties": false, "properties": { "name": { "type": "string" }, "phones": string_list, "email": { "type": "string" } } },
                        "location": { "type": "object", "additionalProperties": false, "properties": {
                            "text": { "type": "string", "examples": ["Almaty, Hotel Kazakhstan"] }, "country": { "type": "string", "description": "ISO 3166-1 alpha-2; the region for phone numbers without +" },
                            "lat": { "type": "number" }, "lon": { "type": "number" }, "accuracy_m": { "type": "number" } } },
                        "situation": { "type": "string", "maxLength": evac_model::SITUATION_CHARS_MAX },
                        "urgency": { "type": "array", "items": { "type": "string", "enum": evac_model::Urgency::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>() } },
                        "party": { "type": "array", "minItems": 1, "maxItems": evac_model::PARTY_MEMBERS_MAX, "items": { "$ref": "#/components/schemas/PersonIn" } },
                        "consent": { "type": "boolean", "description": "required true for web, api and messenger requests" },
                        "external_ref": { "type": "string" }
                    }
                },
                "PersonIn": {
                    "type": "object", "additionalProperties": false,
                    "properties": {
                        "surname": { "type": "string" }, "given_names": { "type": "string" }, "patronymic": { "type": "string" },
                        "birth_date": { "type": "string", "format": "date" }, "age_years": { "type": "integer", "minimum": 0, "maximum": 120 },
                        "sex": { "type": "string", "enum": ["F", "M", "X"] }, "citizenship": { "type": "string" },
                        "document": { "type": "object", "additionalProperties": false, "properties": {
                            "type": { "type": "string", "enum": evac_model::DocumentType::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>() },
                            "number": { "type": "string" }, "issuing_state": { "type": "string" }, "expiry": { "type": "string", "format": "date" } } },
                        "phones": string_list, "email": { "type": "string" },
                        "needs": { "type": "array", "items": { "type": "string", "enum": evac_model::Need::ALL.iter().map(|n| n.as_str()).collect::<Vec<_>>() } },
                        "medical_note": { "type": "string", "maxLength": evac_model::MEDICAL_NOTE_CHARS_MAX, "description": "what a medic should know of them (a case note)" },
                        "relation": { "type": "string", "enum": evac_model::Relation::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(), "default": "self" }
                    }
                },
                "Acknowledgement": { "type": "object", "required": ["id", "reference"], "properties": { "id": { "type": "string", "format": "uuid" }, "reference": { "type": "string", "examples": ["K7Q-4F2-9MX"] } } },
                "RequestOut": {
                    "type": "object",
                    "description": "A stored request as staff see it: names as written and in ICAO Latin, phones raw and E.164, ages and minor flags as of today, each person's status.",
                    "properties": {
                        "id": { "type": "string" }, "reference": { "type": "string" }, "received_at": { "type": "string", "format": "date-time" },
                        "case_id": { "type": "string" }, "channel": { "type": "string" }, "language": { "type": ["string", "null"] },
                        "submitter": { "type": "object" }, "location": { "type": "object" }, "situation": { "type": "string" },
                        "urgency": string_list, "party": { "type": "array", "items": { "type": "object" } }, "has_minors": { "type": "boolean" },
                        "external_ref": { "type": ["string", "null"] }
                    }
                }
            }
        },
        "paths": {
            "/healthz": { "get": { "summary": "Liveness", "responses": { "200": { "description": "the process is up" } } } },
            "/readyz": { "get": { "summary": "Readiness (the database answers)", "responses": { "200": { "description": "ready" }, "503": { "description": "the database does not answer" } } } },
            "/api/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/api/v1/requests": {
                "post": {
                    "summary": "Submit an evacuation request (public)",
                    "description": "Answers 201 only after the request is durably stored. Send an Idempotency-Key to retry safely: the same key and body return the first answer; the same key with another body is 409.",
                    "parameters": [{ "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 255 } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RequestIn" } } } },
                    "responses": {
                        "201": { "description": "stored", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Acknowledgement" } } } },
                        "400": problem_response("the body is not JSON, or a header is malformed"),
                        "409": problem_response("the Idempotency-Key was used with another body"),
                        "413": problem_response("the body is too large"),
                        "422": problem_response("invalid fields, each listed with its path")
                    }
                },
                "get": {
                    "summary": "List requests in the order they were stored, newest first (an import keeps the received times of its rows, so they need not follow that order)",
                    "security": bearer, "parameters": list_parameters,
                    "responses": {
                        "200": { "description": "a page", "content": { "application/json": { "schema": { "type": "object", "properties": { "items": { "type": "array", "items": request_ref }, "next_cursor": { "type": ["string", "null"] } } } } } },
                        "401": problem_response("no or invalid token"), "403": problem_response("role may not read requests"), "422": problem_response("invalid filter")
                    }
                }
            },
            "/api/v1/requests/{id}": {
                "get": {
                    "summary": "One request", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "responses": { "200": { "description": "the request", "content": { "application/json": { "schema": request_ref } } }, "401": problem_response("no or invalid token"), "404": problem_response("no such request") }
                }
            },
            "/api/v1/requests/{id}/corrections": {
                "post": {
                    "summary": "Correct a request's location, situation, urgency and contacts (validated like intake; the party is changed through its people's statuses and notes); each person of the request gets a note naming what changed and why", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "additionalProperties": false, "required": ["reason"],
                        "properties": {
                            "location": { "type": "string" }, "country": { "type": "string" }, "situation": { "type": "string" },
                            "urgency": { "type": "array", "items": { "type": "string" } },
                            "submitter_name": { "type": "string" }, "phones": { "type": "array", "items": { "type": "string" } }, "email": { "type": "string" },
                            "reason": { "type": "string" }
                        }
                    } } } },
                    "responses": { "201": { "description": "the fields that changed" }, "403": problem_response("role may not change requests"), "404": problem_response("no such request"), "422": problem_response("an invalid field, or no reason") }
                }
            },
            "/api/v1/requests/{id}/persons": {
                "post": {
                    "summary": "Add a person to a request's party (validated like intake, as of the day the request arrived; at most 60 people per request): registered beside the others, with a note saying why; linkage compares them at its next relink. Someone who no longer travels is withdrawn by a status, never removed", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": {
                            "type": "object", "additionalProperties": false, "required": ["reason"],
                            "properties": {
                                "surname": { "type": "string" }, "given_names": { "type": "string" }, "patronymic": { "type": "string" },
                                "birth_date": { "type": "string", "examples": ["2014-06-15", "15.06.2014"] }, "sex": { "type": "string" }, "citizenship": { "type": "string" },
                                "document_type": { "type": "string" }, "document_number": { "type": "string" },
                                "needs": { "type": "array", "items": { "type": "string" } }, "medical_note": { "type": "string" },
                                "relation": { "type": "string", "enum": evac_model::Relation::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>() },
                                "reason": { "type": "string" }
                            }
                        },
                        "example": { "surname": "Жумабаева", "given_names": "Алия", "birth_date": "15.06.2014", "relation": "group_member", "reason": "travels with the school group; the teacher called" }
                    } } },
                    "responses": { "201": { "description": "the new person's id: `{ \"person\": \"…\" }`" }, "403": problem_response("role may not change requests"), "404": problem_response("no such request"), "409": problem_response("other corrections of the request kept coming first; try again"), "422": problem_response("an invalid field (its path as in the body), the party is full, or no reason") }
                }
            },
            "/api/v1/requests/{id}/persons/{person}/corrections": {
                "post": {
                    "summary": "Correct one person's names, birth date, sex, citizenship, document or needs (validated like intake, as of the day the request arrived; a field left out keeps its value); the person keeps id, seat and history and gets a note naming what changed and why", "security": bearer,
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
                        { "name": "person", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "additionalProperties": false, "required": ["reason"],
                        "properties": {
                            "surname": { "type": "string" }, "given_names": { "type": "string" }, "patronymic": { "type": "string" },
                            "birth_date": { "type": "string", "format": "date" }, "sex": { "type": "string" }, "citizenship": { "type": "string" },
                            "document_type": { "type": "string" }, "document_number": { "type": "string" },
                            "needs": { "type": "array", "items": { "type": "string" } }, "medical_note": { "type": "string", "description": "empty clears it" }, "reason": { "type": "string" }
                        }
                    } } } },
                    "responses": { "201": { "description": "the fields that changed" }, "403": problem_response("role may not change requests"), "404": problem_response("no such request or person"), "422": problem_response("an invalid field (its path names the person's place in the party), or no reason") }
                }
            },
            "/api/v1/requests/status-changes": {
                "post": {
                    "summary": "Give every person of several requests one status by hand, with one reason (a list's bulk action): each person is changed as one change would be, people already in the status are left, and every refusal is reported while the rest go ahead", "security": bearer,
                    "requestBody": json_body(json!({
                        "type": "object", "additionalProperties": false, "required": ["request", "status", "reason"],
                        "properties": {
                            "request": { "type": "array", "items": { "type": "string", "format": "uuid" }, "minItems": 1, "maxItems": evac_model::BULK_REQUESTS_MAX },
                            "status": { "type": "string", "enum": ["registered", "verified", "withdrawn", "unreachable", "ineligible", "arrived"] },
                            "reason": { "type": "string", "maxLength": 2000 }
                        },
                        "examples": [{ "request": ["0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11"], "status": "verified", "reason": "passports seen at the embassy" }]
                    })),
                    "responses": {
                        "200": { "description": "what changed", "content": { "application/json": { "schema": { "type": "object", "properties": {
                            "changed": { "type": "array", "items": { "type": "array", "prefixItems": [{ "type": "string", "format": "uuid" }, { "type": "string", "format": "uuid" }], "description": "[request, person]" } },
                            "unchanged": { "type": "integer", "description": "people already in the status" },
                            "refused": { "type": "array", "items": { "type": "object", "properties": { "request": { "type": "string" }, "reference": { "type": ["string", "null"], "description": "null when the request was not found" }, "person": { "type": ["string", "null"] }, "reason": { "type": "string" } } } }
                        } } } } },
                        "403": problem_response("role may not set this status"),
                        "422": problem_response("no request, too many, an id that is not one, an unknown status or no reason, each named")
                    }
                }
            },
            "/api/v1/requests/assignments": {
                "post": {
                    "summary": "Give requests (a household's) to a staff member to work, or give them up, while each still has the holder the caller saw: two officers taking one case at once get it once, the second told who has it. Anyone who enters requests may take requests nobody holds and give up their own; giving cases to others is a supervisor's", "security": bearer,
                    "requestBody": json_body(json!({
                        "type": "object", "additionalProperties": false, "required": ["request"],
                        "properties": {
                            "request": { "type": "array", "items": { "type": "string", "format": "uuid" }, "minItems": 1, "maxItems": evac_model::BULK_REQUESTS_MAX },
                            "officer": { "type": ["string", "null"], "description": "the user name who will hold them; empty or absent gives them up" },
                            "held_by": { "type": ["string", "null"], "description": "the holder the caller saw (empty: nobody); absent: whoever (supervisors)" }
                        },
                        "examples": [{ "request": ["0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11"], "officer": "officer1", "held_by": "" }]
                    })),
                    "responses": {
                        "200": { "description": "who holds the requests now", "content": { "application/json": { "schema": { "type": "object", "properties": {
                            "items": { "type": "array", "items": { "type": "object", "properties": { "request": { "type": "string", "format": "uuid" }, "officer": { "type": "string" }, "officer_id": { "type": "string" }, "since": { "type": "string", "format": "date-time" } } } }
                        } } } } },
                        "403": problem_response("role may not enter requests, or may not give cases to others"),
                        "404": problem_response("no such request"),
                        "409": problem_response("someone changed who holds them since; the detail says who holds them now"),
                        "422": problem_response("no request, an id that is not one, or an unknown staff member, each named")
                    }
                }
            },
            "/api/v1/requests/{id}/history": {
                "get": {
                    "summary": "Every change to the request's people, oldest first: status changes (by the plan, the gate or staff) and notes, each with who, when and why", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "responses": { "200": { "description": "the history" }, "403": problem_response("role may not read requests"), "404": problem_response("no such request") }
                }
            },
            "/api/v1/requests/{id}/persons/{person}/events": {
                "post": {
                    "summary": "Change a person's status by hand (registered, verified, withdrawn, unreachable, ineligible, arrived) or, without status, add a note; withdrawing or ruling ineligible someone who holds a seat releases it", "security": bearer,
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } },
                        { "name": "person", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "additionalProperties": false, "required": ["reason"],
                        "properties": { "status": { "type": "string", "enum": ["registered", "verified", "withdrawn", "unreachable", "ineligible", "arrived"] }, "reason": { "type": "string", "maxLength": 2000 } }
                    } } } },
                    "responses": { "201": { "description": "the request's history after the change" }, "403": problem_response("role may not make this change"), "404": problem_response("no such request or person"), "422": problem_response("no reason, or a status set only by the plan, the gate or linkage") }
                }
            },
            "/api/v1/requests/by-reference/{reference}": {
                "get": {
                    "summary": "One request by its reference code", "security": bearer,
                    "parameters": [{ "name": "reference", "in": "path", "required": true, "schema": { "type": "string", "examples": ["K7Q-4F2-9MX"] } }],
                    "responses": { "200": { "description": "the request", "content": { "application/json": { "schema": request_ref } } }, "404": problem_response("no such request"), "422": problem_response("the code is mistyped") }
                }
            },
            "/api/v1/exports/cases": {
                "get": {
                    "summary": "Export the case list's view: a row per household, in the order triage serves them (rank, class and its name, people, marks, its requests' references, place, first received), filtered as the case list is; streamed with flat memory; audited", "security": bearer,
                    "parameters": [
                        { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["csv", "jsonl", "xlsx"] } },
                        { "name": "hxl", "in": "query", "schema": { "type": "boolean" }, "description": "a row of HXL hashtags under the header" },
                        { "name": "class", "in": "query", "schema": { "type": "integer", "minimum": 1 }, "description": "households of this priority class (1 is served first)" },
                        { "name": "mark", "in": "query", "schema": { "type": "string", "enum": evac_app::CaseMark::ALL.map(evac_app::CaseMark::as_str) } },
                        { "name": "mine", "in": "query", "schema": { "type": "boolean" }, "description": "households one of whose requests the caller holds" }
                    ],
                    "responses": { "200": { "description": "the file" }, "403": problem_response("role may not export"), "409": problem_response("the households are being ranked; try again in a moment"), "422": problem_response("a parameter it cannot read, named") }
                }
            },
            "/api/v1/exports/requests": {
                "get": {
                    "summary": "Export requests (one row per person), streamed", "security": bearer, "parameters": export_parameters,
                    "responses": { "200": { "description": "the file", "content": { "text/csv": {}, "application/x-ndjson": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {} } }, "403": problem_response("role may not export") }
                }
            },
            "/api/v1/audit": {
                "get": {
                    "summary": "The audit trail, oldest first", "security": bearer,
                    "parameters": [{ "name": "after", "in": "query", "schema": { "type": "integer" } }, { "name": "limit", "in": "query", "schema": { "type": "integer" } }],
                    "responses": { "200": { "description": "a page of events" }, "403": problem_response("role may not read the audit trail") }
                }
            },
            "/api/v1/situation": {
                "get": {
                    "summary": "Every hub, route and zone with its status at a time, derived from the reports the trust policy trusts (confirmed, or graded at least B2 by default, fading with age); conflicting claims are listed beside the status, untrusted ones for the record", "security": bearer,
                    "parameters": [at_parameter.clone()],
                    "responses": { "200": { "description": "the situation picture" }, "403": problem_response("role may not read the situation"), "422": problem_response("at is not a time") }
                }
            },
            "/api/v1/hubs": {
                "get": {
                    "summary": "Hubs people leave from, each with its derived status at a time", "security": bearer,
                    "parameters": [at_parameter.clone()],
                    "responses": { "200": { "description": "hubs" }, "403": problem_response("role may not read the situation") }
                },
                "post": {
                    "summary": "Add or replace a hub (rail station, bus terminal, border crossing, airport)", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["code", "kind", "name", "country", "lat", "lon"], "properties": { "code": { "type": "string" }, "kind": { "type": "string", "enum": evac_model::HubKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() }, "name": { "type": "string" }, "country": { "type": "string", "examples": ["KZ"] }, "municipality": { "type": "string" }, "lat": { "type": "number" }, "lon": { "type": "number" } } })),
                    "responses": { "201": { "description": "stored" }, "403": problem_response("role may not change the situation"), "422": problem_response("a field is invalid") }
                }
            },
            "/api/v1/routes": {
                "post": {
                    "summary": "Add or replace a route from a town (any script) to a hub; distance and travel time are estimated (road factor, speed)", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["code", "mode", "from", "to_hub"], "properties": { "code": { "type": "string" }, "mode": { "type": "string", "enum": evac_model::RouteMode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>() }, "from": { "type": "string", "examples": ["Алматы"] }, "to_hub": { "type": "string", "examples": ["FRU"] } } })),
                    "responses": { "201": { "description": "stored, with distance_km and travel_minutes" }, "403": problem_response("role may not change the situation"), "422": problem_response("unknown place or hub, or a bad code") }
                }
            },
            "/api/v1/zones": {
                "post": {
                    "summary": "Add or replace a zone (a circle around a town or a point) whose threat level statements set", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["code", "radius_km"], "properties": { "code": { "type": "string" }, "name": { "type": "string" }, "around": { "type": "string", "description": "a town; or give lat and lon" }, "lat": { "type": "number" }, "lon": { "type": "number" }, "radius_km": { "type": "number", "exclusiveMinimum": 0, "maximum": 500 } } })),
                    "responses": { "201": { "description": "stored" }, "403": problem_response("role may not change the situation"), "422": problem_response("unknown place, bad radius or code") }
                }
            },
            "/api/v1/statuses": {
                "post": {
                    "summary": "Set a status by hand: stored as a confirmed report of the staff member with one statement", "security": bearer,
                    "requestBody": json_body(statement_schema.clone()),
                    "responses": { "201": { "description": "stored; the report's id" }, "403": problem_response("role may not change the situation"), "422": problem_response("unknown subject, or an effect that does not fit it") }
                }
            },
            "/api/v1/reports": {
                "get": {
                    "summary": "Situation reports, newest first, with their Admiralty grade (null until graded) and the places they mention", "security": bearer,
                    "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer" } }],
                    "responses": { "200": { "description": "reports" }, "403": problem_response("role may not read the situation") }
                },
                "post": {
                    "summary": "Ingest a report: free text in any language, or an OASIS CAP 1.2 alert; it becomes a draft with the places and hubs it mentions and suggested statements (which count once it is graded or confirmed)", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["text"], "properties": { "text": { "type": "string", "description": "the text, or the CAP alert's XML" }, "source": { "type": "string", "description": "who it comes from (a CAP alert names its sender)" } } })),
                    "responses": { "201": { "description": "a new draft report" }, "200": { "description": "the same report was ingested before; the stored one" }, "403": problem_response("role may not change the situation"), "422": problem_response("empty, too long, or a broken CAP alert") }
                }
            },
            "/api/v1/reports/{id}": {
                "get": {
                    "summary": "A report with its statements", "security": bearer,
                    "parameters": [id_parameter.clone()],
                    "responses": { "200": { "description": "the report" }, "404": problem_response("no such report") }
                },
                "patch": {
                    "summary": "Grade a report (Admiralty A–F, 1–6) and/or confirm or dismiss it", "security": bearer,
                    "parameters": [id_parameter.clone()],
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "properties": { "grade": { "type": "string", "examples": ["A1", "E5"] }, "state": { "type": "string", "enum": evac_model::ReportState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>() } } })),
                    "responses": { "200": { "description": "the report as judged" }, "403": problem_response("role may not change the situation"), "404": problem_response("no such report"), "422": problem_response("not a grade or state") }
                }
            },
            "/api/v1/reports/{id}/statements": {
                "post": {
                    "summary": "Add a statement to a report: its subject (hub:CODE, route:CODE, zone:CODE), effect (open, restricted, closed, curfew:HH:MM-HH:MM for daily closed hours in local time, threat:N) and window", "security": bearer,
                    "parameters": [id_parameter.clone()],
                    "requestBody": json_body(statement_schema.clone()),
                    "responses": { "201": { "description": "added" }, "404": problem_response("no such report"), "422": problem_response("unknown subject, or an effect that does not fit it") }
                }
            },
            "/api/v1/plans": {
                "post": {
                    "summary": "Plan every household onto the stored transports at `at` (default now; a preview, nothing is stored): highest priority class first, then earliest departure; households never split; children alone only with escorts; hubs open at departure and reachable in time. Every household left without a seat says what kept it off each transport", "security": bearer,
                    "parameters": [at_parameter.clone()],
                    "responses": { "200": { "description": "seated households by transport, waiting households with reasons, the objective per class" }, "403": problem_response("only planners and supervisors plan") }
                }
            },
            "/api/v1/plans/publish": {
                "post": {
                    "summary": "Re-plan at `at` (default now) keeping households already told where they still fit, store the seats and issue boarding passes; answers who moved, who gained a seat and who lost one, with reasons, and who waits and why", "security": bearer,
                    "parameters": [at_parameter.clone()],
                    "responses": { "200": { "description": "moved, gained, lost, waiting; passes issued" }, "403": problem_response("only planners and supervisors publish") }
                }
            },
            "/api/v1/transports/{id}/manifest": {
                "get": {
                    "summary": "The passenger manifest: surname, given names (as written and ICAO Latin), birth date, sex, nationality, document type, number, expiry and issuing state, household, priority class, escort of each unaccompanied minor, special needs, boarding order and status", "security": bearer,
                    "parameters": [id_parameter.clone(), { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "csv", "xlsx", "pdf"] } }],
                    "responses": { "200": { "description": "the manifest as JSON, CSV (UTF-8 with BOM), XLSX or PDF" }, "403": problem_response("only planners, field officers and supervisors read manifests"), "404": problem_response("no such transport") }
                }
            },
            "/api/v1/transports/{id}/passes": {
                "get": {
                    "summary": "Every current boarding pass of the transport with its signed token (the QR code's content); `format=pdf` prints six per page with QR codes", "security": bearer,
                    "parameters": [id_parameter.clone(), { "name": "format", "in": "query", "schema": { "type": "string", "enum": ["json", "pdf"] } }],
                    "responses": { "200": { "description": "passes" }, "403": problem_response("only planners, field officers and supervisors read passes"), "404": problem_response("no such transport") }
                }
            },
            "/api/v1/transports/{id}/no-shows": {
                "post": {
                    "summary": "At the call time `at` (default now): release the seats of everyone not checked in and seat standby households in priority order", "security": bearer,
                    "parameters": [id_parameter.clone(), at_parameter.clone()],
                    "responses": { "200": { "description": "people released, standby households seated, and households held back because children of theirs lost their escort and the escorts on board (here or on an onward leg) cannot take them (`held_back`, each with why)" }, "403": problem_response("only field officers, planners and supervisors"), "404": problem_response("no such transport") }
                }
            },
            "/api/v1/boarding/key": {
                "get": {
                    "summary": "The Ed25519 public key (base64url) that verifies boarding passes offline", "security": bearer,
                    "responses": { "200": { "description": "the key and the token format" } }
                }
            },
            "/api/v1/check-in": {
                "post": {
                    "summary": "Check a passenger in with the token of their pass (scanned or typed): once", "security": bearer,
                    "requestBody": json_body(token_schema.clone()),
                    "responses": { "200": { "description": "who was checked in: name, birth date, document number to compare" }, "409": problem_response("already checked in (a second scan), or the pass was replaced or released"), "422": problem_response("forged, altered or damaged token") }
                }
            },
            "/api/v1/boarding": {
                "post": {
                    "summary": "Board a checked-in passenger with the token of their pass", "security": bearer,
                    "requestBody": json_body(token_schema.clone()),
                    "responses": { "200": { "description": "who boarded" }, "409": problem_response("not checked in, or already boarded"), "422": problem_response("forged, altered or damaged token") }
                }
            },
            "/api/v1/transports": {
                "get": {
                    "summary": "The transports (flight, bus, train, convoy), earliest departure first (or in `order`, ties by departure), filtered by status and hub; `total` counts them all", "security": bearer,
                    "parameters": [
                        { "name": "status", "in": "query", "schema": { "type": "string", "enum": evac_model::TransportStatus::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() } },
                        { "name": "hub", "in": "query", "schema": { "type": "string", "examples": ["ALA"] }, "description": "a hub's code, in any case" },
                        { "name": "order", "in": "query", "schema": { "type": "string", "enum": evac_app::TransportOrder::ALL.map(evac_app::TransportOrder::as_str) }, "description": "departure (earliest first), code, hub, or seats (most first)" }
                    ],
                    "responses": { "200": { "description": "`{ items, total }`" }, "403": problem_response("role may not read the situation"), "422": problem_response("a parameter it cannot read, named") }
                },
                "post": {
                    "summary": "Add a transport: hub, departure, destination, seats, stretcher and wheelchair places, escorts on board", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["code", "kind", "hub", "destination", "departs_at", "seats"], "properties": { "code": { "type": "string", "examples": ["RF-7042"] }, "kind": { "type": "string", "enum": evac_model::TransportKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() }, "hub": { "type": "string", "examples": ["NQZ"] }, "destination": { "type": "string" }, "departs_at": { "type": "string", "description": "RFC 3339 (2022-01-07T06:00:00Z), or a wall-clock time without an offset (2022-01-07T12:00), read in the crisis's time zone", "examples": ["2022-01-07T06:00:00Z", "2022-01-07T12:00"] }, "seats": { "type": "integer", "minimum": 1, "maximum": evac_model::TRANSPORT_SEATS_MAX }, "stretcher_places": { "type": "integer" }, "wheelchair_places": { "type": "integer" }, "escorts": { "type": "integer" }, "status": { "type": "string", "enum": evac_model::TransportStatus::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() }, "payload_kg": { "type": "integer", "minimum": evac_model::TRANSPORT_PAYLOAD_KG_MIN, "maximum": evac_model::TRANSPORT_PAYLOAD_KG_MAX, "description": "kilograms of people (standard masses) and checked baggage it may lift; absent: seats are its only bound", "examples": [40000] }, "baggage_kg_per_person": { "type": "integer", "minimum": 0, "maximum": evac_model::BAGGAGE_KG_PER_PERSON_MAX, "description": "checked baggage each passenger may bring, in kilograms (counted toward the payload)", "examples": [20] }, "carries_citizens_of": { "type": "string", "description": "whose citizens alone it carries, with their dependants: ISO 3166 codes separated by commas or spaces; absent: whoever the policy seats", "examples": ["RU, BY"] }, "feeds_hub": { "type": "string", "description": "for a feeder (a convoy to another hub, whose people take a transport out from there, planned as one journey): the hub it ends at; absent: it takes people out", "examples": ["NQZ"] }, "arrives_at": { "type": "string", "description": "for a feeder: when it arrives at feeds_hub (as departs_at)", "examples": ["2022-01-09T22:00:00Z"] } } })),
                    "responses": { "201": { "description": "stored" }, "403": problem_response("only planners and supervisors add transports"), "409": problem_response("a transport with this code and departure exists already"), "422": problem_response("a field is invalid or the hub is unknown") }
                }
            },
            "/api/v1/transports/{id}": {
                "patch": {
                    "summary": "Move a transport to another status (a departed or cancelled one stays so)", "security": bearer,
                    "parameters": [id_parameter.clone()],
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["status"], "properties": { "status": { "type": "string", "enum": evac_model::TransportStatus::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() } } })),
                    "responses": { "200": { "description": "the transport" }, "404": problem_response("no such transport"), "409": problem_response("departed or cancelled"), "422": problem_response("not a status") }
                }
            },
            "/api/v1/triage": {
                "get": {
                    "summary": "Cases (households across linked requests) first served first, each with its class, score and the rules that produced them", "security": bearer,
                    "parameters": [at_parameter.clone(), { "name": "limit", "in": "query", "schema": { "type": "integer" } }],
                    "responses": { "200": { "description": "ranked cases" }, "403": problem_response("role may not read requests") }
                }
            },
            "/api/v1/triage/moves": {
                "get": {
                    "summary": "What moved since a time: today's cases ranked under the policy version and the situation (zone threats) of `since`, and under today's; a change of policy or situation shows here", "security": bearer,
                    "parameters": [{ "name": "since", "in": "query", "required": true, "schema": { "type": "string", "format": "date-time" } }, { "name": "limit", "in": "query", "schema": { "type": "integer" }, "description": "moves listed (default 100)" }],
                    "responses": { "200": { "description": "cases, moved, moves (most moved first)" }, "422": problem_response("since is missing or not a time") }
                }
            },
            "/api/v1/triage/policy": {
                "get": {
                    "summary": "The triage policy in force (TOML) and its version (0: the built-in default)", "security": bearer,
                    "responses": { "200": { "description": "the policy" } }
                },
                "put": {
                    "summary": "Store a new version of the triage policy; every case is re-ranked and the answer lists what moved", "security": bearer,
                    "parameters": [{ "name": "limit", "in": "query", "schema": { "type": "integer" }, "description": "moves listed (default 100)" }],
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["toml"], "properties": { "toml": { "type": "string" } } })),
                    "responses": { "200": { "description": "version, cases, moved, moves" }, "403": problem_response("only supervisors change the policy"), "422": problem_response("the policy is not valid") }
                }
            },
            "/api/v1/review": {
                "get": {
                    "summary": "The duplicate review queue: uncertain pairs of records, the most doubtful first (or in `order`), each side with its request, names and birth, and the per-field match weights; with how many pairs wait (`pending`) and how many the filter lets through (`matching`)", "security": bearer,
                    "parameters": [
                        { "name": "limit", "in": "query", "schema": { "type": "integer" } },
                        { "name": "order", "in": "query", "schema": { "type": "string", "enum": evac_app::ReviewOrder::ALL.map(evac_app::ReviewOrder::as_str) } },
                        { "name": "probability_min", "in": "query", "schema": { "type": "number", "minimum": 0, "maximum": 100 }, "description": "pairs whose match probability is at least this many percent" },
                        { "name": "probability_max", "in": "query", "schema": { "type": "number", "minimum": 0, "maximum": 100 }, "description": "pairs whose match probability is at most this many percent" },
                        { "name": "from", "in": "query", "schema": { "type": "integer", "minimum": 0 }, "description": "pairs to skip (the page's start)" }
                    ],
                    "responses": { "200": { "description": "`{ items, pending, matching }`" }, "403": problem_response("role may not review duplicates"), "422": problem_response("a parameter it cannot read, named") }
                }
            },
            "/api/v1/review/{seq}": {
                "post": {
                    "summary": "Decide a review item (or an auto-merge): the same person or two people; decisions are audited and refine the model", "security": bearer,
                    "parameters": [{ "name": "seq", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["decision"], "properties": { "decision": { "type": "string", "enum": ["match", "distinct"] } } } } } },
                    "responses": { "201": { "description": "decision logged" }, "400": problem_response("not a review item or an auto-merge"), "404": problem_response("no such link event"), "409": problem_response("the pair was decided already"), "422": problem_response("decision is neither match nor distinct") }
                }
            },
            "/api/v1/links/{seq}/undo": {
                "post": {
                    "summary": "Undo a merge or a decision (an undone auto-merge returns to the review queue)", "security": bearer,
                    "parameters": [{ "name": "seq", "in": "path", "required": true, "schema": { "type": "integer" } }],
                    "responses": { "201": { "description": "undone" }, "404": problem_response("no such link event"), "409": problem_response("already undone") }
                }
            },
            "/api/v1/requests/{id}/links": {
                "get": {
                    "summary": "A request's people linked to records in other requests (with the other request's reference and the link event), and every request of its household", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "responses": { "200": { "description": "links" }, "404": problem_response("no such request") }
                }
            },
            "/api/v1/channels/sms/inbound": {
                "get": {
                    "summary": "Kannel's inbound SMS (smsbox get-url): stored, read (STATUS, YES/NO in four languages, a reference code), answered through the outbox; the answer is always empty so Kannel sends nothing itself",
                    "parameters": [
                        { "name": "secret", "in": "query", "required": true, "schema": { "type": "string" }, "description": "the deployment's callback secret ([messaging] callback_secret)" },
                        { "name": "from", "in": "query", "required": true, "schema": { "type": "string" }, "description": "the sender's number (%p)" },
                        { "name": "text", "in": "query", "required": false, "schema": { "type": "string" }, "description": "the message (%a, UTF-8: smsbox needs mo-recode)" },
                        { "name": "id", "in": "query", "required": false, "schema": { "type": "string" }, "description": "Kannel's message id (%I): the same SMS twice is stored once" }
                    ],
                    "responses": { "200": { "description": "stored (empty body)" }, "401": problem_response("wrong or missing secret") }
                }
            },
            "/api/v1/channels/sms/delivery": {
                "get": {
                    "summary": "Kannel's delivery report (dlr-url) for a message evac sent",
                    "parameters": [
                        { "name": "secret", "in": "query", "required": true, "schema": { "type": "string" } },
                        { "name": "message", "in": "query", "required": true, "schema": { "type": "string", "format": "uuid" }, "description": "the outbox message's id" },
                        { "name": "status", "in": "query", "required": true, "schema": { "type": "integer" }, "description": "Kannel's %d: 1 delivered, 2 undelivered; others are ignored" }
                    ],
                    "responses": { "200": { "description": "recorded (empty body)" }, "401": problem_response("wrong or missing secret"), "422": problem_response("not a message id") }
                }
            },
            "/api/v1/outbox": {
                "get": {
                    "summary": "Messages to requesters, newest first, with every state's count and the inbox waiting for a human", "security": bearer,
                    "parameters": [
                        { "name": "request", "in": "query", "schema": { "type": "string", "format": "uuid" } },
                        { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["queued", "sending", "sent", "delivered", "failed", "given_up"] } },
                        { "name": "limit", "in": "query", "schema": { "type": "integer" } }
                    ],
                    "responses": { "200": { "description": "messages, counts, inbox_waiting" }, "403": problem_response("role may not read requests"), "422": problem_response("bad filter") }
                }
            },
            "/api/v1/inbox": {
                "get": {
                    "summary": "Messages from requesters, newest first; by default those waiting for a human (unmatched, to_read)", "security": bearer,
                    "parameters": [
                        { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["unmatched", "to_read", "attached", "handled"] } },
                        { "name": "request", "in": "query", "schema": { "type": "string", "format": "uuid" } },
                        { "name": "limit", "in": "query", "schema": { "type": "integer" } }
                    ],
                    "responses": { "200": { "description": "inbound messages" }, "403": problem_response("role may not read requests") }
                }
            },
            "/api/v1/inbox/{id}": {
                "post": {
                    "summary": "A human handled an inbound message (and attached it to the request of `reference`)", "security": bearer,
                    "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }],
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "properties": { "reference": { "type": "string", "example": "K7Q-4F2-9MX" } } })),
                    "responses": { "200": { "description": "handled" }, "404": problem_response("no such message or request"), "422": problem_response("not a reference code") }
                }
            },
            "/api/v1/broadcasts/preview": {
                "post": {
                    "summary": "Who a broadcast would reach (requests, recipients per channel, the text per language) and the id to send it with; nothing is sent", "security": bearer,
                    "requestBody": json_body(broadcast_schema()),
                    "responses": { "200": { "description": "id, requests, recipients, by_channel, samples, unreachable_requests" }, "403": problem_response("role may not send broadcasts"), "404": problem_response("no transport with that code"), "422": problem_response("no text, no group, a field too long") }
                }
            },
            "/api/v1/broadcasts": {
                "post": {
                    "summary": "Queues a previewed broadcast (its id; with expected_recipients, refused when the group changed); audited", "security": bearer,
                    "requestBody": json_body(broadcast_schema()),
                    "responses": { "202": { "description": "id, recipients, queued" }, "403": problem_response("role may not send broadcasts"), "404": problem_response("no such transport"), "409": problem_response("the group changed since the preview"), "422": problem_response("no id, no text, no group") }
                }
            },
            "/api/v1/reconfirmations": {
                "post": {
                    "summary": "Asks every request that waited longer than older_than_hours whether it still needs to leave (once per request), and marks unreachable those asked longer than answer_within_hours ago who did not answer YES or NO (they take no new seat until they do); audited", "security": bearer,
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["older_than_hours", "answer_within_hours"], "properties": { "older_than_hours": { "type": "integer", "minimum": 1, "example": 72 }, "answer_within_hours": { "type": "integer", "minimum": 1, "example": 24 } } })),
                    "responses": { "200": { "description": "asked, marked_unreachable, unreachable_by_any_channel, skipped" }, "403": problem_response("role may not send broadcasts"), "422": problem_response("hours missing or out of range") }
                }
            },
            "/api/v1/requests/{id}/calls": {
                "get": { "summary": "A request's calls (the hotline's log), oldest first, and its place in the callback queue", "security": bearer, "parameters": [id_parameter.clone()], "responses": { "200": { "description": "items (direction, outcome, phone, operator, note, at) and callback (due_at, reason, attempts) or null" }, "404": problem_response("no such request") } },
                "post": {
                    "summary": "Logs a call to or from the request's people. A call that did not reach them (no_answer, busy, left_message) queues a callback after a wait that grows with failed tries (15, 30, 60, 120, then 240 minutes) unless callback_in_minutes names it; reached or wrong_number settles the queue; audited without the number or note", "security": bearer,
                    "parameters": [id_parameter.clone()],
                    "requestBody": json_body(json!({ "type": "object", "additionalProperties": false, "required": ["direction", "outcome"], "properties": {
                        "direction": { "type": "string", "enum": ["inbound", "outbound"] },
                        "outcome": { "type": "string", "enum": ["reached", "no_answer", "busy", "left_message", "wrong_number"] },
                        "phone": { "type": "string", "example": "+7 701 555 00 11" },
                        "note": { "type": "string", "maxLength": evac_model::CALL_NOTE_CHARS_MAX },
                        "callback_in_minutes": { "type": "integer", "minimum": 0, "maximum": evac_model::CALLBACK_IN_MINUTES_MAX }
                    } })),
                    "responses": { "201": { "description": "call and callback (the request's place in the queue afterwards, or null)" }, "403": problem_response("role may not write requests"), "404": problem_response("no such request"), "422": problem_response("direction or outcome missing or unknown, callback for a wrong number") }
                }
            },
            "/api/v1/callbacks": { "get": { "summary": "The callback queue, soonest due first: each request with its reference, place, numbers, reason, failed tries and who holds it", "security": bearer, "responses": { "200": { "description": "items" } } } },
            "/api/v1/callbacks/next": { "post": { "summary": "Gives the caller the next due callback nobody else holds, for 15 minutes (asking again gives back the one held); two operators never get the same family", "security": bearer, "responses": { "200": { "description": "the callback with its request's reference and numbers" }, "204": { "description": "nothing is due" }, "403": problem_response("role may not write requests") } } },
            "/api/v1/channels/telegram/webhook": {
                "post": {
                    "summary": "An update from the messenger bot (Telegram's Bot API setWebhook, with its secret_token in X-Telegram-Bot-Api-Secret-Token). A shared contact of one's own links the chat to that number; /start asks for it; other text is read as a reply (YES, NO, STATUS) from the linked number, or waits for a human. Stored before the answer",
                    "requestBody": json_body(json!({ "type": "object", "required": ["update_id"], "properties": { "update_id": { "type": "integer" }, "message": { "type": "object" } } })),
                    "responses": { "200": { "description": "stored (empty body)" }, "401": problem_response("no or wrong secret, or no webhook secret configured"), "422": problem_response("not an update, or larger than 64 KiB") }
                }
            },
            "/api/v1/me": { "get": { "summary": "Who the token belongs to", "security": bearer, "responses": { "200": { "description": "name and role" }, "401": problem_response("no or invalid token") } } }
        }
    })
}

/// A broadcast: its text and its group (the filters combine).
fn broadcast_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["text"],
        "properties": {
            "text": { "type": "string", "maxLength": evac_model::BROADCAST_CHARS_MAX, "example": "Almaty airport is closed today; stay where you are.", "description": "for every language without a text of its own" },
            "text_ru": { "type": "string", "maxLength": evac_model::BROADCAST_CHARS_MAX, "example": "Аэропорт Алматы сегодня закрыт; оставайтесь на месте." },
            "text_kk": { "type": "string", "maxLength": evac_model::BROADCAST_CHARS_MAX },
            "text_it": { "type": "string", "maxLength": evac_model::BROADCAST_CHARS_MAX },
            "text_en": { "type": "string", "maxLength": evac_model::BROADCAST_CHARS_MAX },
            "place": { "type": "string", "example": "Almaty" },
            "transport": { "type": "string", "example": "KC 901" },
            "status": { "type": "string", "example": "registered" },
            "expected_recipients": { "type": "integer" },
            "id": { "type": "string", "format": "uuid" }
        }
    })
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = build();
        complete_refusals(&mut doc);
        doc
    })
}

/// Adds the refusals every operation of a kind can answer, where its entry does not name them
/// already (schemathesis found them missing): 401 and 403 for staff operations, 400 (a body
/// that is not JSON, a path or query that cannot be read) and 422 (an invalid field) for
/// operations that take a body or parameters, 404 for those with a path parameter.
fn complete_refusals(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(operations) = item.as_object_mut() else {
            continue;
        };
        for operation in operations.values_mut() {
            let staff = operation.get("security").is_some();
            let body = operation.get("requestBody").is_some();
            let parameters = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty());
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            let mut add = |code: &str, why: &str| {
                responses
                    .entry(code)
                    .or_insert_with(|| problem_response(why));
            };
            if staff {
                add("401", "no or invalid token");
                add("403", "the token's role may not do this");
            }
            if body || parameters || path.contains('{') {
                add(
                    "400",
                    "a body that is not JSON, or a path or query that cannot be read",
                );
                add("422", "an invalid field, named in errors[].path");
            }
            if path.contains('{') {
                add("404", "nothing with that id");
            }
        }
    }
}

pub async fn serve_document() -> Json<Value> {
    Json(document().clone())
}
