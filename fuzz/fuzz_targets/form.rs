//! A desk form's body (the broadcast and transport forms), decoded into the same drafts the
//! API's JSON is, and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    evac_web::fuzz_entry::form(data);
});
