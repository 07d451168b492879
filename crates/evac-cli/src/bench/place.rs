//! `evac bench place`: how fast and how well free-text locations resolve.
//!
//! The labelled set is built from the gazetteer's own alternate names (GeoNames: Latin,
//! Russian, Kazakh and other spellings of each town) with the noise requests carry: a name
//! re-romanised from its Cyrillic form under another scheme (press, German, French, Kazakh
//! Latin), a typo (a letter dropped, doubled or swapped), a missing hyphen, changed case, and
//! context around it ("г. Алматы, ул. Абая 10", "Almaty, Hotel Kazakhstan"). Towns are drawn in
//! proportion to their population, as requests are. A spelling that names several places in
//! the gazetteer is left out: it is a question for staff, not an error of the resolver. The
//! figure is "correct place first": the resolver's chosen place is the labelled one.

use std::time::Instant;

use clap::Args;
use evac_demo::{Scheme, romanize};
use evac_geo::{Gazetteer, PlaceKind};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

#[derive(Debug, Args)]
pub struct PlaceBenchArgs {
    /// Locations to resolve
    #[arg(long, default_value_t = 1_000_000)]
    pub locations: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Timed rounds (the median is reported)
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Print this many wrongly resolved spellings and sentences
    #[arg(long, default_value_t = 0)]
    pub show_errors: usize,
    /// Labelled report sentences (Russian, Kazakh, Italian, English) naming towns in the case
    /// their sentence needs
    #[arg(long, default_value_t = 4_000)]
    pub sentences: usize,
}

/// What was done to a spelling, for the per-kind accuracy table.
const NOISES: [&str; 6] = [
    "as written",
    "case changed",
    "hyphen dropped",
    "typo",
    "another romanisation",
    "in context",
];

fn is_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

/// One letter dropped, doubled or swapped with its neighbour, in a word of five or more
/// letters (shorter words are left alone: a typo in "Uralsk" is still readable, in "Ush" not).
fn typo(text: &str, rng: &mut impl Rng) -> Option<String> {
    let mut chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = (1..chars.len().saturating_sub(1))
        .filter(|&i| chars[i].is_alphabetic() && chars[i + 1].is_alphabetic())
        .collect();
    if chars.iter().filter(|c| c.is_alphabetic()).count() < 5 || letters.is_empty() {
        return None;
    }
    let i = letters[rng.random_range(0..letters.len())];
    match rng.random_range(0..3) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i]),
        _ => chars.swap(i, i + 1),
    }
    Some(chars.into_iter().collect())
}

fn with_context(text: &str, rng: &mut impl Rng) -> String {
    const LATIN: [&str; 4] = [
        "{}, Hotel Kazakhstan, room 1204",
        "{}, near the central mosque",
        "city of {}",
        "{} (Kazakhstan)",
    ];
    const CYRILLIC: [&str; 4] = [
        "г. {}, ул. Абая 10, кв. 5",
        "{}, гостиница Казахстан",
        "{}, мкр. Самал-2",
        "город {}",
    ];
    let forms = if is_cyrillic(text) { &CYRILLIC } else { &LATIN };
    forms[rng.random_range(0..forms.len())].replace("{}", text)
}

/// A labelled set: (text, place id, noise kind).
fn labelled_set(g: &Gazetteer, n: usize, seed: u64) -> Vec<(String, String, usize)> {
    // Unambiguous spellings of towns, grouped by town, towns weighted by population.
    let mut by_place: Vec<(&evac_geo::Place, Vec<&str>)> = Vec::new();
    for (place, name) in g.spellings() {
        if place.kind != PlaceKind::City || g.places_named(name) != 1 {
            continue;
        }
        match by_place.iter_mut().find(|(p, _)| p.id == place.id) {
            Some((_, names)) => names.push(name),
            None => by_place.push((place, vec![name])),
        }
    }
    let cumulative: Vec<u64> = by_place
        .iter()
        .scan(0u64, |sum, (p, _)| {
            *sum += p.population.max(1_000);
            Some(*sum)
        })
        .collect();
    let total = *cumulative.last().expect("the gazetteer has towns");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let schemes = [
        Scheme::Press,
        Scheme::German,
        Scheme::French,
        Scheme::KazakhLatin,
    ];
    let mut set = Vec::with_capacity(n);
    while set.len() < n {
        let pick = rng.random_range(0..total);
        let (place, names) = &by_place[cumulative.partition_point(|&c| c <= pick)];
        let name = names[rng.random_range(0..names.len())];
        let kind = rng.random_range(0..NOISES.len());
        let text = match kind {
            0 => Some(name.to_string()),
            1 => Some(if rng.random_bool(0.5) {
                name.to_lowercase()
            } else {
                name.to_uppercase()
            }),
            2 => name
                .contains('-')
                .then(|| name.replacen('-', if rng.random_bool(0.5) { " " } else { "" }, 1)),
            3 => typo(name, &mut rng),
            4 => is_cyrillic(name)
                .then(|| romanize(name, schemes[rng.random_range(0..schemes.len())])),
            _ => Some(with_context(name, &mut rng)),
        };
        if let Some(text) = text {
            set.push((text, place.id.clone(), kind));
        }
    }
    set
}

