"""A deterministic synthetic dataset shaped like the Kyrgyz education system.

Scale 1.0 is the whole country: about 2,300 schools with 1.4 million pupils, 1,500
kindergartens, 150 colleges, 90 universities, a few foreign universities, the pupils' families
and the staff. Everything is derived from ``random.Random(seed)`` and fixed reference dates
(the 2026/27 school year), so the same (scale, seed) always produces the same rows.

Rows are written with binary COPY in batches, in one transaction. Families are generated one
district at a time and handed over in batches, so memory stays bounded at any scale; the next
batch is generated in a worker thread while the previous one is being copied.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from models.database import plain_url
from models.people import Sex
from resolvers.pin import make_pin

DEMO_SCALE: float = 0.005

# The school year the data describes; every date is relative to it, never to "today".
YEAR = 2026
YEAR_START = date(YEAR, 9, 1)
PIN_SYSTEM_START = date(2005, 1, 1)
BATCH_ROWS = 25_000
SIBLING_WINDOW = 12
MAX_CLASS = 36
TYPICAL_CLASS = 30

# Totals at scale 1.0.
SCHOOLS = 2_300
KINDERGARTENS = 1_500
UNIVERSITIES = 90
COLLEGES = 150
PUPILS = 1_400_000
PRESCHOOLERS = 200_000
STUDENTS = 230_000
VOCATIONAL_STUDENTS = 70_000
STUDENTS_ABROAD = 5_000

Row = tuple[Any, ...]

COLUMNS: dict[str, list[str]] = {
    "institution": [
        "id", "kind", "ownership", "name", "name_ru", "legal_id", "country_code", "region_id",
        "district_id", "address", "languages", "design_capacity", "opened_on",
    ],
    "catchment_area": ["id", "institution_id", "district_id", "name", "streets"],
    "person": [
        "id", "pin", "last_name", "first_name", "patronymic", "sex", "birth_date",
        "registered_district_id", "registered_address",
    ],
    "person_pin": ["id", "person_id", "pin", "reason", "valid_from"],
    "guardianship": ["id", "guardian_id", "child_id", "kind", "valid_from"],
    "enrollment": [
        "id", "person_id", "institution_id", "sector", "entry_date", "exit_date", "exit_reason",
        "grade_level", "programme", "class_group", "previous_enrollment_id",
    ],
    "staff_position": [
        "id", "person_id", "institution_id", "role", "title", "subject", "rate", "start_date",
    ],
}  # fmt: skip
PEOPLE_TABLES = ("person", "person_pin", "guardianship", "enrollment", "staff_position")
COUNT_KEYS = {
    "institution": "institutions",
    "catchment_area": "catchment_areas",
    "person": "persons",
    "person_pin": "person_pins",
    "guardianship": "guardianships",
    "enrollment": "enrollments",
    "staff_position": "staff_positions",
}

# --- regions -------------------------------------------------------------------------------

# Population share (children follow the population; the south is younger, so roughly equal).
POPULATION = {
    "KG-B": 0.080, "KG-J": 0.190, "KG-Y": 0.070, "KG-N": 0.045, "KG-O": 0.200,
    "KG-T": 0.040, "KG-C": 0.145, "KG-GB": 0.175, "KG-GO": 0.055,
}  # fmt: skip
UNIVERSITY_SHARE = {
    "KG-B": 0.03, "KG-J": 0.06, "KG-Y": 0.04, "KG-N": 0.03, "KG-O": 0.03,
    "KG-T": 0.03, "KG-C": 0.04, "KG-GB": 0.60, "KG-GO": 0.14,
}  # fmt: skip
COLLEGE_SHARE = {
    "KG-B": 0.06, "KG-J": 0.12, "KG-Y": 0.08, "KG-N": 0.05, "KG-O": 0.09,
    "KG-T": 0.05, "KG-C": 0.10, "KG-GB": 0.33, "KG-GO": 0.12,
}  # fmt: skip
# Ethnic mix of names per region: (Kyrgyz, Russian, Uzbek).
NAME_MIX = {
    "KG-B": (0.78, 0.01, 0.21), "KG-J": (0.72, 0.02, 0.26), "KG-Y": (0.88, 0.10, 0.02),
    "KG-N": (0.99, 0.01, 0.00), "KG-O": (0.68, 0.01, 0.31), "KG-T": (0.95, 0.03, 0.02),
    "KG-C": (0.66, 0.30, 0.04), "KG-GB": (0.72, 0.22, 0.06), "KG-GO": (0.56, 0.03, 0.41),
}  # fmt: skip
# Where a region's universities and colleges stand: (district code, Kyrgyz, Russian, adjective).
CENTRES = {
    "KG-B": ("KG-B-BTKC", "Баткен", "Баткен", "Баткенский"),
    "KG-J": ("KG-J-JLB", "Жалал-Абад", "Джалал-Абад", "Джалал-Абадский"),
    "KG-Y": ("KG-Y-KRK", "Каракол", "Каракол", "Иссык-Кульский"),
    "KG-N": ("KG-N-NRNC", "Нарын", "Нарын", "Нарынский"),
    "KG-O": ("KG-O-UZG", "Өзгөн", "Узген", "Узгенский"),
    "KG-T": ("KG-T-TLSC", "Талас", "Талас", "Таласский"),
    "KG-C": ("KG-C-TKM", "Токмок", "Токмок", "Токмокский"),
    "KG-GB": ("", "Бишкек", "Бишкек", "Бишкекский"),
    "KG-GO": ("KG-GO-OSHC", "Ош", "Ош", "Ошский"),
}

# --- names ---------------------------------------------------------------------------------

KY, RU, UZ = 0, 1, 2
SEXES = {"female": Sex.FEMALE, "male": Sex.MALE}

MALE_NAMES: tuple[tuple[str, ...], ...] = (
    (
        "Азамат", "Бакыт", "Нурлан", "Эрлан", "Улан", "Талант", "Бекзат", "Айбек", "Нурбек",
        "Алмаз", "Эрмек", "Мирлан", "Данияр", "Темирлан", "Жоомарт", "Кубанычбек", "Асан",
        "Үсөн", "Марат", "Канат", "Руслан", "Нурсултан", "Адилет", "Эльдар", "Бакытбек",
        "Самат", "Эмир", "Арслан", "Алихан", "Нуржигит", "Бектур", "Элдияр", "Актан", "Медер",
        "Тилек", "Максат", "Чынгыз", "Эрбол", "Жыргалбек", "Токтосун", "Мамат", "Абдыкадыр",
        "Сүйүнбай", "Алтынбек", "Кайрат", "Айдар", "Мирбек", "Урмат", "Бексултан", "Эрнис",
        "Акылбек", "Бактыбек", "Улукбек", "Замир", "Азиз", "Дастан", "Нурислам", "Аман",
        "Болот", "Жолдош", "Курманбек", "Бейшен", "Мурат", "Тынчтык", "Эсен", "Кенжебек",
        "Алымбек", "Сагын", "Темир", "Калыс", "Төлөн", "Акжол", "Бекболот", "Атай", "Нурдин",
        "Садыр", "Ысмайыл", "Өмүрбек", "Кудайберген", "Таалай",
    ),
    (
        "Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Владимир", "Николай", "Игорь",
        "Евгений", "Максим", "Иван", "Артём", "Михаил", "Павел", "Роман", "Денис", "Виктор",
        "Олег", "Юрий", "Антон", "Кирилл", "Егор", "Константин", "Вадим", "Станислав",
        "Георгий", "Тимофей", "Даниил", "Матвей", "Фёдор", "Пётр", "Никита", "Илья", "Вячеслав",
    ),
    (
        "Ахмаджан", "Бахтиёр", "Шерзод", "Улугбек", "Фаррух", "Рустам", "Жасур", "Азизбек",
        "Дилшод", "Алишер", "Икром", "Бобур", "Нодир", "Равшан", "Санжар", "Отабек",
        "Хуршид", "Элёр", "Абдулла", "Камол", "Мухаммад", "Зафар", "Жахонгир", "Ислом", "Умид",
        "Шухрат", "Баходир", "Акмал", "Анвар", "Тимур", "Содик", "Мансур",
    ),
)  # fmt: skip
FEMALE_NAMES: tuple[tuple[str, ...], ...] = (
    (
        "Айгүл", "Айпери", "Айжан", "Нургүл", "Гүлнара", "Жылдыз", "Айнура", "Чолпон", "Бермет",
        "Асель", "Мээрим", "Айзада", "Нуриза", "Динара", "Гүлзат", "Бактыгүл", "Айсулуу",
        "Эркайым", "Мариям", "Нурайым", "Айдана", "Алтынай", "Гүлмира", "Назира", "Бүбүсара",
        "Таттыгүл", "Элнура", "Каныкей", "Жамиля", "Салтанат", "Нургиза", "Айсалкын", "Мирима",
        "Эльмира", "Сезим", "Томирис", "Аруузат", "Адинай", "Айбийке", "Жибек", "Айтолкун",
        "Камила", "Амина", "Медина", "Сабина", "Толгонай", "Умут", "Кундуз", "Айчүрөк",
        "Назгүл", "Бурул", "Зуура", "Акмаал", "Гүлайым", "Дарика", "Самара", "Аселя", "Бегимай",
    ),
    (
        "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Мария",
        "Екатерина", "Юлия", "Анастасия", "Марина", "Людмила", "Галина", "Валентина", "Оксана",
        "Виктория", "Дарья", "Алина", "Ксения", "Полина", "Софья", "Вероника", "Алёна",
        "Надежда", "Кристина", "Евгения", "Елизавета", "Варвара", "Лариса",
    ),
    (
        "Дилноза", "Гулнора", "Мохира", "Нилуфар", "Шахноза", "Зарина", "Феруза", "Малика",
        "Дилфуза", "Севара", "Мадина", "Умида", "Нигора", "Гулчехра", "Мунира", "Барно",
        "Зулфия", "Юлдуз", "Хилола", "Сайёра", "Лола", "Нодира", "Камола", "Дилдора", "Гулноза",
    ),
)  # fmt: skip
SURNAMES: tuple[tuple[str, ...], ...] = (
    (
        "Асанов", "Усенов", "Токтогулов", "Жумабаев", "Исаков", "Мамытов", "Абдыкадыров",
        "Бекмуратов", "Осмонов", "Садыков", "Турдубаев", "Кадыров", "Токтосунов", "Алиев",
        "Сыдыков", "Эшматов", "Маматов", "Омуров", "Сатыбалдиев", "Акматов", "Абдыраимов",
        "Бакиров", "Орозбаев", "Калыков", "Карабаев", "Шаршеев", "Жолдошев", "Кенжебаев",
        "Мукашев", "Нурматов", "Сулайманов", "Керимбаев", "Чотонов", "Бообеков", "Темирбеков",
        "Дүйшөнбиев", "Абдылдаев", "Сагынбаев", "Бейшеналиев", "Молдокматов", "Үсөналиев",
        "Токоев", "Алымкулов", "Мырзакматов", "Ибраимов", "Эсенов", "Шамшиев", "Арстанбеков",
    ),
    (
        "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
        "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
        "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
        "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
        "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Гусев", "Ильин", "Максимов",
        "Поляков", "Сорокин", "Виноградов", "Белов", "Антонов", "Тарасов", "Баранов",
        "Филиппов", "Комаров", "Давыдов", "Беляев", "Богданов", "Осипов", "Сидоров",
    ),
    (
        "Юсупов", "Каримов", "Рахимов", "Абдуллаев", "Хасанов", "Усмонов", "Мирзаев",
        "Эргашев", "Турсунов", "Холматов", "Исмоилов", "Саидов", "Назаров", "Алимов",
        "Рашидов", "Умаров", "Ахмедов", "Шарипов", "Маматкулов", "Абдурахманов", "Нематов",
        "Зокиров", "Тошматов", "Мадаминов", "Тургунов", "Юлдашев", "Файзуллаев", "Ибрагимов",
        "Хайдаров", "Содиков",
    ),
)  # fmt: skip
PATRONYMIC_EXCEPTIONS = {
    "Павел": ("Павлович", "Павловна"),
    "Пётр": ("Петрович", "Петровна"),
    "Никита": ("Никитич", "Никитична"),
    "Илья": ("Ильич", "Ильинична"),
}
VOWELS = set("аеёиоуыэюяөү")


def _name_surname(name: str) -> str:
    """The '-ов' / '-ев' form of a first name (Азамат -> Азаматов, Сүйүнбай -> Сүйүнбаев)."""
    if name[-1] in "йь":
        return name[:-1] + "ев"
    if name[-1] in VOWELS or name[-1] in "жшчщц":
        return name + "ев"
    return name + "ов"


def _patronymic(father: str, male: bool) -> str:
    """Азамат -> Азаматович / Азаматовна; Сергей -> Сергеевич / Сергеевна."""
    if father in PATRONYMIC_EXCEPTIONS:
        return PATRONYMIC_EXCEPTIONS[father][0 if male else 1]
    return _name_surname(father) + ("ич" if male else "на")


def _feminine(surname: str) -> str:
    """Асанов -> Асанова, Жумабаев -> Жумабаева, Ильин -> Ильина."""
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname


# Kyrgyz and Uzbek surnames are often formed from an ancestor's first name.
ALL_SURNAMES: tuple[tuple[str, ...], ...] = (
    SURNAMES[KY] * 3 + tuple(_name_surname(n) for n in MALE_NAMES[KY]),
    SURNAMES[RU],
    SURNAMES[UZ] * 3 + tuple(_name_surname(n) for n in MALE_NAMES[UZ]),
)

# --- places and institutions ---------------------------------------------------------------

STREETS = (
    "ул. Ленина", "ул. Токтогула", "ул. Манаса", "ул. Фрунзе", "ул. Советская", "ул. Гагарина",
    "ул. Пушкина", "ул. Мира", "ул. Молодёжная", "ул. Школьная", "ул. Садовая",
    "ул. Ахунбаева", "ул. Абдрахманова", "ул. Жибек Жолу", "ул. Курманжан Датки",
    "ул. Ч. Айтматова", "ул. Кыргызстан", "ул. Ала-Тоо", "ул. Боконбаева", "ул. Исанова",
    "ул. Тоголок Молдо", "ул. Осмонова", "ул. Набережная", "ул. Калинина", "ул. Чапаева",
    "ул. Байтик Баатыра", "ул. Алыкулова", "ул. Малдыбаева", "ул. Киевская", "ул. Московская",
    "ул. Горького", "ул. Тыныстанова", "ул. Сатылганова", "ул. Жукеева-Пудовкина",
    "ул. Ибраимова", "ул. Логвиненко", "ул. Южная", "ул. Северная", "ул. Заречная",
    "ул. Луговая", "ул. Нурдөөлөт", "ул. Ынтымак", "ул. Достук", "ул. Бейшеналиевой",
)  # fmt: skip
MICRODISTRICTS = (
    "мкр. Джал", "мкр. Асанбай", "мкр. Восток-5", "мкр. Аламедин-1", "мкр. Тунгуч",
    "мкр. Кок-Жар", "мкр. Учкун", "мкр. Магистраль", "мкр. Западный", "мкр. Южный",
    "мкр. Северный", "мкр. Центральный", "мкр. Юбилейный", "мкр. Достук", "ж/м Ала-Тоо",
    "ж/м Ак-Орго", "ж/м Арча-Бешик", "ж/м Калыс-Ордо", "ж/м Ак-Босого", "ж/м Кызыл-Аскер",
    "мкр. Анар", "мкр. Ак-Тилек", "мкр. Нариман", "мкр. Черёмушки", "мкр. Шлагбаум",
)  # fmt: skip
VILLAGES = (
    "Ак-Суу", "Кара-Суу", "Кызыл-Жар", "Жаңы-Жол", "Сары-Булак", "Кара-Жыгач", "Ак-Таш",
    "Кара-Таш", "Чоң-Арык", "Көк-Жар", "Ак-Терек", "Кара-Булак", "Баш-Кайыңды", "Ак-Булак",
    "Кайыңды", "Сары-Камыш", "Көк-Сай", "Ак-Жол", "Беш-Терек", "Кара-Кужур", "Ой-Тал",
    "Достук", "Ынтымак", "Кең-Сай", "Арал", "Боз-Учук", "Тогуз-Булак", "Орто-Сай",
    "Кош-Дөбө", "Чек", "Ак-Кыя", "Талды-Булак", "Жаңы-Арык", "Миң-Булак", "Кызыл-Туу",
    "Ак-Дөбө", "Кара-Ой", "Чечме-Сай", "Төрт-Күл", "Бакай", "Нооруз", "Үч-Терек",
)  # fmt: skip
HONOREES = (
    ("Ч. Айтматов", "Ч. Айтматова"), ("Токтогул", "Токтогула"), ("А. Осмонов", "А. Осмонова"),
    ("Т. Сатылганов", "Т. Сатылганова"), ("Ж. Баласагын", "Ж. Баласагына"),
    ("Курманжан Датка", "Курманжан Датки"), ("Ы. Абдрахманов", "Ы. Абдрахманова"),
    ("Ж. Бөкөнбаев", "Ж. Боконбаева"), ("А. Токомбаев", "А. Токомбаева"),
    ("Т. Касымбеков", "Т. Касымбекова"), ("Барпы Алыкулов", "Барпы Алыкулова"),
    ("Тоголок Молдо", "Тоголок Молдо"), ("К. Тыныстанов", "К. Тыныстанова"),
    ("Молдо Кылыч", "Молдо Кылыча"), ("С. Орозбаков", "С. Орозбакова"),
    ("А. С. Пушкин", "А. С. Пушкина"), ("М. В. Ломоносов", "М. В. Ломоносова"),
    ("Ю. Гагарин", "Ю. Гагарина"), ("Ж. Жанузаков", "Ж. Жанузакова"),
)  # fmt: skip
# (Kyrgyz suffix, Russian prefix, highest grade, weight in towns, weight in villages)
SCHOOL_TYPES = (
    ("орто мектеби", "Средняя общеобразовательная школа", 11, 0.72, 0.78),
    ("негизги мектеби", "Основная общеобразовательная школа", 9, 0.00, 0.12),
    ("башталгыч мектеби", "Начальная школа", 4, 0.00, 0.04),
    ("гимназия-мектеби", "Школа-гимназия", 11, 0.12, 0.03),
    ("лицей", "Лицей", 11, 0.07, 0.01),
    ("гимназия-лицей", "Гимназия-лицей", 11, 0.06, 0.00),
    ("мектеп-интернаты", "Школа-интернат", 11, 0.03, 0.02),
)
BRANDS = (
    "Илим", "Билим", "Мурас", "Лидер", "Эрудит", "Келечек", "Шоола", "Нур", "Акыл", "Жарык",
    "Алтын Казык", "Мектеп Плюс", "Интеллект", "Сейтек", "Ак-Ниет",
)  # fmt: skip
KINDERGARTEN_NAMES = (
    "Айгөлек", "Балапан", "Балдырган", "Ак-Бермет", "Ромашка", "Солнышко", "Теремок",
    "Берёзка", "Чолпон", "Жылдыз", "Бөбөк", "Алтын бешик", "Айчүрөк", "Умут", "Балалык",
    "Кулунчак", "Ак-Куу", "Мээрим", "Ласточка", "Сказка", "Радуга", "Колокольчик",
    "Золотой ключик", "Күлүн", "Тамчы", "Көгүчкөн", "Жоогазын", "Наристе",
)  # fmt: skip
KINDERGARTEN_GROUPS = {
    YEAR - 2: "Бөбөктөр тобу",
    YEAR - 3: "Кичүү топ",
    YEAR - 4: "Ортоңку топ",
    YEAR - 5: "Улуу топ",
    YEAR - 6: "Даярдоо тобу",
}
KINDERGARTEN_COHORT_WEIGHTS = {YEAR - 2: 0.25, YEAR - 3: 0.8, YEAR - 4: 1.0, YEAR - 5: 1.1,
                               YEAR - 6: 1.1}  # fmt: skip
# Later grades shrink: many leave after grade 9 for colleges.
GRADE_WEIGHTS = (1.08, 1.08, 1.06, 1.05, 1.0, 1.0, 0.98, 0.97, 0.96, 0.62, 0.58)
CLASS_LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
BISHKEK_UNIVERSITIES = (
    ("Кыргыз улуттук университети", "Кыргызский национальный университет", "state"),
    ("Кыргыз мамлекеттик техникалык университети",
     "Кыргызский государственный технический университет", "state"),
    ("Кыргыз мамлекеттик медициналык академиясы",
     "Кыргызская государственная медицинская академия", "state"),
    ("Бишкек мамлекеттик университети", "Бишкекский государственный университет", "state"),
    ("Кыргыз улуттук агрардык университети", "Кыргызский национальный аграрный университет",
     "state"),
    ("Кыргыз мамлекеттик юридикалык академиясы",
     "Кыргызская государственная юридическая академия", "state"),
    ("Кыргыз экономикалык университети", "Кыргызский экономический университет", "state"),
    ("Кыргыз мамлекеттик курулуш, транспорт жана архитектура университети",
     "Кыргызский государственный университет строительства, транспорта и архитектуры",
     "state"),
    ("Кыргыз-Түрк «Манас» университети", "Кыргызско-Турецкий университет «Манас»", "state"),
    ("Кыргыз-Россия Славян университети", "Кыргызско-Российский Славянский университет",
     "state"),
    ("Эл аралык Ала-Тоо университети", "Международный университет Ала-Тоо", "private"),
    ("Кыргыз мамлекеттик дене тарбия жана спорт академиясы",
     "Кыргызская государственная академия физической культуры и спорта", "state"),
    ("Кыргыз улуттук консерваториясы", "Кыргызская национальная консерватория", "state"),
    ("Эл аралык Кыргызстан университети", "Международный университет Кыргызстана", "private"),
)  # fmt: skip
UNIVERSITY_PREFIXES = (("Бишкек", "Бишкекский"), ("Эл аралык", "Международный"),
                       ("Евразия", "Евразийский"), ("Азия", "Азиатский"),
                       ("Борбор Азия", "Центрально-Азиатский"))  # fmt: skip
FIELDS = (
    ("гуманитардык", "гуманитарный"), ("инновациялык", "инновационный"),
    ("медициналык", "медицинский"), ("экономикалык", "экономический"),
    ("педагогикалык", "педагогический"), ("технологиялык", "технологический"),
    ("лингвистикалык", "лингвистический"), ("агрардык", "аграрный"),
)  # fmt: skip
COLLEGE_FIELDS = (
    ("педагогикалык", "Педагогический"), ("медициналык", "Медицинский"),
    ("политехникалык", "Политехнический"), ("агрардык", "Аграрный"),
    ("курулуш", "Строительный"), ("музыкалык", "Музыкальный"),
    ("экономикалык", "Экономический"), ("транспорт", "Транспортный"),
    ("энергетикалык", "Энергетический"), ("технологиялык", "Технологический"),
)  # fmt: skip
PROGRAMMES = (
    "Педагогика", "Информатика", "Лечебное дело", "Экономика", "Юриспруденция",
    "Менеджмент", "Филология", "Лингвистика", "Стоматология", "Фармация", "Строительство",
    "Энергетика", "Агрономия", "Ветеринария", "Туризм", "Журналистика",
    "Международные отношения", "Финансы и кредит", "Прикладная математика", "История",
    "Психология", "Архитектура", "Программная инженерия", "Биология", "Химия", "Физика",
    "Социальная работа", "Государственное и муниципальное управление",
)  # fmt: skip
LONG_PROGRAMMES = {"Лечебное дело": 6, "Стоматология": 5, "Архитектура": 5}
COLLEGE_PROGRAMMES = (
    "Сестринское дело", "Дошкольное образование", "Преподавание в начальных классах",
    "Бухгалтерский учёт", "Программирование в компьютерных системах", "Электроснабжение",
    "Техническое обслуживание автомобилей", "Поварское дело", "Швейное производство",
    "Фармация", "Лечебное дело", "Строительство и эксплуатация зданий",
)  # fmt: skip
SUBJECTS = (
    ("Начальные классы", 6), ("Кыргызский язык и литература", 3),
    ("Русский язык и литература", 3), ("Математика", 4), ("Английский язык", 2),
    ("Физика", 1), ("Химия", 1), ("Биология", 1), ("География", 1), ("История", 2),
    ("Информатика", 1), ("Физическая культура", 2), ("Музыка", 1),
    ("Изобразительное искусство", 1), ("Технология", 1), ("Человек и общество", 1),
)  # fmt: skip
SUBJECT_POOL = tuple(s for s, w in SUBJECTS for _ in range(w))
LECTURER_TITLES = ("Преподаватель", "Преподаватель", "Старший преподаватель", "Доцент",
                   "Профессор")  # fmt: skip
TEACHER_RATES = (1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.5, 1.25, 0.5, 0.75)
FOREIGN_UNIVERSITIES = (
    ("Lomonosov Moscow State University",
     "Московский государственный университет имени М. В. Ломоносова", "RU", "Москва, Россия",
     ["ru"], date(1755, 1, 25)),
    ("Al-Farabi Kazakh National University",
     "Казахский национальный университет имени аль-Фараби", "KZ", "Алматы, Казахстан",
     ["ru"], date(1934, 1, 15)),
    ("Ankara Üniversitesi", "Анкарский университет", "TR", "Анкара, Турция", ["en"],
     date(1946, 6, 18)),
    ("Peking University", "Пекинский университет", "CN", "Пекин, Китай", ["en"],
     date(1898, 7, 3)),
    ("Seoul National University", "Сеульский национальный университет", "KR",
     "Сеул, Республика Корея", ["en"], date(1946, 8, 22)),
    ("Technische Universität München", "Мюнхенский технический университет", "DE",
     "Мюнхен, Германия", ["en"], date(1868, 4, 12)),
    ("Arizona State University", "Университет штата Аризона", "US", "Темпе, США", ["en"],
     date(1885, 3, 12)),
    ("Debreceni Egyetem", "Дебреценский университет", "HU", "Дебрецен, Венгрия", ["en"],
     date(1912, 10, 23)),
)  # fmt: skip


# --- plan ----------------------------------------------------------------------------------


@dataclass(slots=True)
class District:
    id: int
    region_id: int
    code: str
    urban: bool
    locality: str
    villages: list[str] = field(default_factory=list)
    microdistricts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Region:
    id: int
    code: str
    districts: list[District]
    mix: tuple[float, float, float]


@dataclass(slots=True)
class Inst:
    id: int
    kind: str
    region_id: int | None
    district_id: int | None
    capacity: int
    opened: date
    max_grade: int = 11
    quota: int = 0
    staff: int = 0
    programmes: list[str] = field(default_factory=list)
    catchments: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Batch:
    rows: dict[str, list[Row]]
    units: int


def _apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder), each share at least ``minimum``."""
    shares = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    weight_sum = sum(weights)
    if rest <= 0 or weight_sum <= 0:
        return shares
    quotas = [rest * w / weight_sum for w in weights]
    floors = [int(q) for q in quotas]
    left = rest - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (floors[i] - quotas[i], i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [s + f for s, f in zip(shares, floors, strict=True)]


def _cohort_day(rng: random.Random, cohort: int) -> date:
    """A birth date in the school cohort ``cohort`` (1 September ``cohort`` .. 31 August)."""
    start = date(cohort, 9, 1).toordinal()
    return date.fromordinal(start + rng.randrange(date(cohort + 1, 9, 1).toordinal() - start))


def _year_day(rng: random.Random, year: int) -> date:
    return date.fromordinal(date(year, 1, 1).toordinal() + rng.randrange(365))


class Generator:
    """Plans the institutions, then yields the people in batches (single-threaded use)."""

    def __init__(
        self,
        *,
        scale: float,
        seed: int,
        regions: list[Region],
        institution_scale: float | None = None,
        next_ids: dict[str, int],
        legal_ids: set[str],
        pin_serials: dict[tuple[int, int], int],
    ) -> None:
        self.rng = random.Random(seed)
        # A stream of its own, so skipping legal ids already in use changes nothing else.
        self.legal_rng = random.Random(f"legal-id-{seed}")
        self.scale = scale
        # Institutions may be scaled apart from learners (the benchmark's 2,000 institutions for
        # 200,000 pupils: smaller schools, more of them).
        self.institution_scale = scale if institution_scale is None else institution_scale
        self.regions = regions
        self.region_by_id = {r.id: r for r in regions}
        self.district_by_id = {d.id: d for r in regions for d in r.districts}
        self.next_id = dict(next_ids)
        self.legal_ids = legal_ids
        self.pin_serials = pin_serials
        self.rows: dict[str, list[Row]] = {t: [] for t in PEOPLE_TABLES}
        self.units = 0
        self.insts: list[Inst] = []
        self.schools_by_region: dict[int, list[Inst]] = {}
        self.schools_by_district: dict[int, list[Inst]] = {}
        self.institution_rows: list[Row] = []

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    # --- plan ------------------------------------------------------------------------------

    def plan(self) -> None:
        """Choose every institution, its place, size and learner quota."""
        rng, s, n = self.rng, self.scale, self.institution_scale
        regions = self.regions
        pop = [POPULATION.get(r.code, 0.05) for r in regions]
        urban_region = [all(d.urban for d in r.districts) for r in regions]
        school_w = [p * (0.5 if u else 1.0) for p, u in zip(pop, urban_region, strict=True)]
        kg_w = [p * (0.9 if u else 1.0) for p, u in zip(pop, urban_region, strict=True)]
        plans: list[tuple[str, list[int], list[int]]] = [
            (
                "school",
                _apportion(round(SCHOOLS * n), school_w, 1),
                _apportion(round(PUPILS * s), pop),
            ),
            (
                "kindergarten",
                _apportion(round(KINDERGARTENS * n), kg_w, 1),
                _apportion(round(PRESCHOOLERS * s), pop),
            ),
            (
                "college",
                _apportion(
                    max(1, round(COLLEGES * n)), [COLLEGE_SHARE.get(r.code, 0.05) for r in regions]
                ),
                _apportion(
                    round(VOCATIONAL_STUDENTS * s),
                    [COLLEGE_SHARE.get(r.code, 0.05) for r in regions],
                ),
            ),
            (
                "university",
                _apportion(
                    round(UNIVERSITIES * n),
                    [UNIVERSITY_SHARE.get(r.code, 0.05) for r in regions],
                    1,
                ),
                _apportion(
                    round(STUDENTS * s), [UNIVERSITY_SHARE.get(r.code, 0.05) for r in regions]
                ),
            ),
        ]
        plans = [
            (
                kind,
                counts,
                _apportion(
                    sum(learners), [w if c else 0.0 for w, c in zip(learners, counts, strict=True)]
                ),
            )
            for kind, counts, learners in plans
        ]
        for region in regions:
            for d in region.districts:
                d.villages = rng.sample(VILLAGES, 12)
                d.microdistricts = rng.sample(MICRODISTRICTS, 10)
        for kind, counts, learners in plans:
            for i, region in enumerate(regions):
                if counts[i] == 0:
                    continue
                made = [self._institution(kind, region) for _ in range(counts[i])]
                self._name_all(kind, region, made)
                weights = [inst.capacity * self._load(inst) for inst in made]
                for inst, quota in zip(made, _apportion(learners[i], weights), strict=True):
                    inst.quota = quota
                    inst.staff = self._staff_count(inst)
        self._plan_foreign()
        for inst in self.insts:
            if inst.kind == "school" and inst.region_id is not None:
                self.schools_by_region.setdefault(inst.region_id, []).append(inst)
                assert inst.district_id is not None
                self.schools_by_district.setdefault(inst.district_id, []).append(inst)

    def _load(self, inst: Inst) -> float:
        """How full an institution is relative to its design capacity (towns are crowded)."""
        urban = inst.district_id is not None and self.district_by_id[inst.district_id].urban
        factor = self.rng.uniform(1.1, 1.6) if urban else self.rng.uniform(0.5, 1.05)
        return factor * inst.max_grade / 11

    def _staff_count(self, inst: Inst) -> int:
        if inst.kind == "school":
            return max(4, round(inst.quota / 14))
        if inst.kind == "kindergarten":
            return max(3, round(inst.quota / 9))
        if inst.kind == "college":
            return max(5, round(inst.quota / 16))
        return max(8, round(inst.quota / 18))

    def _pick_district(self, kind: str, region: Region) -> District:
        rng = self.rng
        if kind in ("college", "university"):
            centre = CENTRES.get(region.code, ("",))[0]
            for d in region.districts:
                if d.code == centre:
                    return d
            towns = [d for d in region.districts if d.urban] or region.districts
            return rng.choice(towns)
        # Regional towns hold fewer schools than the rayons around them; a city region's
        # districts are all alike.
        city_region = all(d.urban for d in region.districts)
        weights = [0.6 if d.urban and not city_region else 1.0 for d in region.districts]
        return rng.choices(region.districts, weights)[0]

    def _institution(self, kind: str, region: Region) -> Inst:
        rng = self.rng
        district = self._pick_district(kind, region)
        urban = district.urban
        if kind == "school":
            capacity = rng.randrange(800, 2001, 20) if urban else rng.randrange(300, 1201, 20)
            opened = date(rng.randint(1930, 2015), 9, 1)
        elif kind == "kindergarten":
            capacity = rng.randrange(100, 301, 10)
            opened = date(rng.randint(1950, 2020), rng.randint(1, 12), 1)
        elif kind == "college":
            capacity = rng.randrange(500, 3001, 50)
            opened = date(rng.randint(1925, 2015), 9, 1)
        else:
            capacity = rng.randrange(3000, 20001, 100) if urban else rng.randrange(1500, 8001, 100)
            opened = date(rng.randint(1925, 2015), 9, 1)
        inst = Inst(
            id=self._id("institution"),
            kind=kind,
            region_id=region.id,
            district_id=district.id,
            capacity=capacity,
            opened=opened,
        )
        self.insts.append(inst)
        return inst

    def _legal_id(self, opened: date) -> str:
        while True:
            candidate = f"0{opened:%d%m%Y}{self.legal_rng.randrange(100_000):05d}"
            if candidate not in self.legal_ids:
                self.legal_ids.add(candidate)
                return candidate

    def _address(
        self,
        district: District,
        area: str | None = None,
        streets: Sequence[str] | None = None,
        *,
        home: bool = True,
    ) -> str:
        rng = self.rng
        street = rng.choice(streets or STREETS)
        if district.urban:
            place = area or rng.choice(district.microdistricts)
            if home and rng.random() < 0.55:
                return (
                    f"{district.locality}, {place}, {street}, д. {rng.randint(1, 120)}, "
                    f"кв. {rng.randint(1, 96)}"
                )
            return f"{district.locality}, {street}, д. {rng.randint(1, 250)}"
        place = area or f"с. {rng.choice(district.villages)}"
        return f"{district.locality}, {place}, {street}, {rng.randint(1, 160)}"

    def _languages(self, kind: str, region: Region) -> list[str]:
        rng = self.rng
        _, ru, uz = region.mix
        if kind in ("university", "college"):
            return rng.choice(
                (["ky", "ru"], ["ky", "ru"], ["ru"], ["ky", "ru", "en"], ["ru", "en"])
            )
        r = rng.random()
        if r < uz * 0.5:
            return rng.choice((["uz"], ["ky", "uz"], ["uz", "ru"]))
        if r < uz * 0.5 + ru:
            return rng.choice((["ru"], ["ky", "ru"], ["ky", "ru"]))
        if region.code == "KG-B" and r > 0.97:
            return ["ky", "tg"]
        return ["ky"] if rng.random() < 0.75 else ["ky", "ru"]

    def _name_all(self, kind: str, region: Region, made: list[Inst]) -> None:
        """Name, own and describe the institutions of one kind in one region."""
        rng = self.rng
        numbers: dict[int, int] = {}
        used: set[str] = set()
        bishkek = list(BISHKEK_UNIVERSITIES)
        centre = CENTRES.get(region.code, ("", region.code, region.code, region.code))
        combos = [(p, f) for p in UNIVERSITY_PREFIXES for f in FIELDS]
        rng.shuffle(combos)
        college_fields = list(COLLEGE_FIELDS)
        rng.shuffle(college_fields)
        college_combos = [(p, f) for p in UNIVERSITY_PREFIXES[1:] for f in COLLEGE_FIELDS]
        rng.shuffle(college_combos)
        regional_fields = list(FIELDS)
        rng.shuffle(regional_fields)
        for inst in made:
            assert inst.district_id is not None
            district = self.district_by_id[inst.district_id]
            number = (
                numbers.get(district.id, 0) + 1 + (rng.randrange(3) if rng.random() < 0.2 else 0)
            )
            numbers[district.id] = number
            ownership = "municipal"
            if kind == "school":
                private = rng.random() < (0.15 if district.urban else 0.03)
                if private:
                    ownership = "private"
                    brand = rng.choice(BRANDS)
                    name, name_ru = f"«{brand}» жеке мектеби", f"Частная школа «{brand}»"
                else:
                    ownership = "state" if rng.random() < 0.1 else "municipal"
                    types = SCHOOL_TYPES
                    weights = [t[3] if district.urban else t[4] for t in types]
                    ky_type, ru_type, max_grade, _, _ = rng.choices(types, weights)[0]
                    inst.max_grade = max_grade
                    name, name_ru = f"№{number} {ky_type}", f"{ru_type} №{number}"
                    if rng.random() < 0.3:
                        honoree_ky, honoree_ru = rng.choice(HONOREES)
                        name = f"{honoree_ky} атындагы {name}"
                        name_ru = f"{name_ru} им. {honoree_ru}"
                    if max_grade < 11:
                        inst.capacity = min(inst.capacity, rng.randrange(300, 501, 20))
                inst.catchments = self._catchments(district)
            elif kind == "kindergarten":
                r = rng.random()
                if r < (0.25 if district.urban else 0.08):
                    ownership = "private"
                    brand = rng.choice(BRANDS + KINDERGARTEN_NAMES)
                    name = f"«{brand}» жеке балдар бакчасы"
                    name_ru = f"Частный детский сад «{brand}»"
                else:
                    ownership = "state" if rng.random() < 0.05 else "municipal"
                    if rng.random() < 0.5:
                        title = rng.choice(KINDERGARTEN_NAMES)
                        name, name_ru = f"«{title}» балдар бакчасы", f"Детский сад «{title}»"
                    else:
                        name, name_ru = f"№{number} балдар бакчасы", f"Детский сад №{number}"
            elif kind == "college":
                ownership = "private" if rng.random() < 0.3 else "state"
                if region.code == "KG-GB" and len(used) >= len(college_fields) and college_combos:
                    (p_ky, p_ru), (field_ky, field_ru) = college_combos.pop()
                    name = f"{p_ky} {field_ky} колледжи"
                    name_ru = f"{p_ru} {field_ru.lower()} колледж"
                else:
                    field_ky, field_ru = college_fields[len(used) % len(college_fields)]
                    name = f"{centre[1]} {field_ky} колледжи"
                    name_ru = f"{field_ru} колледж г. {centre[2]}"
                inst.programmes = rng.sample(COLLEGE_PROGRAMMES, rng.randint(3, 6))
            else:
                ownership = "private" if rng.random() < 0.4 else "state"
                if region.code == "KG-GB" and bishkek:
                    name, name_ru, ownership = bishkek.pop(0)
                elif region.code == "KG-GB" and combos:
                    (p_ky, p_ru), (f_ky, f_ru) = combos.pop()
                    name = f"{p_ky} {f_ky} университети"
                    name_ru = f"{p_ru} {f_ru} университет"
                elif f"{centre[1]} мамлекеттик университети" not in used:
                    name = f"{centre[1]} мамлекеттик университети"
                    name_ru = f"{centre[3]} государственный университет"
                    ownership = "state"
                else:
                    f_ky, f_ru = regional_fields[len(used) % len(regional_fields)]
                    name = f"{centre[1]} {f_ky} институту"
                    name_ru = f"{centre[3]} {f_ru} институт"
                inst.programmes = rng.sample(PROGRAMMES, rng.randint(5, 14))
            if name in used and kind in ("college", "university"):
                name, name_ru = f"{name} №{len(used) + 1}", f"{name_ru} №{len(used) + 1}"
            used.add(name)
            self.institution_rows.append(
                (
                    inst.id,
                    kind,
                    ownership,
                    name,
                    name_ru,
                    self._legal_id(inst.opened),
                    "KG",
                    region.id,
                    district.id,
                    self._address(district, home=False),
                    self._languages(kind, region),
                    inst.capacity,
                    inst.opened,
                )
            )

    def _catchments(self, district: District) -> list[tuple[str, list[str]]]:
        rng = self.rng
        areas: list[tuple[str, list[str]]] = []
        for _ in range(rng.randint(1, 3)):
            if district.urban:
                area = rng.choice(district.microdistricts)
            else:
                area = f"с. {rng.choice(district.villages)}"
            if any(a == area for a, _ in areas):
                continue
            streets = rng.sample(STREETS, rng.randint(3, 8))
            areas.append((area, streets))
        return areas

    def _plan_foreign(self) -> None:
        counts = _apportion(
            max(len(FOREIGN_UNIVERSITIES), round(STUDENTS_ABROAD * self.scale)),
            [1.0] * len(FOREIGN_UNIVERSITIES),
        )
        for (name, name_ru, country, address, languages, opened), quota in zip(
            FOREIGN_UNIVERSITIES, counts, strict=True
        ):
            inst = Inst(
                self._id("institution"),
                "foreign_university",
                None,
                None,
                0,
                opened,
                quota=quota,
                programmes=list(PROGRAMMES[:8]),
            )
            self.insts.append(inst)
            self.institution_rows.append(
                (
                    inst.id,
                    "foreign_university",
                    "state",
                    name,
                    name_ru,
                    None,
                    country,
                    None,
                    None,
                    address,
                    languages,
                    None,
                    opened,
                )
            )

    def catchment_area_rows(self) -> list[Row]:
        """The catchment areas of the planned schools (ids allocated here)."""
        rows: list[Row] = []
        for inst in self.insts:
            for area, streets in inst.catchments:
                rows.append((self._id("catchment_area"), inst.id, inst.district_id, area, streets))
        return rows

    def total_units(self) -> int:
        """Learners plus staff positions, the progress bar's total."""
        return sum(i.quota + i.staff for i in self.insts)

    # --- people ----------------------------------------------------------------------------

    def _take(self) -> Batch:
        batch = Batch(self.rows, self.units)
        self.rows = {t: [] for t in PEOPLE_TABLES}
        self.units = 0
        return batch

    def _full(self) -> bool:
        return len(self.rows["person"]) >= BATCH_ROWS

    def _person(
        self,
        sex: str,
        birth: date,
        last: str,
        first: str,
        patronymic: str | None,
        district_id: int,
        address: str,
    ) -> int:
        person_id = self._id("person")
        digit = 1 if sex == "female" else 2
        key = (digit, birth.toordinal())
        # Serials start at a scattered point per (sex, birth date), as real ones look random;
        # after an existing PIN of the same prefix they continue above its serial.
        serial = self.pin_serials.get(key, 0)
        if not serial:
            serial = (key[1] * 7_919 + digit * 104_729) % 50_000 + 1
        if serial > 99_999:
            raise RuntimeError(f"PIN serials exhausted for {sex} born {birth}")
        self.pin_serials[key] = serial + 1
        pin = make_pin(sex=SEXES[sex], birth_date=birth, serial=serial)
        self.rows["person"].append(
            (person_id, pin, last, first, patronymic, sex, birth, district_id, address)
        )
        issued = datetime.combine(max(birth, PIN_SYSTEM_START), time(), tzinfo=UTC)
        self.rows["person_pin"].append((self._id("person_pin"), person_id, pin, "issued", issued))
        return person_id

    def _ethnicity(self, region: Region) -> int:
        ky, ru, _ = region.mix
        r = self.rng.random()
        return KY if r < ky else RU if r < ky + ru else UZ

    def _adult(self, region: Region, district: District, sex: str, birth: date) -> int:
        """A person on their own: a name of the region's mix, an address in ``district``."""
        rng = self.rng
        eth = self._ethnicity(region)
        male = sex == "male"
        first = rng.choice(MALE_NAMES[eth] if male else FEMALE_NAMES[eth])
        last = rng.choice(ALL_SURNAMES[eth])
        last = last if male else _feminine(last)
        patronymic = _patronymic(rng.choice(MALE_NAMES[eth]), male)
        return self._person(
            sex, birth, last, first, patronymic, district.id, self._address(district)
        )

    def people(self) -> Iterator[Batch]:
        """Families, pupils, staff and students, district by district, in batches."""
        by_district: dict[int, list[Inst]] = {}
        for inst in self.insts:
            if inst.district_id is not None:
                by_district.setdefault(inst.district_id, []).append(inst)
        for region in self.regions:
            for district in region.districts:
                insts = by_district.get(district.id, [])
                if insts:
                    yield from self._district(region, district, insts)
        # Students abroad come from every region, by population.
        weights = [POPULATION.get(r.code, 0.05) for r in self.regions]
        for inst in self.insts:
            if inst.kind == "foreign_university":
                for _ in range(inst.quota):
                    self._student(inst, self.rng.choices(self.regions, weights)[0])
                    if self._full():
                        yield self._take()
        yield self._take()

    def _district(self, region: Region, district: District, insts: list[Inst]) -> Iterator[Batch]:
        rng = self.rng
        # A slot: (birth cohort, institution position, grade or course, class or programme).
        slots: list[tuple[int, int, int, str]] = []
        for pos, inst in enumerate(insts):
            if inst.kind == "school":
                self._school_slots(pos, inst, slots)
            elif inst.kind == "kindergarten":
                self._kindergarten_slots(pos, inst, slots)
            elif inst.kind == "college":
                for _ in range(inst.quota):
                    course = rng.choices((1, 2, 3), (1.0, 0.95, 0.85))[0]
                    late = rng.choices((0, 1, 2), (0.7, 0.25, 0.05))[0]
                    cohort = YEAR + 1 - course - 16 - late
                    slots.append((cohort, pos, course, rng.choice(inst.programmes)))
        rng.shuffle(slots)
        guardians: list[tuple[int, str, date]] = []
        used = bytearray(len(slots))
        for i, first in enumerate(slots):
            if used[i]:
                continue
            used[i] = 1
            family = [first]
            size = rng.choices((1, 2, 3, 4), (0.30, 0.33, 0.24, 0.13))[0]
            j = i + 1
            end = min(len(slots), i + 1 + SIBLING_WINDOW)
            while len(family) < size and j < end:
                if not used[j] and all(abs(slots[j][0] - s[0]) >= 2 for s in family):
                    used[j] = 1
                    family.append(slots[j])
                j += 1
            self._family(region, district, insts, family, guardians)
            if self._full():
                yield self._take()
        staff_pool = [g for g in guardians if 1961 <= g[2].year <= YEAR - 23]
        taken: set[int] = set()
        for inst in insts:
            for _ in self._staff(region, district, inst, staff_pool, taken):
                if self._full():
                    yield self._take()
            if inst.kind == "university":
                for _ in range(inst.quota):
                    self._student(inst, region)
                    if self._full():
                        yield self._take()

    def _school_slots(self, pos: int, inst: Inst, slots: list[tuple[int, int, int, str]]) -> None:
        rng = self.rng
        grades = _apportion(inst.quota, GRADE_WEIGHTS[: inst.max_grade])
        for grade, pupils in enumerate(grades, start=1):
            if not pupils:
                continue
            classes = max(1, math.ceil(pupils / TYPICAL_CLASS))
            on_time = YEAR - 6 - grade
            for c, size in enumerate(_apportion(pupils, [1.0] * classes)):
                assert size <= MAX_CLASS
                group = f"{grade}{CLASS_LETTERS[c]}"
                for _ in range(size):
                    cohort = on_time - 1 if rng.random() < 0.15 else on_time
                    slots.append((cohort, pos, grade, group))

    def _kindergarten_slots(
        self, pos: int, inst: Inst, slots: list[tuple[int, int, int, str]]
    ) -> None:
        cohorts = list(KINDERGARTEN_COHORT_WEIGHTS)
        counts = _apportion(inst.quota, list(KINDERGARTEN_COHORT_WEIGHTS.values()))
        for cohort, children in zip(cohorts, counts, strict=True):
            groups = max(1, math.ceil(children / 25))
            for g, size in enumerate(_apportion(children, [1.0] * groups), start=1):
                label = KINDERGARTEN_GROUPS[cohort]
                group = f"{label} {g}" if groups > 1 else label
                slots.extend((cohort, pos, 0, group) for _ in range(size))

    def _family(
        self,
        region: Region,
        district: District,
        insts: list[Inst],
        family: list[tuple[int, int, int, str]],
        guardians: list[tuple[int, str, date]],
    ) -> None:
        """Guardians and children of one household, their enrollments and guardianships."""
        rng = self.rng
        eth = self._ethnicity(region)
        anchor = insts[family[0][1]]
        home = district
        if anchor.catchments and rng.random() < 0.85:
            area, streets = rng.choice(anchor.catchments)
            address = self._address(district, area, streets)
        else:
            if rng.random() < 0.1:
                home = rng.choice(region.districts)
            address = self._address(home)
        eldest = min(s[0] for s in family)
        father_name = rng.choice(MALE_NAMES[eth])
        uulu = eth == KY and rng.random() < 0.04
        surname = rng.choice(ALL_SURNAMES[eth])
        mother_birth = _year_day(rng, eldest - rng.randint(20, 32))
        father_birth = date.fromordinal(mother_birth.toordinal() - rng.randrange(8 * 365))
        layout = rng.random()
        parents: list[tuple[int, str]] = []
        if layout < 0.80 or 0.93 <= layout < 0.96:
            grandfather = rng.choice(MALE_NAMES[eth])
            if uulu:
                last, patronymic = f"{grandfather} уулу", None
            else:
                last, patronymic = surname, _patronymic(grandfather, True)
            pid = self._person(
                "male", father_birth, last, father_name, patronymic, home.id, address
            )
            parents.append((pid, "father"))
            guardians.append((pid, "male", father_birth))
        if layout < 0.93:
            maternal = rng.choice(MALE_NAMES[eth])
            if uulu:
                last, patronymic = f"{maternal} кызы", None
            else:
                own = surname if rng.random() < 0.8 else rng.choice(ALL_SURNAMES[eth])
                last, patronymic = _feminine(own), _patronymic(maternal, False)
            pid = self._person(
                "female",
                mother_birth,
                last,
                rng.choice(FEMALE_NAMES[eth]),
                patronymic,
                home.id,
                address,
            )
            parents.append((pid, "mother"))
            guardians.append((pid, "female", mother_birth))
        if layout >= 0.96:
            birth = _year_day(rng, eldest - rng.randint(45, 60))
            last = _feminine(surname) if not uulu else f"{rng.choice(MALE_NAMES[eth])} кызы"
            patronymic = None if uulu else _patronymic(rng.choice(MALE_NAMES[eth]), False)
            pid = self._person(
                "female", birth, last, rng.choice(FEMALE_NAMES[eth]), patronymic, home.id, address
            )
            parents.append((pid, "legal_guardian"))
        names: set[str] = set()
        for cohort, pos, level, label in family:
            male = rng.random() < 0.51
            first = rng.choice(MALE_NAMES[eth] if male else FEMALE_NAMES[eth])
            while first in names:
                first = rng.choice(MALE_NAMES[eth] if male else FEMALE_NAMES[eth])
            names.add(first)
            if uulu:
                last, patronymic = f"{father_name} {'уулу' if male else 'кызы'}", None
            else:
                last = surname if male else _feminine(surname)
                patronymic = _patronymic(father_name, male)
            birth = _cohort_day(rng, cohort)
            child = self._person(
                "male" if male else "female", birth, last, first, patronymic, home.id, address
            )
            for guardian, kind in parents:
                since = birth
                if kind == "legal_guardian":
                    since = date.fromordinal(rng.randint(birth.toordinal(), YEAR_START.toordinal()))
                self.rows["guardianship"].append(
                    (self._id("guardianship"), guardian, child, kind, since)
                )
            self._child_enrollment(child, insts[pos], cohort, level, label)
        self.units += len(family)

    def _child_enrollment(
        self, child: int, inst: Inst, cohort: int, level: int, label: str
    ) -> None:
        rng = self.rng
        rows = self.rows["enrollment"]
        if inst.kind == "kindergarten":
            entered = date(rng.randint(min(cohort + 2, YEAR), YEAR), 9, 1)
            rows.append(
                (
                    self._id("enrollment"),
                    child,
                    inst.id,
                    "preschool",
                    entered,
                    None,
                    None,
                    None,
                    None,
                    label,
                    None,
                )
            )
            return
        if inst.kind == "college":
            entered = date(YEAR + 1 - level, 9, 1)
            rows.append(
                (
                    self._id("enrollment"),
                    child,
                    inst.id,
                    "vocational",
                    entered,
                    None,
                    None,
                    None,
                    label,
                    None,
                    None,
                )
            )
            return
        first_year = YEAR + 1 - level
        entered = date(first_year, 9, 1)
        previous = None
        if level >= 2 and rng.random() < 0.33:
            moved = rng.randint(first_year + 1, YEAR)
            old_grade = moved - first_year
            other = self._other_school(inst, old_grade)
            if other is not None:
                previous = self._id("enrollment")
                entered = date(moved, 9, 1)
                group = f"{old_grade}{CLASS_LETTERS[rng.randrange(3)]}"
                rows.append(
                    (
                        previous,
                        child,
                        other.id,
                        "school",
                        date(first_year, 9, 1),
                        entered,
                        "transferred",
                        old_grade,
                        None,
                        group,
                        None,
                    )
                )
        rows.append(
            (
                self._id("enrollment"),
                child,
                inst.id,
                "school",
                entered,
                None,
                None,
                level,
                None,
                label,
                previous,
            )
        )

    def _other_school(self, inst: Inst, grade: int) -> Inst | None:
        """A school the pupil attended before: mostly nearby, one that teaches ``grade``."""
        assert inst.district_id is not None
        assert inst.region_id is not None
        rng = self.rng
        nearby = self.schools_by_district[inst.district_id]
        region = self.schools_by_region[inst.region_id]
        for _ in range(8):
            r = rng.random()
            if r < 0.6 and len(nearby) > 1:
                pool = nearby
            elif r < 0.95 and len(region) > 1:
                pool = region
            else:
                pool = self.schools_by_region[rng.choice(self.regions).id]
            other = rng.choice(pool)
            if other is not inst and other.max_grade >= grade:
                return other
        return None

    def _staff(
        self,
        region: Region,
        district: District,
        inst: Inst,
        pool: list[tuple[int, str, date]],
        taken: set[int],
    ) -> Iterator[None]:
        """The staff of one institution; some are parents of the district's children."""
        rng = self.rng
        kind = inst.kind
        posts: list[tuple[str, str, str | None]] = []
        if kind == "school":
            posts.append(("director", "Директор", None))
            for n in range(1 + (inst.quota > 600) + (inst.quota > 1200)):
                title = (
                    "Заместитель директора по учебно-воспитательной работе",
                    "Заместитель директора по воспитательной работе",
                )[n % 2]
                posts.append(("deputy_director", title, None))
            if inst.quota > 300:
                posts.append(("librarian", "Библиотекарь", None))
            if inst.quota > 800:
                posts.append(("other", "Педагог-психолог", None))
            while len(posts) < inst.staff:
                posts.append(("teacher", "Учитель", rng.choice(SUBJECT_POOL)))
            female_share = 0.8
        elif kind == "kindergarten":
            posts.append(("director", "Заведующая", None))
            if inst.quota > 150:
                posts.append(("other", "Музыкальный руководитель", None))
            while len(posts) < inst.staff:
                posts.append(("educator", "Воспитатель", None))
            female_share = 0.97
        else:
            university = kind == "university"
            posts.append(("director", "Ректор" if university else "Директор", None))
            posts.append(
                (
                    "deputy_director",
                    "Проректор по учебной работе"
                    if university
                    else "Заместитель директора по учебной работе",
                    None,
                )
            )
            posts.append(("librarian", "Библиотекарь", None))
            posts.append(("administrator", "Специалист учебного отдела", None))
            while len(posts) < inst.staff:
                title = rng.choice(LECTURER_TITLES) if university else "Преподаватель"
                posts.append(("lecturer", title, rng.choice(inst.programmes)))
            female_share = 0.6
        for role, post_title, subject in posts:
            sex = "female" if rng.random() < female_share else "male"
            person = None
            if pool and rng.random() < 0.25:
                pid, their_sex, _ = rng.choice(pool)
                if their_sex == sex and pid not in taken:
                    taken.add(pid)
                    person = pid
            if person is None:
                birth = _year_day(rng, YEAR - rng.randint(23, 63))
                home = district if rng.random() < 0.85 else rng.choice(region.districts)
                person = self._adult(region, home, sex, birth)
                earliest = max(birth.year + 22, inst.opened.year, 1985)
            else:
                earliest = max(inst.opened.year, 2000)
            start = date(rng.randint(min(earliest, YEAR), YEAR), 8, 25)
            rate = 1.0 if role in ("director", "deputy_director") else rng.choice(TEACHER_RATES)
            self.rows["staff_position"].append(
                (
                    self._id("staff_position"),
                    person,
                    inst.id,
                    role,
                    post_title,
                    subject,
                    rate,
                    start,
                )
            )
            self.units += 1
            yield None

    def _student(self, inst: Inst, region: Region) -> None:
        """A university student (an adult on their own), at home or abroad."""
        rng = self.rng
        programme = rng.choice(inst.programmes)
        years = LONG_PROGRAMMES.get(programme, 4)
        course = rng.choices(range(1, years + 1), [1.0 - 0.06 * c for c in range(years)])[0]
        entry_year = YEAR + 1 - course
        birth = _cohort_day(rng, entry_year - 18 - (1 if rng.random() < 0.25 else 0))
        sex = "female" if rng.random() < 0.53 else "male"
        district = rng.choice(region.districts)
        person = self._adult(region, district, sex, birth)
        sector = "abroad" if inst.kind == "foreign_university" else "higher"
        self.rows["enrollment"].append(
            (
                self._id("enrollment"),
                person,
                inst.id,
                sector,
                date(entry_year, 9, 1),
                None,
                None,
                None,
                programme,
                None,
                None,
            )
        )
        self.units += 1


# --- database ------------------------------------------------------------------------------


def _locality(kind: str, name_ru: str, region_kind: str, region_name_ru: str) -> str:
    """How an address starts in a district: 'г. Каракол', 'г. Бишкек, Ленинский район', ..."""
    city = region_name_ru.removeprefix("город ")
    if name_ru.startswith("город "):
        return "г. " + name_ru.removeprefix("город ")
    if region_kind == "city":
        return f"г. {city}, {name_ru}"
    return f"{region_name_ru}, {name_ru}"


async def _regions(conn: Any) -> list[Region]:
    rows = await conn.fetch(
        "SELECT id, code, kind, name_ru FROM region WHERE valid_to IS NULL ORDER BY id"
    )
    districts = await conn.fetch(
        "SELECT id, region_id, code, kind, name_ru FROM district "
        "WHERE valid_to IS NULL AND kind <> 'ayil_aimak' ORDER BY id"
    )
    regions = []
    for r in rows:
        members = [
            District(
                id=d["id"],
                region_id=d["region_id"],
                code=d["code"],
                urban=d["kind"] in ("city", "city_district") or r["kind"] == "city",
                locality=_locality(d["kind"], d["name_ru"], r["kind"], r["name_ru"]),
            )
            for d in districts
            if d["region_id"] == r["id"]
        ]
        if members:
            mix = NAME_MIX.get(r["code"], (0.9, 0.05, 0.05))
            regions.append(Region(id=r["id"], code=r["code"], districts=members, mix=mix))
    return regions


async def _connect(url: str) -> Any:
    return await asyncpg.connect(plain_url(url))


async def is_loaded(url: str) -> bool:
    """True if the database already holds any institution (demo data or real data)."""
    conn = await _connect(url)
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM institution)"))
    finally:
        await conn.close()


