//! Passenger manifests (CSV, XLSX, PDF) and printable boarding passes (PDF with QR codes).
//!
//! The manifest carries what border agencies expect of a passenger list — surname, given
//! names, birth date, sex, nationality, document type, number, expiry and issuing state —
//! plus the household, the priority class, the escort of each unaccompanied minor, special
//! needs and the boarding order. Names appear as written (Cyrillic, Kazakh letters) and in ICAO
//! 9303 Latin. PDFs are drawn with `krilla` in fonts that `typst-assets` ships (Libertinus
//! Serif for headings, DejaVu Sans Mono for the table: both cover the Kazakh letters, and a
//! monospaced table can be laid out by counting characters), so nothing depends on the fonts
//! of the machine.

use std::sync::LazyLock;

use evac_model::Transport;
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};

use crate::ExchangeError;

/// One passenger line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ManifestRow {
    /// Boarding order: priority class, then household.
    pub order: u32,
    /// The seat's number on the transport (none for seats given before seats were numbered).
    pub seat: Option<u32>,
    pub surname: String,
    pub given_names: String,
    /// Both names in ICAO 9303 Latin.
    pub surname_latin: String,
    pub given_names_latin: String,
    pub birth_date: String,
    pub sex: String,
    pub nationality: String,
    pub document_type: String,
    pub document_number: String,
    pub document_expiry: String,
    pub document_issuing_state: String,
    pub household: String,
    pub class: u8,
    /// For an unaccompanied minor: who escorts them.
    pub escort: String,
    pub needs: String,
    /// seated, checked_in or boarded.
    pub state: String,
}

/// The columns of CSV and XLSX manifests, in order.
pub const MANIFEST_COLUMNS: [&str; 18] = [
    "order",
    "seat",
    "surname",
    "given_names",
    "surname_latin",
    "given_names_latin",
    "birth_date",
    "sex",
    "nationality",
    "document_type",
    "document_number",
    "document_expiry",
    "document_issuing_state",
    "household",
    "priority_class",
    "escort",
    "special_needs",
    "status",
];

impl ManifestRow {
    fn cells(&self) -> [String; 18] {
        [
            self.order.to_string(),
            self.seat.map(|n| n.to_string()).unwrap_or_default(),
            self.surname.clone(),
            self.given_names.clone(),
            self.surname_latin.clone(),
            self.given_names_latin.clone(),
            self.birth_date.clone(),
            self.sex.clone(),
            self.nationality.clone(),
            self.document_type.clone(),
            self.document_number.clone(),
            self.document_expiry.clone(),
            self.document_issuing_state.clone(),
            self.household.clone(),
            self.class.to_string(),
            self.escort.clone(),
            self.needs.clone(),
            self.state.clone(),
        ]
    }
}

/// A manifest file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    Csv,
    Xlsx,
    Pdf,
}

impl ManifestFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
        }
    }
}

fn write_err(e: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::Write(e.to_string())
}

/// A manifest in the format asked for, as bytes.
pub fn manifest(
    transport: &Transport,
    rows: &[ManifestRow],
    format: ManifestFormat,
) -> Result<Vec<u8>, ExchangeError> {
    match format {
        ManifestFormat::Csv => manifest_csv(rows),
        ManifestFormat::Xlsx => manifest_xlsx(transport, rows),
        ManifestFormat::Pdf => manifest_pdf(transport, rows),
    }
}

fn manifest_csv(rows: &[ManifestRow]) -> Result<Vec<u8>, ExchangeError> {
    let mut out = "\u{feff}".as_bytes().to_vec(); // Excel needs the BOM for UTF-8
    let mut w = csv::Writer::from_writer(&mut out);
    w.write_record(MANIFEST_COLUMNS).map_err(write_err)?;
    for row in rows {
        w.write_record(
            row.cells()
                .iter()
                .map(|c| crate::spreadsheet_safe(c).into_owned()),
        )
        .map_err(write_err)?;
    }
    w.flush().map_err(write_err)?;
    drop(w);
    Ok(out)
}