pub fn run(args: PlaceBenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let g = Gazetteer::shipped();
    let built_ms = started.elapsed().as_secs_f64() * 1e3;
    let set = labelled_set(&g, args.locations, args.seed);
    println!(
        "machine: {}; gazetteer built in {built_ms:.0} ms; {} labelled locations (seed {})",
        super::machine(),
        set.len(),
        args.seed
    );
    let mut times = Vec::new();
    let mut answers: Vec<Option<String>> = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let t = Instant::now();
        answers = set
            .par_iter()
            .map(|(text, _, _)| g.resolve(text).place.map(|c| c.place.id))
            .collect();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mut per_kind = [(0usize, 0usize); NOISES.len()];
    let mut errors = Vec::new();
    for ((text, truth, kind), answer) in set.iter().zip(&answers) {
        per_kind[*kind].1 += 1;
        if answer.as_deref() == Some(truth.as_str()) {
            per_kind[*kind].0 += 1;
        } else if errors.len() < args.show_errors {
            errors.push((text, truth, answer));
        }
    }
    let correct: usize = per_kind.iter().map(|k| k.0).sum();
    println!(
        "resolved {} in {median:.2} s (median of {}; {:.0} locations/s)",
        set.len(),
        times.len(),
        set.len() as f64 / median
    );
    println!(
        "correct place first: {:.2} % ({correct} of {})",
        100.0 * correct as f64 / set.len() as f64,
        set.len()
    );
    for (name, (ok, all)) in NOISES.iter().zip(per_kind) {
        println!(
            "  {name:<22} {:>6.2} % of {all}",
            100.0 * ok as f64 / all.max(1) as f64
        );
    }
    for (text, truth, answer) in errors {
        let got = answer.as_deref().unwrap_or("nothing");
        let truth_name = g.get(truth).map_or("", |p| p.name.as_str());
        println!("  wrong: {text:?} -> {got} (expected {truth} {truth_name})");
    }
    sentences(&g, &args);
    shared_names(&g);
    if let Some(mb) = super::peak_rss_mb() {
        println!("peak RSS {mb:.0} MB");
    }
    Ok(())
}

/// The sentence figure: the share of labelled sentences that yield exactly their towns.
fn sentences(g: &Gazetteer, args: &PlaceBenchArgs) {
    use super::sentences::{LANGUAGES, labelled_sentences, towns_found};
    let set = labelled_sentences(g, args.sentences, args.seed);
    let t = Instant::now();
    let found: Vec<Vec<String>> = set.par_iter().map(|s| towns_found(g, &s.text)).collect();
    let seconds = t.elapsed().as_secs_f64();
    let mut per_language = [(0usize, 0usize); LANGUAGES.len()];
    let mut errors = Vec::new();
    for (sentence, found) in set.iter().zip(&found) {
        let k = LANGUAGES
            .iter()
            .position(|l| *l == sentence.language)
            .expect("a known language");
        per_language[k].1 += 1;
        if *found == sentence.towns {
            per_language[k].0 += 1;
        } else if errors.len() < args.show_errors {
            errors.push((sentence, found));
        }
    }
    let right: usize = per_language.iter().map(|k| k.0).sum();
    println!(
        "sentences yielding exactly the towns they name: {:.2} % ({right} of {}, read in {:.0} ms)",
        100.0 * right as f64 / set.len().max(1) as f64,
        set.len(),
        seconds * 1e3
    );
    for (language, (ok, all)) in LANGUAGES.iter().zip(per_language) {
        println!(
            "  {language:<22} {:>6.2} % of {all}",
            100.0 * ok as f64 / all.max(1) as f64
        );
    }
    for (sentence, found) in errors {
        println!(
            "  wrong: {:?} -> {found:?} (expected {:?})",
            sentence.text, sentence.towns
        );
    }
}

/// The country figure: names shared with towns abroad but unique in their own country resolve
/// to the town in the country the request states.
fn shared_names(g: &Gazetteer) {
    let set = super::sentences::shared_names_unique_in_country(g);
    let wrong: Vec<&(String, String, String)> = set
        .iter()
        .filter(|(name, country, id)| {
            g.resolve_in(name, Some(country))
                .place
                .is_none_or(|c| &c.place.id != id)
        })
        .collect();
    println!(
        "names shared abroad, unique in the stated country, resolved there: {:.2} % ({} of {})",
        100.0 * (set.len() - wrong.len()) as f64 / set.len().max(1) as f64,
        set.len() - wrong.len(),
        set.len()
    );
    for (name, country, id) in wrong.iter().take(10) {
        println!("  wrong: {name:?} in {country} (expected {id})");
    }
}
