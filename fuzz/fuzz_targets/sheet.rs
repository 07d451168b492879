//! A partner's spreadsheet, as `evac import` and the mail reader open it: the first byte picks
//! the file's kind (CSV, TSV or XLSX), the rest is the file. Every row is read; a refusal is
//! fine, a panic, a hang or unbounded memory is the failure.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let name = match kind % 3 {
        0 => "partner.csv",
        1 => "partner.tsv",
        _ => "partner.xlsx",
    };
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .expect("the file is written");
    if let Ok((_header, rows)) = evac_exchange::import::open_sheet(&path) {
        for row in rows {
            let _ = row;
        }
    }
});