fn manifest_xlsx(transport: &Transport, rows: &[ManifestRow]) -> Result<Vec<u8>, ExchangeError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    // Sheet names allow 31 characters and no []:*?/\.
    let name: String = transport
        .code
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    sheet.set_name(name).map_err(write_err)?;
    sheet.write_row(0, 0, MANIFEST_COLUMNS).map_err(write_err)?;
    for (i, row) in rows.iter().enumerate() {
        sheet
            .write_row(i as u32 + 1, 0, row.cells())
            .map_err(write_err)?;
    }
    workbook.save_to_buffer().map_err(write_err)
}

/// The fonts, parsed once.
struct Fonts {
    heading: Font,
    table: Font,
    /// The font files, for tests that check what they cover.
    #[cfg_attr(not(test), allow(dead_code))]
    files: [&'static [u8]; 2],
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let find = |name: &str| -> &'static [u8] {
        typst_assets::fonts()
            .find(|data| font_family(data).is_some_and(|f| f == name))
            .unwrap_or_else(|| panic!("typst-assets ships the font {name}"))
    };
    let files = [find("Libertinus Serif Bold"), find("DejaVu Sans Mono")];
    let font = |data: &'static [u8]| Font::new(data.into(), 0).expect("a shipped font parses");
    Fonts {
        heading: font(files[0]),
        table: font(files[1]),
        files,
    }
});

/// The full font name (name id 4) of an OpenType font, enough to pick one of the shipped fonts.
fn font_family(data: &[u8]) -> Option<String> {
    let u16_at = |o: usize| Some(u16::from_be_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_be_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let tables = usize::from(u16_at(4)?);
    let name = (0..tables).find_map(|i| {
        let record = 12 + 16 * i;
        (data.get(record..record + 4)? == b"name").then(|| u32_at(record + 8))?
    })? as usize;
    let count = usize::from(u16_at(name + 2)?);
    let strings = name + usize::from(u16_at(name + 4)?);
    (0..count).find_map(|i| {
        let r = name + 6 + 12 * i;
        let (platform, name_id) = (u16_at(r)?, u16_at(r + 6)?);
        if name_id != 4 || platform != 3 {
            return None;
        }
        let (len, offset) = (usize::from(u16_at(r + 8)?), usize::from(u16_at(r + 10)?));
        let bytes = data.get(strings + offset..strings + offset + len)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).ok()
    })
}

/// A4 landscape, in points.
const PAGE_WIDTH_PT: f32 = 842.0;
const PAGE_HEIGHT_PT: f32 = 595.0;
const MARGIN_PT: f32 = 28.0;
const TABLE_FONT_PT: f32 = 6.5;
const ROW_HEIGHT_PT: f32 = 9.5;
/// DejaVu Sans Mono's advance: 1233 of 2048 units per em.
const MONO_ADVANCE_EM: f32 = 1233.0 / 2048.0;

/// The PDF columns: header and width in characters.
const PDF_COLUMNS: [(&str, usize); 15] = [
    ("#", 4),
    ("Seat", 4),
    ("Surname / Фамилия", 20),
    ("Given names", 18),
    ("Latin (ICAO 9303)", 26),
    ("Born", 10),
    ("Sex", 3),
    ("Nat", 3),
    ("Doc", 9),
    ("Number", 12),
    ("Expiry", 10),
    ("Iss", 3),
    ("Household", 11),
    ("Cl", 2),
    ("Escort / needs / status", 35),
];

fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn pdf_cells(row: &ManifestRow) -> [String; 15] {
    let mut notes: Vec<&str> = Vec::new();
    let escort = if row.escort.is_empty() {
        String::new()
    } else {
        format!("escort: {}", row.escort)
    };
    for part in [escort.as_str(), row.needs.as_str(), row.state.as_str()] {
        if !part.is_empty() {
            notes.push(part);
        }
    }
    [
        row.order.to_string(),
        row.seat.map(|n| n.to_string()).unwrap_or_default(),
        row.surname.clone(),
        row.given_names.clone(),
        format!("{} {}", row.surname_latin, row.given_names_latin),
        row.birth_date.clone(),
        row.sex.clone(),
        row.nationality.clone(),
        row.document_type.replace("birth_certificate", "birth_cert"),
        row.document_number.clone(),
        row.document_expiry.clone(),
        row.document_issuing_state.clone(),
        row.household.clone(),
        row.class.to_string(),
        notes.join("; "),
    ]
}

