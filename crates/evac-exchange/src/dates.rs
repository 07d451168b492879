//! Dates and times written in a sentence of a report, as a time window.
//!
//! "с 7 января", "from 13 January", "dal 7 gennaio", "7 қаңтардан" start a window; "до 10
//! января", "until 10 January", "fino al 10 gennaio", "10 қаңтарға дейін" end one; "с 7 по 10
//! января" and "7–10 January" are both. A date without a word of start or end starts the
//! window ("7 января аэропорт закрыт"). Numeric dates (07.01.2022, 2022-01-07) and a time
//! after a date ("7 января в 14:00", "13 January at 06:00") are read too.
//!
//! A date without a year is taken in the year that puts it nearest the report's receipt (a
//! report of 30 December saying "from 2 January" means the next year). Dates are days in the
//! crisis's time zone: an end date is inclusive (the window ends at the next midnight), unless
//! a time is given. Recurring times ("curfew 23:00–07:00") are not windows and are left to the
//! note. Every window keeps the words it was read from, for the operator to check.
//!
//! Pure: the time of receipt and the time zone are handed in.

use evac_model::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// A window read from a sentence: its start and end, each with the words it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    pub from: Option<(Timestamp, String)>,
    pub until: Option<(Timestamp, String)>,
}

/// Words that make the date after them a window's start (lower case).
const FROM_WORDS: &[&str] = &[
    "с", "со", "from", "since", "starting", "dal", "dall", "dai", "dalle", "dallo",
];
/// Words that make the date after them a window's end.
const UNTIL_WORDS: &[&str] = &[
    "до", "по", "until", "till", "through", "to", "al", "fino", "entro",
];
/// Kazakh writes the end after the date: "10 қаңтарға дейін".
const UNTIL_AFTER_WORDS: &[&str] = &["дейін", "шейін"];
/// Words between a date and its time ("7 января в 14:00", "at 06:00", "alle 14:00").
const TIME_LINK_WORDS: &[&str] = &["в", "at", "alle", "ore", "сағат", "от"];

/// Month stems in Russian, Italian and Kazakh (lower case): a word beginning with a stem names
/// the month ("января", "қаңтардан"); one written `=word` only as the whole word ("мая" is no
/// "маяк").
const MONTHS: [&[&str]; 12] = [
    &["январ", "=gennaio", "қаңтар"],
    &["феврал", "=febbraio", "ақпан"],
    &["=март", "=марта", "=марте", "=marzo", "наурыз"],
    &["апрел", "=aprile", "сәуір"],
    &["=мая", "=май", "=мае", "=maggio", "мамыр"],
    &["июн", "=giugno", "маусым"],
    &["июл", "=luglio", "шілде"],
    &["август", "=agosto", "тамыз"],
    &["сентябр", "=settembre", "қыркүйек"],
    &["октябр", "=ottobre", "қазан"],
    &["ноябр", "=novembre", "қараша"],
    &["декабр", "=dicembre", "желтоқсан"],
];
/// English months, whole words written with a capital ("May", not "may have died").
const ENGLISH_MONTHS: [&[&str]; 12] = [
    &["january", "jan"],
    &["february", "feb"],
    &["march", "mar"],
    &["april", "apr"],
    &["may"],
    &["june", "jun"],
    &["july", "jul"],
    &["august", "aug"],
    &["september", "sep", "sept"],
    &["october", "oct"],
    &["november", "nov"],
    &["december", "dec"],
];
/// A date this many days or more from the receipt is read in the neighbouring year.
const HALF_YEAR_DAYS: i64 = 183;

/// The month a word names (a Kazakh month with its ablative, "қаңтардан", starts a window as
/// any date without a word of end does).
fn month_of(word: &Word) -> Option<i8> {
    let lower = word.lower.as_str();
    (0..12).find_map(|index| {
        let named = MONTHS[index]
            .iter()
            .any(|stem| match stem.strip_prefix('=') {
                Some(whole) => lower == whole,
                None => lower.starts_with(stem),
            })
            || (word.capitalised && ENGLISH_MONTHS[index].contains(&lower));
        named.then_some(index as i8 + 1)
    })
}

fn day_of(word: &str) -> Option<i8> {
    // "7-го", "13th", "1st": the number first.
    let word = word.to_lowercase();
    let word = word.as_str();
    let digits: String = word.chars().take_while(char::is_ascii_digit).collect();
    let rest = &word[digits.len()..];
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    if !rest.is_empty() && !["-го", "го", "st", "nd", "rd", "th", "-е"].contains(&rest) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn time_of(word: &str) -> Option<(i8, i8)> {
    let (h, m) = word.split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && word.len() <= 5).then_some((h, m))
}

