//! What people write in the "situation" box, in their language.

use rand::Rng;
use rand::seq::IndexedRandom;

pub fn describe(
    rng: &mut impl Rng,
    language: &str,
    group: bool,
    medical: bool,
    child_alone: bool,
) -> String {
    let (base, group_line, medical_line, alone_line): (&[&str], &str, &str, &str) = match language {
        "ru" | "kk" => (
            &[
                "Аэропорт закрыт, рейс отменён, не можем выехать.",
                "В городе стрельба, из гостиницы не выходим.",
                "Нет связи и наличных, просим помочь с выездом.",
                "Дороги перекрыты, ждём эвакуации.",
            ],
            "Группа детей на зимних каникулах с сопровождающими.",
            "Нужна срочная медицинская помощь.",
            "Ребёнок один, родители дома, просим вывезти.",
        ),
        "it" => (
            &[
                "L'aeroporto è chiuso e il volo cancellato.",
                "Siamo chiusi in albergo, si sentono spari.",
                "Strade bloccate, aspettiamo l'evacuazione.",
            ],
            "Gruppo di ragazzi in vacanza con accompagnatori.",
            "Serve assistenza medica urgente.",
            "Il ragazzo è solo, i genitori sono a casa.",
        ),
        _ => (
            &[
                "The airport is closed and our flight cancelled.",
                "Shooting in the streets, we stay in the hotel.",
                "Roads are blocked, no cash, please help us leave.",
            ],
            "A group of children on holiday with their teachers.",
            "Urgent medical help needed.",
            "Our child is there alone; we are at home.",
        ),
    };
    let mut text = base.choose(rng).unwrap().to_string();
    for (applies, line) in [
        (group, group_line),
        (medical, medical_line),
        (child_alone, alone_line),
    ] {
        if applies {
            text.push(' ');
            text.push_str(line);
        }
    }
    text
}
