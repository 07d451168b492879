//! A situation report as `evac report ingest` reads it: plain text in any language, or OASIS
//! CAP 1.2 XML, with the places it mentions resolved against the shipped gazetteer.
#![no_main]

use std::sync::LazyLock;

use evac_geo::Gazetteer;
use libfuzzer_sys::fuzz_target;

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(Gazetteer::shipped);

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = evac_exchange::reports::read_report(
            text,
            &GAZETTEER,
            "2022-01-06T12:00:00Z".parse().expect("a time"),
        );
    }
});