fn text(
    surface: &mut krilla::surface::Surface<'_>,
    font: &Font,
    size: f32,
    x: f32,
    y: f32,
    s: &str,
) {
    if !s.is_empty() {
        surface.draw_text(
            Point::from_xy(x, y),
            font.clone(),
            size,
            s,
            false,
            TextDirection::Auto,
        );
    }
}

fn line(surface: &mut krilla::surface::Surface<'_>, x: f32, y: f32, width: f32) {
    let mut path = PathBuilder::new();
    if let Some(rect) = Rect::from_xywh(x, y, width, 0.4) {
        path.push_rect(rect);
    }
    if let Some(path) = path.finish() {
        surface.draw_path(&path);
    }
}

fn transport_line(transport: &Transport) -> String {
    let weight = match (transport.payload_kg, transport.baggage_kg_per_person) {
        (None, None) => String::new(),
        (payload, baggage) => format!(
            " · payload {} · baggage {} kg per person",
            payload.map_or("not set".to_string(), |kg| format!("{kg} kg")),
            baggage.unwrap_or(0)
        ),
    };
    format!(
        "{} {} · {} → {} · departs {} · {} seats, {} stretcher, {} wheelchair, {} escorts{weight} · {}",
        transport.kind,
        transport.code,
        transport.hub,
        transport.destination,
        transport.departs_at,
        transport.seats,
        transport.stretcher_places,
        transport.wheelchair_places,
        transport.escorts,
        transport.status,
    )
}

/// Who boarded against who was listed: "2 boarded · 1 checked in · 81 not yet".
pub fn reconciliation(rows: &[ManifestRow]) -> String {
    let count = |state: &str| rows.iter().filter(|r| r.state == state).count();
    let undocumented = rows.iter().filter(|r| r.document_number.is_empty()).count();
    let without = if undocumented == 0 {
        String::new()
    } else {
        format!(" · {undocumented} without a travel document")
    };
    format!(
        "{} boarded · {} checked in · {} not yet{without}",
        count("boarded"),
        count("checked_in"),
        count("seated")
    )
}

fn manifest_pdf(transport: &Transport, rows: &[ManifestRow]) -> Result<Vec<u8>, ExchangeError> {
    let fonts = &*FONTS;
    let char_pt = TABLE_FONT_PT * MONO_ADVANCE_EM;
    let header_pt = MARGIN_PT + 50.0;
    let rows_per_page = ((PAGE_HEIGHT_PT - header_pt - MARGIN_PT) / ROW_HEIGHT_PT) as usize;
    let pages = rows.len().div_ceil(rows_per_page).max(1);
    let table_width: f32 = PDF_COLUMNS
        .iter()
        .map(|(_, w)| (*w + 1) as f32 * char_pt)
        .sum();
    let mut document = Document::new();
    for page_index in 0..pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH_PT, PAGE_HEIGHT_PT)
            .ok_or_else(|| write_err("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        text(
            &mut surface,
            &fonts.heading,
            14.0,
            MARGIN_PT,
            MARGIN_PT + 12.0,
            &format!("Passenger manifest — {}", transport.code),
        );
        text(
            &mut surface,
            &fonts.table,
            7.5,
            MARGIN_PT,
            MARGIN_PT + 26.0,
            &transport_line(transport),
        );
        text(
            &mut surface,
            &fonts.table,
            7.5,
            MARGIN_PT,
            MARGIN_PT + 36.0,
            &format!(
                "{} passengers · {} · page {} of {}",
                rows.len(),
                reconciliation(rows),
                page_index + 1,
                pages
            ),
        );
        let mut x = MARGIN_PT;
        let y = header_pt;
        for (name, width) in PDF_COLUMNS {
            text(
                &mut surface,
                &fonts.table,
                TABLE_FONT_PT,
                x,
                y,
                &fit(name, width),
            );
            x += (width + 1) as f32 * char_pt;
        }
        line(&mut surface, MARGIN_PT, y + 2.5, table_width);
        let page_rows = rows
            .iter()
            .skip(page_index * rows_per_page)
            .take(rows_per_page);
        for (i, row) in page_rows.enumerate() {
            let y = header_pt + (i + 1) as f32 * ROW_HEIGHT_PT;
            let mut x = MARGIN_PT;
            for ((_, width), cell) in PDF_COLUMNS.iter().zip(pdf_cells(row)) {
                text(
                    &mut surface,
                    &fonts.table,
                    TABLE_FONT_PT,
                    x,
                    y,
                    &fit(&cell, *width),
                );
                x += (width + 1) as f32 * char_pt;
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| write_err(format!("{e:?}")))
}

/// One boarding pass to print.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedPass {
    pub name: String,
    /// The seat's number on the transport, if it has one.
    pub seat: Option<u32>,
    pub household: String,
    pub token: String,
}

