//! Handlers, one module per area. Each reads its input, calls the app, and shapes the answer.

pub mod audit;
pub mod boarding;
pub mod export;
pub mod health;
pub mod intake;
pub mod linkage;
pub mod situation;

/// The `limit` query parameter: a page size between 1 and the store's page bound, `default`
/// when absent or unreadable.
pub fn limit(query: &std::collections::HashMap<String, String>, default: u32) -> u32 {
    query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default)
        .clamp(1, evac_store::PAGE_ITEMS_MAX)
}