/// A numeric date with its year: `07.01.2022`, `7.1.22`, `2022-01-07` (a day and month alone,
/// "1.2" or "10.10", are as often a decimal or a time).
fn numeric_date(word: &str) -> Option<(i16, i8, i8)> {
    if let Some(date) = word.parse::<Date>().ok().filter(|_| word.len() == 10) {
        return Some((date.year(), date.month(), date.day()));
    }
    let parts: Vec<&str> = word.split('.').collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let day: i8 = parts[0].parse().ok().filter(|d| (1..=31).contains(d))?;
    let month: i8 = parts[1].parse().ok().filter(|m| (1..=12).contains(m))?;
    let year = match parts[2].len() {
        4 => parts[2].parse().ok()?,
        2 => 2000 + parts[2].parse::<i16>().ok()?,
        _ => return None,
    };
    Some((year, month, day))
}

/// A word of a sentence: in lower case, and whether it was written with a capital.
struct Word {
    lower: String,
    written: String,
    capitalised: bool,
}

/// The words of a sentence, with the characters dates need (`:` and `.` in numbers, `-` in
/// `7-го` and ISO dates); a dash between words is a word of its own ("7 – 10 January"), an
/// apostrophe splits ("dall'8"), and "5-қаңтардан" and "7-10" are two words.
fn words(sentence: &str) -> Vec<Word> {
    let spaced = sentence.replace(['–', '—'], " - ");
    let mut words = Vec::new();
    let mut push = |w: &str| {
        words.push(Word {
            lower: w.to_lowercase(),
            written: w.to_string(),
            capitalised: w.chars().next().is_some_and(char::is_uppercase),
        })
    };
    for token in spaced.split(|c: char| !(c.is_alphanumeric() || matches!(c, ':' | '.' | '-'))) {
        if token == "-" {
            push("-");
            continue;
        }
        let word = token.trim_matches(|c: char| matches!(c, '.' | ':' | '-'));
        if word.is_empty() {
            continue;
        }
        match word.split_once('-') {
            Some((a, b))
                if day_of(a).is_some()
                    && (day_of(b).is_some()
                        || !b.starts_with(|c: char| c.is_ascii_digit())
                            && b.chars().count() > 3) =>
            {
                push(a);
                if day_of(b).is_some() {
                    push("-");
                }
                push(b);
            }
            _ => push(word),
        }
    }
    words
}

/// A date found in the words: where it starts and ends, and its parts.
struct Found {
    start: usize,
    end: usize,
    year: Option<i16>,
    month: i8,
    day: i8,
    time: Option<(i8, i8)>,
    /// A range's first day ("с 7 по 10 января", "7–10 January": 7, and where it is written).
    range_first: Option<(usize, i8)>,
}

fn find_dates(words: &[Word]) -> Vec<Found> {
    let lower = |k: usize| words.get(k).map_or("", |w| w.lower.as_str());
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut date = None;
        if let Some((year, month, day)) = numeric_date(lower(i)) {
            date = Some((i, i, Some(year), month, day));
        } else if let Some(day) = day_of(lower(i))
            && let Some(month) = words.get(i + 1).and_then(month_of)
        {
            date = Some((i, i + 1, None, month, day));
        } else if let Some(month) = month_of(&words[i])
            && let Some(day) = day_of(lower(i + 1))
        {
            // "January 13".
            date = Some((i, i + 1, None, month, day));
        }
        let Some((start, mut end, mut year, month, day)) = date else {
            i += 1;
            continue;
        };
        let four_digits = |w: &str| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit());
        if year.is_none() && four_digits(lower(end + 1)) {
            year = lower(end + 1).parse().ok();
            end += 1;
            // "2022 года", "2022 жылы".
            if ["г", "года", "году", "жылы", "жылғы"].contains(&lower(end + 1)) {
                end += 1;
            }
        }
        let mut time = None;
        let mut next = end + 1;
        if TIME_LINK_WORDS.contains(&lower(next)) {
            next += 1;
        }
        if let Some(t) = time_of(lower(next)) {
            time = Some(t);
            end = next;
        }
        // "с 7 по 10 января", "7–10 January", "dal 7 al 10 gennaio": a day alone before, a
        // dash or a word of end between, and the first day before the last.
        let range_first = start
            .checked_sub(2)
            .filter(|&k| UNTIL_WORDS.contains(&lower(k + 1)) || lower(k + 1) == "-")
            .and_then(|k| day_of(lower(k)).map(|d| (k, d)))
            .filter(|&(k, first)| first < day && words.get(k + 1).and_then(month_of).is_none());
        found.push(Found {
            start,
            end,
            year,
            month,
            day,
            time,
            range_first,
        });
        i = end + 1;
    }
    found
}

