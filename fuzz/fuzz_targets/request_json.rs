//! The body of `POST /api/v1/requests`, decoded and validated as the server does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    evac_web::fuzz_entry::request_json(data);
});
