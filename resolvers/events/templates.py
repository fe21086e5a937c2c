"""The texts of notices to families, in Kyrgyz and Russian (the state and the official
language). A text names no person: the family knows its child; the application's number and
the institution (public) say which one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from models import NoticeLanguage


@dataclass(frozen=True)
class Text:
    title: str
    body: str


TEMPLATES: dict[str, dict[NoticeLanguage, Text]] = {
    "offer_made": {
        NoticeLanguage.KY: Text(
            "Бала бакчадан орун сунушталды",
            "№{application} арыз боюнча балаңызга «{institution}» бала бакчасынан орун "
            "сунушталды. Сунушту кабыл алып, документтерди {deadline} чейин тапшырыңыз.",
        ),
        NoticeLanguage.RU: Text(
            "Предложено место в детском саду",
            "По заявлению №{application} вашему ребёнку предложено место в детском саду "
            "«{institution}». Примите предложение и сдайте документы до {deadline}.",
        ),
    },
    "offer_expiring": {
        NoticeLanguage.KY: Text(
            "Сунуштун мөөнөтү бүтүп баратат",
            "№{application} арыз боюнча «{institution}» бала бакчасындагы орундун мөөнөтү "
            "{deadline} бүтөт. Документтерди ошол күнгө чейин тапшырыңыз, болбосо орун "
            "башка балага берилет.",
        ),
        NoticeLanguage.RU: Text(
            "Срок предложения истекает",
            "Срок предложения места в детском саду «{institution}» по заявлению №{application} "
            "истекает {deadline}. Сдайте документы до этого дня, иначе место передадут "
            "другому ребёнку.",
        ),
    },
    "offer_expired": {
        NoticeLanguage.KY: Text(
            "Сунуштун мөөнөтү бүттү",
            "№{application} арыз боюнча бала бакчадагы орун сунушунун мөөнөтү бүттү. "
            "Арыздын абалы: {status}.",
        ),
        NoticeLanguage.RU: Text(
            "Срок предложения истёк",
            "Срок предложения места в детском саду по заявлению №{application} истёк. "
            "Статус заявления: {status}.",
        ),
    },
    "status_changed": {
        NoticeLanguage.KY: Text(
            "Арыздын абалы өзгөрдү",
            "№{application} арыздын ({service}) абалы өзгөрдү: {status}.",
        ),
        NoticeLanguage.RU: Text(
            "Статус заявления изменился",
            "Статус заявления №{application} ({service}) изменился: {status}.",
        ),
    },
}

# Words the texts fill in: statuses and services, per language.
WORDS: dict[NoticeLanguage, dict[str, str]] = {
    NoticeLanguage.KY: {
        "kindergarten": "бала бакча кезеги",
        "first_grade": "1-класска кабыл алуу",
        "waiting": "кезекте",
        "offered": "орун сунушталды",
        "accepted": "сунуш кабыл алынды",
        "admitted": "кабыл алынды",
        "withdrawn": "кайтарылып алынды",
        "removed": "кезектен чыгарылды",
        "cancelled": "жокко чыгарылды",
        "submitted": "берилди",
        "waitlisted": "күтүү тизмесинде",
        "rejected": "четке кагылды",
        "declined": "баш тартылды",
    },
    NoticeLanguage.RU: {
        "kindergarten": "очередь в детский сад",
        "first_grade": "приём в 1 класс",
        "waiting": "в очереди",
        "offered": "предложено место",
        "accepted": "предложение принято",
        "admitted": "зачислен",
        "withdrawn": "отозвано",
        "removed": "исключено из очереди",
        "cancelled": "аннулировано",
        "submitted": "подано",
        "waitlisted": "в листе ожидания",
        "rejected": "отклонено",
        "declined": "отказ",
    },
}


def word(language: NoticeLanguage, key: str) -> str:
    return WORDS[language].get(key, key)


def render(template: str, language: NoticeLanguage, **values: Any) -> Text:
    """The notice's title and body in ``language``; dates as DD.MM.YYYY, statuses and
    services in words."""
    shown = {
        key: value.strftime("%d.%m.%Y")
        if isinstance(value, date)
        else word(language, value)
        if key in ("status", "service")
        else value
        for key, value in values.items()
    }
    text = TEMPLATES[template][language]
    return Text(text.title, text.body.format(**shown))