/// The window the dates of a sentence state, read around `received_at` in `zone`.
pub fn window_in(sentence: &str, received_at: Timestamp, zone: &TimeZone) -> Window {
    let words = words(sentence);
    let lower = |k: usize| words.get(k).map_or("", |w| w.lower.as_str());
    let received = received_at.to_jiff().to_zoned(zone.clone());
    let mut window = Window::default();
    let quote = |from: usize, to: usize| {
        words[from..=to]
            .iter()
            .map(|w| w.written.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for date in find_dates(&words) {
        let Some(day) = nearest_day(date.year, date.month, date.day, received.date()) else {
            continue;
        };
        if let Some((first_index, first_day)) = date.range_first {
            let first = nearest_day(date.year, date.month, first_day, received.date());
            let said_from = first_index
                .checked_sub(1)
                .filter(|&j| FROM_WORDS.contains(&lower(j)));
            if let (Some(first), None) = (first, window.from.as_ref()) {
                let start = said_from.unwrap_or(first_index);
                window.from = at(first, None, zone).map(|t| (t, quote(start, date.end)));
            }
            if window.until.is_none() {
                window.until =
                    end_of(day, date.time, zone).map(|t| (t, quote(first_index, date.end)));
            }
            continue;
        }
        let word_before = date.start.checked_sub(1).map_or("", lower);
        let until_after = UNTIL_AFTER_WORDS.contains(&lower(date.end + 1));
        let is_until = UNTIL_WORDS.contains(&word_before) || until_after;
        let said_before = FROM_WORDS.contains(&word_before) || UNTIL_WORDS.contains(&word_before);
        let words_read = quote(
            date.start - usize::from(said_before),
            date.end + usize::from(until_after),
        );
        if is_until {
            if window.until.is_none() {
                window.until = end_of(day, date.time, zone).map(|t| (t, words_read));
            }
        } else if window.from.is_none() {
            // A start said with a word, a Kazakh ablative, or nothing at all.
            window.from = at(day, date.time, zone).map(|t| (t, words_read));
        }
    }
    // An end at or before the start (or, without a start, the receipt) is no window.
    let start = window.from.as_ref().map_or(received_at, |(t, _)| *t);
    if window
        .until
        .as_ref()
        .is_some_and(|(until, _)| *until <= start)
    {
        window.until = None;
    }
    window
}

/// The day of `month`/`day` nearest to `received` (in the given year, if any).
fn nearest_day(year: Option<i16>, month: i8, day: i8, received: Date) -> Option<Date> {
    if let Some(year) = year {
        return Date::new(year, month, day).ok();
    }
    let this_year = Date::new(received.year(), month, day).ok()?;
    let span = i64::from(received.until(this_year).ok()?.get_days());
    if span > HALF_YEAR_DAYS {
        Date::new(received.year() - 1, month, day).ok()
    } else if span < -HALF_YEAR_DAYS {
        Date::new(received.year() + 1, month, day).ok()
    } else {
        Some(this_year)
    }
}

fn at(day: Date, time: Option<(i8, i8)>, zone: &TimeZone) -> Option<Timestamp> {
    let (h, m) = time.unwrap_or((0, 0));
    let local: DateTime = day.at(h, m, 0, 0);
    Some(Timestamp::from(
        local.to_zoned(zone.clone()).ok()?.timestamp(),
    ))
}

/// The end of a window that ends on `day`: at its time, else at the next midnight.
fn end_of(day: Date, time: Option<(i8, i8)>, zone: &TimeZone) -> Option<Timestamp> {
    match time {
        Some(_) => at(day, time, zone),
        None => at(day.tomorrow().ok()?, None, zone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn almaty() -> TimeZone {
        TimeZone::get("Asia/Almaty").unwrap()
    }

    /// Received 2022-01-06 12:00 UTC (18:00 in Almaty).
    fn received() -> Timestamp {
        "2022-01-06T12:00:00Z".parse().unwrap()
    }

    fn read(sentence: &str) -> (Option<String>, Option<String>, Vec<String>) {
        let w = window_in(sentence, received(), &almaty());
        let show = |t: &Option<(Timestamp, String)>| t.as_ref().map(|(t, _)| t.to_string());
        let words = [&w.from, &w.until]
            .into_iter()
            .flatten()
            .map(|(_, words)| words.clone())
            .collect();
        (show(&w.from), show(&w.until), words)
    }

    /// Midnight in Almaty (UTC+6 in 2022) of a January day, in UTC.
    fn midnight(day: u8) -> String {
        format!("2022-01-{:02}T18:00:00Z", day - 1)
    }

    #[test]
    fn a_start_is_read_in_four_languages() {
        for sentence in [
            "Дорога перекрыта с 7 января",
            "The road is closed from 7 January",
            "The road is closed from January 7",
            "Strada chiusa dal 7 gennaio",
            "Жол 7 қаңтардан бастап жабық",
            "7 января аэропорт закрыт",
            "Closed since 07.01.2022",
            "Closed from 2022-01-07",
        ] {
            let (from, until, words) = read(sentence);
            assert_eq!(from, Some(midnight(7)), "{sentence}");
            assert_eq!(until, None, "{sentence}");
            assert!(!words[0].is_empty(), "{sentence}");
        }
        assert_eq!(read("Дорога перекрыта с 7 января").2, ["с 7 января"]);
        assert_eq!(read("Жол 7 қаңтардан бастап жабық").2, ["7 қаңтардан"]);
    }

    #[test]
    fn an_end_is_inclusive_unless_a_time_is_given() {
        for sentence in [
            "Аэропорт закрыт до 10 января",
            "Airport closed until 10 January",
            "Aeroporto chiuso fino al 10 gennaio",
            "Әуежай 10 қаңтарға дейін жабық",
        ] {
            let (from, until, _) = read(sentence);
            assert_eq!(from, None, "{sentence}");
            assert_eq!(until, Some(midnight(11)), "{sentence}");
        }
        let (_, until, words) = read("Airport closed until 10 January at 06:00");
        assert_eq!(until.as_deref(), Some("2022-01-10T00:00:00Z"));
        assert_eq!(words, ["until 10 January at 06:00"]);
        assert_eq!(
            read("Әуежай 10 қаңтарға дейін жабық").2,
            ["10 қаңтарға дейін"]
        );
    }

    #[test]
    fn ranges_and_times_are_read() {
        for sentence in [
            "Комендантский час с 7 по 10 января",
            "Curfew 7-10 January",
            "Coprifuoco dal 7 al 10 gennaio",
        ] {
            let (from, until, _) = read(sentence);
            assert_eq!(from, Some(midnight(7)), "{sentence}");
            assert_eq!(until, Some(midnight(11)), "{sentence}");
        }
        let (from, _, _) = read("Рейсы возобновятся 8 января в 14:00");
        assert_eq!(from.as_deref(), Some("2022-01-08T08:00:00Z"));
        assert_eq!(
            read("Комендантский час с 23:00 до 07:00"),
            (None, None, vec![]),
            "a nightly curfew is no window"
        );
    }

    /// Review of issue 30: words and numbers that are no dates.
    #[test]
    fn numbers_and_words_that_are_no_dates_make_no_window() {
        for sentence in [
            "Shooting in Almaty, 30 may have died",
            "Protesters marched 3 km to the square",
            "1.2 тыс. человек эвакуированы",
            "Рост на 3.4 %",
            "Вылет в 10.10",
            "В Алматы 3 маяка",
            "Закрыт до 5 января",
        ] {
            assert_eq!(read(sentence), (None, None, vec![]), "{sentence}");
        }
        let (from, until, _) = read("Погибли 12, 8 января введён режим ЧП");
        assert_eq!(
            (from, until),
            (Some(midnight(8)), None),
            "no range without a dash"
        );
        assert_eq!(read("Жол 5-қаңтардан бастап жабық").0, Some(midnight(5)));
        let (from, until, _) = read("Curfew 7 – 10 January");
        assert_eq!((from, until), (Some(midnight(7)), Some(midnight(11))));
        assert_eq!(
            read("Closed from 13 May").0.as_deref(),
            Some("2022-05-12T18:00:00Z")
        );
    }

    #[test]
    fn a_date_without_a_year_is_the_nearest_one() {
        let late_december: Timestamp = "2021-12-30T12:00:00Z".parse().unwrap();
        let w = window_in("closed from 2 January", late_december, &almaty());
        assert_eq!(w.from.unwrap().0.to_string(), "2022-01-01T18:00:00Z");
        let w = window_in("closed since 28 December", received(), &almaty());
        assert_eq!(w.from.unwrap().0.to_string(), "2021-12-27T18:00:00Z");
        assert_eq!(
            window_in("Seats 32, gate 7", received(), &almaty()),
            Window::default(),
            "numbers that are no dates"
        );
        assert_eq!(
            window_in("the road may be closed", received(), &almaty()),
            Window::default(),
            "\"may\" without a day is no month"
        );
    }
}
