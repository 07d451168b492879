//! Import and export at the file boundary: compact fixtures in, drafts and rows out.

use evac_exchange::import::{Grouper, open_sheet};
use evac_exchange::mapping::{Field, ResolvedMapping};
use evac_model::{RequestDraft, ValidationContext};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn ctx() -> ValidationContext {
    ValidationContext {
        now: "2022-01-07T00:00:00Z".parse().unwrap(),
        default_region: Some("KZ".parse().unwrap()),
    }
}

/// Imports a file and returns, per group, either the validated party's Latin names or the
/// row errors as `line:column: reason`.
fn check(text: &str, mapping: Option<&str>) -> Vec<Result<Vec<String>, Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "list.csv", text);
    let (headers, rows) = open_sheet(&path).unwrap();
    let file = mapping.map(|m| ResolvedMapping::parse_file(m).unwrap());
    let mapping = ResolvedMapping::resolve(&headers, file.as_ref()).unwrap();
    Grouper::new(rows, &mapping)
        .map(|group| {
            let group = group.map_err(|e| vec![format!("{}: {}", e.row, e.reason)])?;
            let draft = group.to_draft(&mapping).map_err(|errs| {
                errs.iter()
                    .map(|e| format!("{}:{}: {}", e.row, e.column, e.reason))
                    .collect::<Vec<_>>()
            })?;
            let d: &RequestDraft = &draft.draft;
            match d.validate(&ctx()) {
                Ok(req) => Ok(req
                    .party
                    .iter()
                    .map(|p| {
                        p.surname
                            .as_ref()
                            .map(|n| n.latin.clone())
                            .unwrap_or_default()
                    })
                    .collect()),
                Err(errs) => Err(errs
                    .iter()
                    .map(|e| draft.locate(e, &mapping))
                    .map(|e| format!("{}:{}: {}", e.row, e.column, e.reason))
                    .collect()),
            }
        })
        .collect()
}

#[test]
fn russian_headers_work_without_a_mapping_and_households_group() {
    let got = check(
        "Семья;ФИО;Дата рождения;Телефон;Город;Родство\n\
         A1;Иванова Мария Петровна;02.03.1980;8 701 123 45 67;Алматы;сама\n\
         A1;Иванов Пётр Сергеевич;05.06.2012;;Алматы;сын\n\
         B2;Петров Олег;31.02.1990;8 701 765 43 21;Астана;\n\
         \n\
         C3;Smith;1975-01-01;12;Almaty;\n",
        None,
    );
    assert_eq!(
        got,
        vec![
            Ok(vec!["IVANOVA".to_string(), "IVANOV".to_string()]),
            Err(vec!["4:Дата рождения: '31.02.1990' is not a date; write 31.12.2012 or 2012-12-31, or give [formats] birth_date".to_string()]),
            Err(vec![
                "6:Телефон: '12' is not a valid phone number for KZ; check the digits or add the country code (+7, +39, ...)".to_string()
            ]),
        ]
    );
}

/// Issue 28, item 7: a list's "Страна назначения" column is the household's destination
/// country; a town written there is refused at its row and column, saying what to write.
#[test]
fn a_destination_country_column_feeds_the_households_destination() {
    let text = "Фамилия;Имя;Дата рождения;Телефон;Город;Страна назначения\n\
                Fischer;Anna;02.03.1980;8 701 123 45 67;Алматы;de\n\
                Müller;Jan;05.06.1982;8 701 123 45 68;Алматы;Berlin\n";
    let dir = tempfile::tempdir().unwrap();
    let (headers, rows) = open_sheet(&write(&dir, "list.csv", text)).unwrap();
    let mapping = ResolvedMapping::resolve(&headers, None).unwrap();
    let destinations: Vec<Option<String>> = Grouper::new(rows, &mapping)
        .map(|group| {
            let draft = group.unwrap().to_draft(&mapping).unwrap();
            draft
                .draft
                .validate(&ctx())
                .ok()
                .and_then(|r| r.destination_country.map(|c| c.to_string()))
        })
        .collect();
    assert_eq!(destinations, [Some("DE".to_string()), None]);
    assert_eq!(
        check(text, None)[1],
        Err(vec!["3:Страна назначения: 'Berlin' is not an ISO 3166 country code; use two letters such as KZ, RU, IT".to_string()])
    );
}

