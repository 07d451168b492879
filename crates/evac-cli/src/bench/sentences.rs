//! The labelled sentences of `evac bench place`: how well reports' sentences yield the towns
//! they name, in Russian, Kazakh, Italian and English.
//!
//! Each sentence is a template of a situation report ("В {} продолжаются беспорядки",
//! "{} тәртіпсіздіктер жалғасуда", "Scontri a {}", "Buses left {} for {}") with one or two
//! towns of the gazetteer put in the case the template needs: the Russian forms from the
//! towns' Russian names, the Kazakh ones from their Kazakh names where the data has them,
//! both by `evac_geo::inflect`'s rules; Latin names as they are. Towns are drawn uniformly
//! among those whose every name used is unique in the gazetteer, so each name is exercised.
//! A sentence is right when the places it yields (towns only; templates name no country or
//! airport) are exactly the towns put in it.

use evac_geo::inflect::{KazakhCase, RussianCase, kazakh_form, russian_form};
use evac_geo::{Gazetteer, Place, PlaceKind};
use rand::{Rng, SeedableRng};

/// The languages of the set, in the order the table prints them.
pub const LANGUAGES: [&str; 4] = ["ru", "kk", "it", "en"];

/// A town slot in a template: how its name is written there.
#[derive(Clone, Copy)]
enum Slot {
    Russian(RussianCase),
    Kazakh(KazakhCase),
    Latin,
}

/// Templates: language, text with `{1}` (and `{2}`) for the towns, and how each is written.
const TEMPLATES: &[(&str, &str, &[Slot])] = {
    use KazakhCase as K;
    use RussianCase as R;
    use Slot::*;
    &[
        (
            "ru",
            "В {1} продолжаются беспорядки.",
            &[Russian(R::Prepositional)],
        ),
        (
            "ru",
            "Ситуация в {1} остаётся напряжённой, сообщают очевидцы.",
            &[Russian(R::Prepositional)],
        ),
        (
            "ru",
            "Автобусы из {1} отправились на север.",
            &[Russian(R::Genitive)],
        ),
        ("ru", "Жители {1} просят о помощи.", &[Russian(R::Genitive)]),
        (
            "ru",
            "К {1} подходят колонны техники.",
            &[Russian(R::Dative)],
        ),
        (
            "ru",
            "Граждан вывозят через {1}.",
            &[Russian(R::Accusative)],
        ),
        (
            "ru",
            "Связь с {1} потеряна со вчерашнего вечера.",
            &[Russian(R::Instrumental)],
        ),
        (
            "ru",
            "Дорога из {1} в {2} перекрыта.",
            &[Russian(R::Genitive), Russian(R::Accusative)],
        ),
        (
            "ru",
            "Между {1} и {2} нет сообщения.",
            &[Russian(R::Instrumental), Russian(R::Instrumental)],
        ),
        (
            "kk",
            "{1} тәртіпсіздіктер жалғасуда.",
            &[Kazakh(K::Locative)],
        ),
        (
            "kk",
            "{1} шыққан автобустар солтүстікке бет алды.",
            &[Kazakh(K::Ablative)],
        ),
        ("kk", "{1} баратын жол жабық.", &[Kazakh(K::Dative)]),
        (
            "kk",
            "{1} тұрғындары көмек сұрайды.",
            &[Kazakh(K::Genitive)],
        ),
        (
            "kk",
            "{1} жағдай ушығып тұр.",
            &[Kazakh(K::LocativeAttributive)],
        ),
        (
            "kk",
            "Азаматтарды {1} арқылы шығарып жатыр.",
            &[Kazakh(K::Accusative)],
        ),
        ("kk", "{1} байланыс үзілді.", &[Kazakh(K::Instrumental)]),
        (
            "kk",
            "{1} {2} дейінгі жол жабылды.",
            &[Kazakh(K::Ablative), Kazakh(K::Dative)],
        ),
        ("it", "Scontri a {1}, la situazione resta tesa.", &[Latin]),
        ("it", "Voli sospesi per {1} fino a nuovo avviso.", &[Latin]),
        (
            "it",
            "Evacuazione da {1} verso {2} in corso.",
            &[Latin, Latin],
        ),
        ("it", "La strada tra {1} e {2} è bloccata.", &[Latin, Latin]),
        ("en", "Unrest continues in {1}.", &[Latin]),
        (
            "en",
            "Buses left {1} for {2} this morning.",
            &[Latin, Latin],
        ),
        ("en", "Residents of {1} ask for help.", &[Latin]),
        (
            "en",
            "Shooting was reported near {1}'s central square.",
            &[Latin],
        ),
    ]
};

