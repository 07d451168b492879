//! Handlers, one module per area. Each reads its input, calls the app, and shapes the answer.

pub mod audit;
pub mod export;
pub mod health;
pub mod intake;
pub mod linkage;
pub mod situation;