#[test]
fn a_mapping_file_names_columns_and_formats() {
    let mapping = r#"
        [columns]
        surname = "Last"
        given_names = "First"
        birth_date = "Born"
        phone = ["Mobile", "Home"]
        location = "Where"
        [formats]
        birth_date = "%m/%d/%Y"
        [defaults]
        country = "KZ"
    "#;
    let got = check(
        "Last,First,Born,Mobile,Home,Where\nRossi,Anna,07/30/2012,,8 727 250 12 34,Almaty\n",
        Some(mapping),
    );
    assert_eq!(got, vec![Ok(vec!["ROSSI".to_string()])]);
}

#[test]
fn a_mapping_naming_a_missing_column_says_which_columns_exist() {
    let headers = vec!["Last".to_string(), "First".to_string()];
    let file = ResolvedMapping::parse_file("[columns]\nsurname = \"Surname\"\n").unwrap();
    let err = ResolvedMapping::resolve(&headers, Some(&file))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the file has no such column; its columns are: Last, First"),
        "{err}"
    );
    let resolved = ResolvedMapping::resolve(&headers, None);
    assert!(
        resolved
            .unwrap_err()
            .to_string()
            .contains("no name column found")
    );
    assert_eq!(Field::from_key("surname"), Some(Field::Surname));
}

#[test]
fn exports_write_a_row_per_person_with_hxl_tags() {
    use evac_exchange::export::{Exporter, Format};
    let ctx = ctx();
    let draft = RequestDraft {
        location: evac_model::LocationDraft {
            text: Some("=HYPERLINK(\"http://evil.example\",\"Алматы\")".into()),
            ..Default::default()
        },
        submitter: evac_model::SubmitterDraft {
            phones: vec!["87011234567".into()],
            ..Default::default()
        },
        party: vec![
            evac_model::PersonDraft {
                surname: Some("Иванова".into()),
                birth_date: Some("1980-03-02".into()),
                ..Default::default()
            },
            evac_model::PersonDraft {
                surname: Some("Иванов".into()),
                birth_date: Some("2012-06-05".into()),
                relation: Some("child".into()),
                ..Default::default()
            },
        ],
        consent: Some(true),
        destination_country: Some("DE".into()),
        ..Default::default()
    };
    let body = draft.validate(&ctx).unwrap();
    let request = evac_model::Request {
        id: evac_model::RequestId::new_v7(),
        reference: "K7Q-4F2-9MX"
            .parse()
            .unwrap_or_else(|_| evac_model::ReferenceCode::generate(&mut rand_free())),
        received_at: ctx.now,
        body,
    };
    let mut out = Exporter::new(Format::Csv, Vec::new(), true).unwrap();
    out.write_request(&request, &[]).unwrap();
    let text = String::from_utf8(out.finish().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("\u{feff}request_id,reference,received_at"),
        "BOM and header"
    );
    assert!(
        lines[1].starts_with("#meta+id+request,#meta+ref,#date+received"),
        "HXL row"
    );
    assert_eq!(lines.len(), 4, "header, tags, two people");
    // A place written as a formula (issue 26: CSV exports wrote it unchanged) opens as text;
    // the phone keeps its plus.
    assert!(
        lines[2].contains("\"'=HYPERLINK(") && !lines[2].contains(",=HYPERLINK"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains(",+77011234567,"), "{}", lines[2]);
    assert!(
        lines[3].contains(",Иванов,") && lines[3].contains(",true,false,"),
        "the boy is a minor, accompanied: {}",
        lines[3]
    );

    let mut jsonl = Exporter::new(Format::Jsonl, Vec::new(), false).unwrap();
    jsonl.write_request(&request, &[]).unwrap();
    let text = String::from_utf8(jsonl.finish().unwrap()).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["name_latin"], "IVANOVA");
    assert_eq!(first["submitter_phone"], "+77011234567");
    // Issue 28, item 7: an export carries where the household asks to go (its column reads
    // back on import as "destination country").
    assert_eq!(first["destination_country"], "DE");

    let mut xlsx = Exporter::new(Format::Xlsx, Vec::new(), true).unwrap();
    xlsx.write_request(&request, &[]).unwrap();
    let bytes = xlsx.finish().unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip archive");
}