/// Passes per A4 portrait page (two columns of three).
const PASSES_PER_PAGE: usize = 6;

/// Boarding passes as a PDF: six per A4 page, each with the name, household, transport and
/// the QR code of its signed token.
pub fn passes_pdf(transport: &Transport, passes: &[PrintedPass]) -> Result<Vec<u8>, ExchangeError> {
    let fonts = &*FONTS;
    let (page_w, page_h) = (PAGE_HEIGHT_PT, PAGE_WIDTH_PT);
    let (cell_w, cell_h) = (
        (page_w - 2.0 * MARGIN_PT) / 2.0,
        (page_h - 2.0 * MARGIN_PT) / 3.0,
    );
    let mut document = Document::new();
    for chunk in passes.chunks(PASSES_PER_PAGE) {
        let settings =
            PageSettings::from_wh(page_w, page_h).ok_or_else(|| write_err("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for (i, pass) in chunk.iter().enumerate() {
            let x = MARGIN_PT + (i % 2) as f32 * cell_w;
            let y = MARGIN_PT + (i / 2) as f32 * cell_h;
            line(&mut surface, x, y, cell_w - 8.0);
            text(
                &mut surface,
                &fonts.heading,
                12.0,
                x,
                y + 16.0,
                &fit(&pass.name, 40),
            );
            let details = [
                format!(
                    "{} {} → {}",
                    transport.code, transport.hub, transport.destination
                ),
                match transport.baggage_kg_per_person {
                    Some(kg) => format!("departs {} · baggage {kg} kg", transport.departs_at),
                    None => format!("departs {}", transport.departs_at),
                },
                match pass.seat {
                    Some(seat) => format!("seat {seat} · household {}", pass.household),
                    None => format!("household {}", pass.household),
                },
            ];
            for (k, d) in details.iter().enumerate() {
                text(
                    &mut surface,
                    &fonts.table,
                    7.5,
                    x,
                    y + 30.0 + 10.0 * k as f32,
                    d,
                );
            }
            let code = qrcode::QrCode::new(pass.token.as_bytes())
                .map_err(|e| write_err(format!("QR code: {e}")))?;
            let modules = code.width();
            let size_pt = (cell_h - 75.0).min(cell_w - 16.0);
            let module_pt = size_pt / modules as f32;
            // One rectangle per horizontal run of dark modules: a third of the drawing.
            let colours = code.to_colors();
            let mut path = PathBuilder::new();
            for (my, row) in colours.chunks(modules).enumerate() {
                let mut mx = 0;
                while mx < modules {
                    if row[mx] != qrcode::Color::Dark {
                        mx += 1;
                        continue;
                    }
                    let run = row[mx..]
                        .iter()
                        .take_while(|c| **c == qrcode::Color::Dark)
                        .count();
                    if let Some(r) = Rect::from_xywh(
                        x + mx as f32 * module_pt,
                        y + 64.0 + my as f32 * module_pt,
                        run as f32 * module_pt,
                        module_pt,
                    ) {
                        path.push_rect(r);
                    }
                    mx += run;
                }
            }
            if let Some(path) = path.finish() {
                surface.draw_path(&path);
            }
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| write_err(format!("{e:?}")))
}

/// A QR code of a token as SVG, for a phone's screen.
pub fn qr_svg(token: &str) -> Result<String, ExchangeError> {
    let code =
        qrcode::QrCode::new(token.as_bytes()).map_err(|e| write_err(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

/// A pass's QR code as an image address a page can show under a strict CSP (`img-src data:`).
pub fn qr_data_uri(token: &str) -> Result<String, ExchangeError> {
    use base64::Engine;
    let svg = qr_svg(token)?;
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> Transport {
        Transport {
            id: evac_model::TransportId(uuid::Uuid::from_u128(1)),
            code: "RF-7042".into(),
            kind: evac_model::TransportKind::Flight,
            hub: "NQZ".into(),
            destination: "Москва Чкаловский".into(),
            departs_at: evac_model::Timestamp::from_unix_micros(1_641_427_200_000_000),
            seats: 146,
            stretcher_places: 2,
            wheelchair_places: 2,
            escorts: 4,
            status: evac_model::TransportStatus::Confirmed,
            payload_kg: None,
            baggage_kg_per_person: None,
            carries_citizens_of: Vec::new(),
            lands_in: None,
            military: false,
            feeds: None,
        }
    }

    fn row(order: u32) -> ManifestRow {
        ManifestRow {
            order,
            seat: Some(order),
            surname: "Құдайбергенова".into(),
            given_names: "Әлия".into(),
            surname_latin: "KUDAIBERGENOVA".into(),
            given_names_latin: "ALIIA".into(),
            birth_date: "2012-03-04".into(),
            sex: "F".into(),
            nationality: "KZ".into(),
            document_type: "passport".into(),
            document_number: "N1234567".into(),
            document_expiry: "2030-01-01".into(),
            document_issuing_state: "KZ".into(),
            household: "K7P3M9XQ2".into(),
            class: 1,
            escort: "SMIRNOVA OLGA".into(),
            needs: String::new(),
            state: "seated".into(),
        }
    }

    #[test]
    fn the_shipped_fonts_are_found_and_cover_kazakh_letters() {
        let fonts = &*FONTS;
        use skrifa::MetadataProvider as _;
        for file in fonts.files {
            let font = skrifa::FontRef::new(file).unwrap();
            for ch in "ӘҒҚҢӨҰҮҺІәғқңөұүһіЖжЁё".chars() {
                assert!(font.charmap().map(ch).is_some(), "no glyph for {ch}");
            }
        }
    }

    #[test]
    fn a_manifest_comes_in_three_formats_with_the_border_fields() {
        let rows: Vec<ManifestRow> = (1..=40).map(row).collect();
        let csv = manifest(&transport(), &rows, ManifestFormat::Csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("\u{feff}order,seat,surname,given_names"));
        assert!(
            csv.contains("\n3,3,Құдайбергенова,"),
            "each row has its seat"
        );
        assert!(csv.contains("Құдайбергенова,Әлия,KUDAIBERGENOVA,ALIIA,2012-03-04,F,KZ,passport,N1234567,2030-01-01,KZ,K7P3M9XQ2,1,SMIRNOVA OLGA,,seated"));
        assert_eq!(csv.lines().count(), 41);
        let xlsx = manifest(&transport(), &rows, ManifestFormat::Xlsx).unwrap();
        assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");
        let pdf = manifest(&transport(), &rows, ManifestFormat::Pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // One page for 40 people, the fonts embedded (subset), not referenced.
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 1"), "one page");
        let mut states = rows.clone();
        states[0].state = "boarded".into();
        states[1].state = "checked_in".into();
        assert_eq!(
            reconciliation(&states),
            "1 boarded · 1 checked in · 38 not yet"
        );
        states[2].document_number.clear();
        assert_eq!(
            reconciliation(&states),
            "1 boarded · 1 checked in · 38 not yet · 1 without a travel document",
            "the manifest counts missing documents"
        );
        assert!(text.contains("FontFile"), "fonts embedded");
        let rows: Vec<ManifestRow> = (1..=300).map(row).collect();
        let pdf = manifest(&transport(), &rows, ManifestFormat::Pdf).unwrap();
        let per_page = ((PAGE_HEIGHT_PT - MARGIN_PT - 50.0 - MARGIN_PT) / ROW_HEIGHT_PT) as usize;
        let pages = 300usize.div_ceil(per_page);
        assert!(pages > 1);
        assert!(
            String::from_utf8_lossy(&pdf).contains(&format!("/Count {pages}")),
            "300 people on {pages} pages"
        );
    }

    #[test]
    fn passes_carry_a_qr_code_of_the_token() {
        let passes: Vec<PrintedPass> = (0..7)
            .map(|i| PrintedPass {
                name: format!("Әлия {i}"),
                seat: Some(i + 1),
                household: "K7P3M9XQ2".into(),
                token: format!("EVAC1.{}", "x".repeat(180)),
            })
            .collect();
        let pdf = passes_pdf(&transport(), &passes).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let svg = qr_svg("EVAC1.abc").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