/// A labelled sentence.
pub struct Sentence {
    pub language: &'static str,
    pub text: String,
    /// The gazetteer ids of the towns it names, sorted.
    pub towns: Vec<String>,
}

/// Whether every name of a town a template could use names it alone.
fn usable(g: &Gazetteer, town: &Place) -> bool {
    [
        Some(&town.name),
        town.name_ru.as_ref(),
        town.name_kk.as_ref(),
    ]
    .into_iter()
    .flatten()
    .all(|name| g.places_named(name) == 1)
}

fn write(town: &Place, slot: Slot) -> Option<String> {
    match slot {
        Slot::Russian(case) => town.name_ru.as_deref().map(|n| russian_form(n, case)),
        Slot::Kazakh(case) => town
            .name_kk
            .as_deref()
            .or(town.name_ru.as_deref())
            .map(|n| kazakh_form(n, case)),
        Slot::Latin => Some(town.name.clone()),
    }
}

/// `n` labelled sentences, drawn with `seed`.
pub fn labelled_sentences(g: &Gazetteer, n: usize, seed: u64) -> Vec<Sentence> {
    let towns: Vec<&Place> = g
        .places()
        .iter()
        .filter(|p| p.kind == PlaceKind::City && usable(g, p))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut set = Vec::with_capacity(n);
    while set.len() < n {
        let (language, template, slots) = TEMPLATES[rng.random_range(0..TEMPLATES.len())];
        let mut text = template.to_string();
        let mut ids = Vec::new();
        let mut complete = true;
        for (i, slot) in slots.iter().enumerate() {
            let town = towns[rng.random_range(0..towns.len())];
            let Some(written) = write(town, *slot) else {
                complete = false;
                break;
            };
            // A sentence begins with a capital letter whatever the template.
            text = text.replace(&format!("{{{}}}", i + 1), &written);
            ids.push(town.id.clone());
        }
        ids.sort();
        ids.dedup();
        if complete && ids.len() == slots.len() {
            set.push(Sentence {
                language,
                text,
                towns: ids,
            });
        }
    }
    set
}

/// The towns a sentence yields, sorted, as the report reader sees them.
pub fn towns_found(g: &Gazetteer, text: &str) -> Vec<String> {
    let mut ids: Vec<String> = g
        .mentions(text)
        .into_iter()
        .filter(|m| m.place.kind == PlaceKind::City)
        .map(|m| m.place.id)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Spellings of towns that name several places worldwide but one in the town's own country:
/// (spelling, country, the town's id).
pub fn shared_names_unique_in_country(g: &Gazetteer) -> Vec<(String, String, String)> {
    let mut set = Vec::new();
    for (place, name) in g.spellings() {
        if place.kind != PlaceKind::City {
            continue;
        }
        let called: Vec<&Place> = g
            .places_called(name)
            .into_iter()
            .filter(|p| p.kind == PlaceKind::City)
            .collect();
        let in_country = called.iter().filter(|p| p.country == place.country).count();
        if called.len() > 1 && in_country == 1 {
            set.push((name.to_string(), place.country.clone(), place.id.clone()));
        }
    }
    set.sort();
    set.dedup();
    set
}
