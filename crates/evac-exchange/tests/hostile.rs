//! Hostile input (issue 26, item 8): whatever bytes a partner's file or a report holds, the
//! readers answer with rows, refusals or an error, never a panic. Randomised with proptest
//! (a fixed number of cases here; `scripts/hostile-input.sh` runs many more for a set time).
//! Coverage-guided fuzzing of the same readers is in `fuzz/` (cargo-fuzz, `scripts/fuzz.sh`),
//! by hand: these run in every test run.

use std::io::Write;

use evac_exchange::import::open_sheet;
use evac_exchange::reports::{ReadingContext, read_report};
use evac_geo::Gazetteer;
use proptest::prelude::*;

/// Reads every row of a file as `evac import` would; panics are the failure.
fn read_all(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    if let Ok((_header, rows)) = open_sheet(&path) {
        for row in rows {
            let _ = row;
        }
    }
}

/// Text that looks like a spreadsheet: separators, quotes, line ends, a BOM, Cyrillic,
/// formulas and control characters, in any order.
fn csvish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\t".to_string()),
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("\u{feff}".to_string()),
        Just("surname,given_names,birth_date,phone,location".to_string()),
        Just("=HYPERLINK(\"x\")".to_string()),
        Just("Ахметова".to_string()),
        Just("\u{202e}".to_string()),
        Just("\0".to_string()),
        "[a-zA-Z0-9 .-]{0,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..200).prop_map(|p| p.concat())
}

/// A small valid workbook, to be damaged byte by byte.
fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, head) in ["surname", "given_names", "birth_date", "phone"]
        .iter()
        .enumerate()
    {
        sheet.write(0, col as u16, *head).unwrap();
    }
    for row in 1..5u32 {
        sheet.write(row, 0, "Ахметова").unwrap();
        sheet.write(row, 1, "Айгерим").unwrap();
        sheet.write(row, 2, "2011-04-04").unwrap();
        sheet.write(row, 3, "+77011234567").unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// Text that looks like a report: CAP elements in any order and nesting, place names, dates.
fn reportish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">".to_string()),
        Just("</alert>".to_string()),
        Just("<info>".to_string()),
        Just("</info>".to_string()),
        Just("<sent>2022-01-05T06:00:00+06:00</sent>".to_string()),
        Just("<expires>not a time</expires>".to_string()),
        Just("<area><areaDesc>Алматы</areaDesc><circle>43.2,76.9 10</circle></area>".to_string()),
        Just("<polygon>1,2 3,4 5,6 1,2</polygon>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("]]>".to_string()),
        Just("&amp;&#0;&#xFFFFFF;&bogus;".to_string()),
        Just("Аэропорт Алматы закрыт до 7 января".to_string()),
        Just("дорога на Бишкек перекрыта".to_string()),
        Just("Стрельба в Шымкенте с 7 – 10 января, 5-қаңтардан ".to_string()),
        Just("阿拉木图机场关闭 أغلق مطار ألماتي ".to_string()),
        Just("ул. Абая 10. St. ".to_string()),
        Just(" 2022-01-06 08:00 ".to_string()),
        "[a-zA-Zа-яА-Я0-9 .,:-]{0,20}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..120).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96)
    ))]

    #[test]
    fn any_bytes_as_a_csv_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        read_all("partner.csv", &bytes);
    }

    #[test]
    fn spreadsheet_like_text_is_read_or_refused(text in csvish()) {
        read_all("partner.csv", text.as_bytes());
        read_all("partner.tsv", text.as_bytes());
    }

    #[test]
    fn a_damaged_workbook_is_read_or_refused(
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = workbook();
        for (at, byte) in damage {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        read_all("partner.xlsx", &bytes);
    }

    #[test]
    fn any_text_as_a_report_is_read_or_refused(text in reportish()) {
        // The picture's routes and a zone, so sentences about roads and towns are read too.
        let routes = [evac_model::Route {
            code: "almaty-bishkek".into(),
            mode: evac_model::RouteMode::Road,
            from_place: "geonames:1526384".into(),
            from_name: "Almaty".into(),
            to_hub: "FRU".into(),
            distance_km: 240.0,
            travel_minutes: 300,
        }];
        let zones = [evac_model::Zone {
            code: "almaty-centre".into(),
            name: "Almaty centre".into(),
            lat: 43.25,
            lon: 76.91,
            radius_km: 12.0,
        }];
        let context = ReadingContext {
            routes: &routes,
            zones: &zones,
            country: Some("KZ".into()),
            time_zone: jiff::tz::TimeZone::get("Asia/Almaty").unwrap(),
            ..ReadingContext::new(gazetteer(), "2022-01-06T12:00:00Z".parse().unwrap())
        };
        let _ = read_report(&text, &context);
    }
}

fn gazetteer() -> &'static Gazetteer {
    static G: std::sync::LazyLock<Gazetteer> = std::sync::LazyLock::new(Gazetteer::shipped);
    &G
}

/// The damage strategy must reach the workbook's XML, not only its zip headers: a valid
/// workbook reads, so the properties above start from something readable.
#[test]
fn the_undamaged_workbook_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.xlsx");
    std::fs::write(&path, workbook()).unwrap();
    let (header, rows) = open_sheet(&path).unwrap();
    assert_eq!(header[0], "surname");
    assert_eq!(rows.filter(Result::is_ok).count(), 4);
}
