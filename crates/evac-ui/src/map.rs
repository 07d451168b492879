//! The desk's map: Kazakhstan and its neighbours as SVG paths derived from Natural Earth
//! (`data/map.tsv`, made by `scripts/derive-data.py`), with request density and hubs drawn on
//! top in the same projection. No tiles, nothing fetched: the paths are compiled in.

use std::sync::LazyLock;

/// A country's outline.
pub struct Country {
    pub code: String,
    pub name: String,
    pub path: String,
}

/// The projection of `data/map.tsv` (its first line) and the outlines.
pub struct Basemap {
    lon_min: f64,
    lat_max: f64,
    cos: f64,
    scale: f64,
    pub width: f64,
    pub height: f64,
    pub countries: Vec<Country>,
}

impl Basemap {
    /// Where a point falls in the view box, if inside it.
    pub fn project(&self, lat: f64, lon: f64) -> Option<(f64, f64)> {
        let x = (lon - self.lon_min) * self.cos * self.scale;
        let y = (self.lat_max - lat) * self.scale;
        ((0.0..=self.width).contains(&x) && (0.0..=self.height).contains(&y)).then_some((x, y))
    }

    /// The view box attribute.
    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", self.width, self.height)
    }
}

/// The shipped basemap, parsed once.
pub fn basemap() -> &'static Basemap {
    static BASEMAP: LazyLock<Basemap> = LazyLock::new(|| {
        let text = include_str!("../../../data/map.tsv");
        let mut lines = text.lines();
        let header = lines.next().expect("map.tsv starts with its projection");
        let value = |name: &str| -> f64 {
            header
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("map.tsv's projection lacks {name}"))
        };
        Basemap {
            lon_min: value("lon_min"),
            lat_max: value("lat_max"),
            cos: value("cos"),
            scale: value("scale"),
            width: value("width"),
            height: value("height"),
            countries: lines
                .filter_map(|l| {
                    let mut f = l.split('\t');
                    Some(Country {
                        code: f.next()?.to_string(),
                        name: f.next()?.to_string(),
                        path: f.next()?.to_string(),
                    })
                })
                .collect(),
        }
    });
    &BASEMAP
}

/// A place with requests, drawn as a circle whose area grows with the count.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDot {
    pub x: String,
    pub y: String,
    pub r: String,
    pub label: String,
    /// The place's name (the page drawing the map finds its link by it).
    pub place: String,
    /// Where a click leads (the place's requests); set by the page that draws the map.
    pub href: String,
}

/// A hub, drawn as a square coloured by status.
#[derive(Debug, Clone, PartialEq)]
pub struct MapHub {
    pub x: String,
    pub y: String,
    pub code: String,
    /// open, restricted, closed or unknown: a CSS class.
    pub status: String,
    pub label_x: String,
    pub label_y: String,
}

/// The largest circle's radius, in view-box units.
const DOT_RADIUS_MAX: f64 = 40.0;
const HUB_SIDE: f64 = 10.0;

/// The dots of places (name, latitude, longitude, requests) and the hubs (code, latitude,
/// longitude, status) that fall inside the map.
pub fn overlay(
    places: &[(String, f64, f64, u64)],
    hubs: &[(String, f64, f64, String)],
) -> (Vec<MapDot>, Vec<MapHub>) {
    let map = basemap();
    let most = places.iter().map(|p| p.3).max().unwrap_or(1).max(1) as f64;
    let dots = places
        .iter()
        .filter_map(|(name, lat, lon, n)| {
            let (x, y) = map.project(*lat, *lon)?;
            let r = (DOT_RADIUS_MAX * (*n as f64 / most).sqrt()).max(3.0);
            Some(MapDot {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                r: format!("{r:.1}"),
                label: format!("{name}: {n}"),
                place: name.clone(),
                href: String::new(),
            })
        })
        .collect();
    let hubs = hubs
        .iter()
        .filter_map(|(code, lat, lon, status)| {
            let (x, y) = map.project(*lat, *lon)?;
            Some(MapHub {
                x: format!("{:.1}", x - HUB_SIDE / 2.0),
                y: format!("{:.1}", y - HUB_SIDE / 2.0),
                label_x: format!("{:.1}", x + HUB_SIDE),
                label_y: format!("{:.1}", y + HUB_SIDE / 2.0),
                code: code.clone(),
                status: status.clone(),
            })
        })
        .collect();
    (dots, hubs)
}
