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

/// Month stems in Russian, English, Italian and Kazakh (lower case; a word beginning with a
/// stem names the month, so "января", "қаңтардан" and "gennaio" all count).
const MONTHS: [&[&str]; 12] = [
    &["январ", "january", "jan", "gennai", "қаңтар"],
    &["феврал", "february", "feb", "febbrai", "ақпан"],
    &["март", "марта", "march", "mar", "marzo", "наурыз"],
    &["апрел", "april", "apr", "aprile", "сәуір"],
    &["мая", "май", "may", "maggio", "мамыр"],
    &["июн", "june", "jun", "giugno", "маусым"],
    &["июл", "july", "jul", "luglio", "шілде"],
    &["август", "august", "aug", "agosto", "тамыз"],
    &[
        "сентябр",
        "september",
        "sep",
        "sept",
        "settembre",
        "қыркүйек",
    ],
    &["октябр", "october", "oct", "ottobre", "қазан"],
    &["ноябр", "november", "nov", "novembre", "қараша"],
    &["декабр", "december", "dec", "dicembre", "желтоқсан"],
];
/// A date this many days or more from the receipt is read in the neighbouring year.
const HALF_YEAR_DAYS: i64 = 183;

/// The month a word names (a Kazakh month with its ablative, "қаңтардан", starts a window as
/// any date without a word of end does).
fn month_of(word: &str) -> Option<i8> {
    for (index, stems) in MONTHS.iter().enumerate() {
        for stem in *stems {
            // Three-letter English stems only as the whole word or with a dot ("Jan", "Jan.").
            let short = stem.chars().count() <= 3 || *stem == "sept";
            let matches = if short {
                word == *stem
            } else {
                word.starts_with(stem)
            };
            if matches {
                return Some(index as i8 + 1);
            }
        }
    }
    None
}

fn day_of(word: &str) -> Option<i8> {
    // "7-го", "13th", "1st": the number first.
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

/// A numeric date: `07.01.2022`, `7.1.22`, `2022-01-07` (year, month, day; year optional).
fn numeric_date(word: &str) -> Option<(Option<i16>, i8, i8)> {
    if let Some(date) = word.parse::<Date>().ok().filter(|_| word.len() == 10) {
        return Some((Some(date.year()), date.month(), date.day()));
    }
    let parts: Vec<&str> = word.split('.').filter(|p| !p.is_empty()).collect();
    if !(2..=3).contains(&parts.len())
        || !parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let day: i8 = parts[0].parse().ok().filter(|d| (1..=31).contains(d))?;
    let month: i8 = parts[1].parse().ok().filter(|m| (1..=12).contains(m))?;
    let year = match parts.get(2) {
        Some(y) if y.len() == 4 => Some(y.parse().ok()?),
        Some(y) if y.len() == 2 => Some(2000 + y.parse::<i16>().ok()?),
        Some(_) => return None,
        None => None,
    };
    Some((year, month, day))
}

/// The words of a sentence in lower case, with the characters dates need (`:` and `.` in
/// numbers, `-` in `7-го` and ISO dates); an apostrophe splits ("dall'8").
fn words(sentence: &str) -> Vec<String> {
    let mut words = Vec::new();
    for word in sentence
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, ':' | '.' | '-')))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '-')))
        .filter(|w| !w.is_empty())
    {
        // "7-10 January": two days.
        match word.split_once('-') {
            Some((a, b)) if day_of(a).is_some() && day_of(b).is_some() => {
                words.extend([a.to_string(), b.to_string()])
            }
            _ => words.push(word.to_lowercase()),
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
    /// A range's first day ("с 7 по 10 января": 7).
    range_first: Option<(usize, i8)>,
}

fn find_dates(words: &[String]) -> Vec<Found> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut date = None;
        if let Some((year, month, day)) = numeric_date(&words[i]) {
            date = Some((i, i, year, month, day));
        } else if let Some(day) = day_of(&words[i])
            && let Some(month) = words.get(i + 1).and_then(|w| month_of(w))
        {
            date = Some((i, i + 1, None, month, day));
        } else if let Some(month) = month_of(&words[i])
            && let Some(day) = words.get(i + 1).and_then(|w| day_of(w))
        {
            // "January 13".
            date = Some((i, i + 1, None, month, day));
        }
        let Some((start, mut end, mut year, month, day)) = date else {
            i += 1;
            continue;
        };
        if year.is_none()
            && let Some(y) = words
                .get(end + 1)
                .filter(|w| w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()))
        {
            year = y.parse().ok();
            end += 1;
            // "2022 года", "2022 жылы".
            if words
                .get(end + 1)
                .is_some_and(|w| ["г", "года", "году", "жылы", "жылғы"].contains(&w.as_str()))
            {
                end += 1;
            }
        }
        let mut time = None;
        let mut next = end + 1;
        if words
            .get(next)
            .is_some_and(|w| TIME_LINK_WORDS.contains(&w.as_str()))
        {
            next += 1;
        }
        if let Some(t) = words.get(next).and_then(|w| time_of(w)) {
            time = Some(t);
            end = next;
        }
        // "с 7 по 10 января", "7–10 January", "dal 7 al 10 gennaio": a day alone before.
        let range_first = (start >= 1)
            .then(|| start - 1)
            .and_then(|j| {
                let day_at = |k: usize| day_of(&words[k]).map(|d| (k, d));
                if UNTIL_WORDS.contains(&words[j].as_str()) || words[j] == "-" {
                    j.checked_sub(1).and_then(day_at)
                } else {
                    day_at(j)
                }
            })
            .filter(|(k, _)| month_of(words.get(k + 1).map_or("", |w| w)).is_none());
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
    let received = received_at.to_jiff().to_zoned(zone.clone());
    let mut window = Window::default();
    let quote = |from: usize, to: usize| words[from..=to].join(" ");
    for date in find_dates(&words) {
        let Some(day) = nearest_day(date.year, date.month, date.day, received.date()) else {
            continue;
        };
        let before = |k: usize| k.checked_sub(1).map(|j| words[j].as_str());
        let after = words.get(date.end + 1).map(String::as_str);
        if let Some((first_index, first_day)) = date.range_first {
            let first = nearest_day(date.year, date.month, first_day, received.date());
            let from_at = first_index
                .checked_sub(1)
                .filter(|&j| FROM_WORDS.contains(&words[j].as_str()));
            if let (Some(first), None) = (first, window.from.as_ref()) {
                let start = from_at.unwrap_or(first_index);
                window.from = at(first, None, zone).map(|t| (t, quote(start, date.end)));
            }
            if window.until.is_none() {
                window.until =
                    end_of(day, date.time, zone).map(|t| (t, quote(first_index, date.end)));
            }
            continue;
        }
        let word_before = before(date.start).unwrap_or("");
        let until_after = after.is_some_and(|w| UNTIL_AFTER_WORDS.contains(&w));
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
    if let (Some((from, _)), Some((until, _))) = (&window.from, &window.until)
        && until <= from
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
        assert_eq!(words, ["until 10 january at 06:00"]);
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