async def _copy(conn: Any, table: str, rows: list[Row]) -> None:
    for start in range(0, len(rows), BATCH_ROWS * 2):
        await conn.copy_records_to_table(
            table, records=rows[start : start + BATCH_ROWS * 2], columns=COLUMNS[table]
        )


class _Bar:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.progress: Any = None
        self.task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("Demo data", total=total)

    def describe(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)

    def advance(self, units: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, units)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


INSTITUTIONS = SCHOOLS + KINDERGARTENS + COLLEGES + UNIVERSITIES


async def load(
    url: str,
    *,
    scale: float,
    seed: int,
    progress: bool,
    institutions: int | None = None,
) -> dict[str, int]:
    """Load the dataset for (``scale``, ``seed``) in one transaction; return rows per table.
    ``institutions`` sets how many institutions of the country's kinds to make (default: the
    country's number times ``scale``), the learners staying those of ``scale``.

    Ids continue after each table's current maximum, PIN serials after the highest serial in
    use for the same sex and birth date, and legal ids avoid those in use, so loading into a
    database that already holds data works. The same (scale, seed) into an empty database
    always gives the same rows.
    """
    conn = await _connect(url)
    bar: _Bar | None = None
    try:
        async with conn.transaction():
            regions = await _regions(conn)
            next_ids = {
                table: int(await conn.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))
                for table in COLUMNS
            }
            legal_ids = {
                r[0]
                for r in await conn.fetch(
                    "SELECT legal_id FROM institution WHERE legal_id IS NOT NULL"
                )
            }
            serials: dict[tuple[int, int], int] = {}
            for r in await conn.fetch(
                "SELECT left(pin, 9) AS prefix, max(substr(pin, 10)::int) AS serial FROM ("
                " SELECT pin FROM person_pin UNION ALL"
                " SELECT pin FROM person WHERE pin IS NOT NULL) p"
                " WHERE pin ~ '^[12][0-9]{13}$' GROUP BY 1"
            ):
                prefix: str = r["prefix"]
                try:
                    born = date(int(prefix[5:9]), int(prefix[3:5]), int(prefix[1:3]))
                except ValueError:
                    continue
                serials[(int(prefix[0]), born.toordinal())] = int(r["serial"]) + 1

            gen = Generator(
                scale=scale,
                institution_scale=None if institutions is None else institutions / INSTITUTIONS,
                seed=seed,
                regions=regions,
                next_ids=next_ids,
                legal_ids=legal_ids,
                pin_serials=serials,
            )
            gen.plan()
            counts = dict.fromkeys(COLUMNS, 0)
            bar = _Bar(progress, gen.total_units())
            bar.describe("Institutions")
            await _copy(conn, "institution", gen.institution_rows)
            counts["institution"] = len(gen.institution_rows)
            catchments = gen.catchment_area_rows()
            await _copy(conn, "catchment_area", catchments)
            counts["catchment_area"] = len(catchments)
            bar.describe("People")

            # The next batch is generated in a thread while this one is copied; only one
            # thread touches the generator at a time, so the output stays deterministic.
            batches = gen.people()
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            while True:
                batch = await pending
                if batch is None:
                    break
                pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
                for table in PEOPLE_TABLES:
                    rows = batch.rows[table]
                    if rows:
                        await _copy(conn, table, rows)
                        counts[table] += len(rows)
                bar.advance(batch.units)

            bar.describe("Sequences")
            for table, written in counts.items():
                if written:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                        f"FROM {table}"
                    )
            bar.describe("Demo data")
        # Statistics for the planner and the visibility map for index-only scans, as
        # autovacuum would leave them some minutes later.
        bar.describe("Vacuum")
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(COLUMNS)}")
    finally:
        if bar is not None:
            bar.stop()
        await conn.close()
    return {COUNT_KEYS[table]: n for table, n in counts.items()}