fn rand_free() -> impl rand::Rng {
    <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3)
}

/// An XLSX from an NGO is untrusted: one cell at XFD1048576 in a 1.6 KB file made the reader
/// size a dense sheet of 17 billion cells (512 GiB) and the kernel kill the host (issue 26).
/// Now a sheet costs what it holds: the far cell is refused by its address, and rows far down
/// are read with their own row numbers, without the empty ones between.
#[test]
fn a_spreadsheet_costs_what_it_holds_not_where_its_farthest_cell_is() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = |name: &str, far: Option<(u32, u16)>| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        for (c, h) in ["Фамилия", "Имя", "Дата рождения", "Город"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in ["Иванова", "Мария", "02.03.1980", "Алматы"]
            .iter()
            .enumerate()
        {
            ws.write_string(1, c as u16, *v).unwrap();
        }
        if let Some((row, column)) = far {
            ws.write_string(row, column, "x").unwrap();
        }
        let path = dir.path().join(name);
        book.save(&path).unwrap();
        path
    };
    let corner = sheet("corner.xlsx", Some((1_048_575, 16_383)));
    assert!(
        std::fs::metadata(&corner).unwrap().len() < 10_000,
        "a small file"
    );
    let Err(refused) = open_sheet(&corner) else {
        panic!("a cell at XFD1048576 is refused");
    };
    let said = refused.to_string();
    assert!(
        said.contains("XFD1048576") && said.contains("256 columns"),
        "{said}"
    );

    // Far down, within the columns: read, with the row number the spreadsheet shows.
    let deep = sheet("deep.xlsx", Some((999_999, 1)));
    let (headers, rows) = open_sheet(&deep).unwrap();
    assert_eq!(headers, ["Фамилия", "Имя", "Дата рождения", "Город"]);
    let rows: Vec<_> = rows.map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "the empty rows between take nothing");
    assert_eq!(rows[0].0, 2);
    assert_eq!(rows[0].1, ["Иванова", "Мария", "02.03.1980", "Алматы"]);
    assert_eq!(rows[1].0, 1_000_000);
    assert_eq!(rows[1].1, ["", "x"]);

    // .xls and .ods cannot be sized before reading: refused with what to do.
    let ods = write(&dir, "list.ods", "not really");
    let said = open_sheet(&ods).err().unwrap().to_string();
    assert!(said.contains("save it as .xlsx or .csv"), "{said}");
}

/// A quote opened and never closed (row 3 here) used to swallow every row after it into one
/// cell: 200 families vanished and row 1 was blamed. Now the rows before it import, and the
/// row where the quote opened is named with what to do.
#[test]
fn an_unterminated_quote_is_named_at_its_row_not_swallowing_the_rest() {
    let mut csv = String::from("Фамилия;Имя;Дата рождения;Город;Телефон\n");
    csv.push_str("Иванова;Мария;02.03.1980;Алматы;87011234567\n");
    csv.push_str("\"Петров;Олег;01.01.1975;Алматы;87011234568\n");
    for i in 0..200 {
        csv.push_str(&format!(
            "Сидорова{i};Анна;05.06.1990;Астана;8701200{i:04}\n"
        ));
    }
    let groups = check(&csv, None);
    assert!(
        matches!(&groups[0], Ok(names) if names == &["IVANOVA"]),
        "{:?}",
        groups[0]
    );
    let Err(said) = &groups[1] else {
        panic!("the open quote is reported: {:?}", groups[1]);
    };
    assert!(
        said[0].starts_with("3: ")
            && said[0].contains("quote")
            && said[0].contains("close the quote"),
        "{said:?}"
    );
    assert_eq!(
        groups.len(),
        2,
        "nothing is imported from the swallowed lines"
    );
}
