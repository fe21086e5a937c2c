"""The administrative units the foundation migration loads: the seven oblasts, the two cities of
republican significance, and their rayons, regional cities and city districts (names in Kyrgyz,
Russian and English). Later reforms are applied by migrations that close rows (``valid_to``) and
add new ones, never by editing these."""

from __future__ import annotations

from typing import Any

# (id, ISO 3166-2 code, kind, Kyrgyz, Russian, English)
_REGIONS: list[tuple[int, str, str, str, str, str]] = [
    (1, "KG-B", "oblast", "Баткен облусу", "Баткенская область", "Batken Region"),
    (2, "KG-J", "oblast", "Жалал-Абад облусу", "Джалал-Абадская область", "Jalal-Abad Region"),
    (3, "KG-Y", "oblast", "Ысык-Көл облусу", "Иссык-Кульская область", "Issyk-Kul Region"),
    (4, "KG-N", "oblast", "Нарын облусу", "Нарынская область", "Naryn Region"),
    (5, "KG-O", "oblast", "Ош облусу", "Ошская область", "Osh Region"),
    (6, "KG-T", "oblast", "Талас облусу", "Таласская область", "Talas Region"),
    (7, "KG-C", "oblast", "Чүй облусу", "Чуйская область", "Chuy Region"),
    (8, "KG-GB", "city", "Бишкек шаары", "город Бишкек", "Bishkek City"),
    (9, "KG-GO", "city", "Ош шаары", "город Ош", "Osh City"),
]

# region id -> [(kind, slug, Kyrgyz stem, Russian name, English stem)]
_DISTRICTS: dict[int, list[tuple[str, str, str, str, str]]] = {
    1: [
        ("rayon", "BTK", "Баткен", "Баткенский район", "Batken"),
        ("rayon", "KDJ", "Кадамжай", "Кадамжайский район", "Kadamjay"),
        ("rayon", "LLK", "Лейлек", "Лейлекский район", "Leilek"),
        ("city", "BTKC", "Баткен", "город Баткен", "Batken"),
        ("city", "KZK", "Кызыл-Кыя", "город Кызыл-Кия", "Kyzyl-Kiya"),
    ],
    2: [
        ("rayon", "AKS", "Аксы", "Аксыйский район", "Aksy"),
        ("rayon", "ALB", "Ала-Бука", "Ала-Букинский район", "Ala-Buka"),
        ("rayon", "BZK", "Базар-Коргон", "Базар-Коргонский район", "Bazar-Korgon"),
        ("rayon", "NKN", "Ноокен", "Ноокенский район", "Nooken"),
        ("rayon", "SZK", "Сузак", "Сузакский район", "Suzak"),
        ("rayon", "TGT", "Тогуз-Торо", "Тогуз-Тороуский район", "Toguz-Toro"),
        ("rayon", "TKT", "Токтогул", "Токтогульский район", "Toktogul"),
        ("rayon", "CHT", "Чаткал", "Чаткальский район", "Chatkal"),
        ("city", "JLB", "Жалал-Абад", "город Джалал-Абад", "Jalal-Abad"),
    ],
    3: [
        ("rayon", "AKS", "Ак-Суу", "Ак-Суйский район", "Ak-Suu"),
        ("rayon", "JTO", "Жети-Өгүз", "Джети-Огузский район", "Jeti-Oguz"),
        ("rayon", "YSK", "Ысык-Көл", "Иссык-Кульский район", "Issyk-Kul"),
        ("rayon", "TON", "Тоң", "Тонский район", "Ton"),
        ("rayon", "TUP", "Түп", "Тюпский район", "Tup"),
        ("city", "KRK", "Каракол", "город Каракол", "Karakol"),
        ("city", "BLK", "Балыкчы", "город Балыкчи", "Balykchy"),
    ],
    4: [
        ("rayon", "AKT", "Ак-Талаа", "Ак-Талинский район", "Ak-Talaa"),
        ("rayon", "ATB", "Ат-Башы", "Ат-Башинский район", "At-Bashy"),
        ("rayon", "JMG", "Жумгал", "Джумгальский район", "Jumgal"),
        ("rayon", "KCH", "Кочкор", "Кочкорский район", "Kochkor"),
        ("rayon", "NRN", "Нарын", "Нарынский район", "Naryn"),
        ("city", "NRNC", "Нарын", "город Нарын", "Naryn"),
    ],
    5: [
        ("rayon", "ALY", "Алай", "Алайский район", "Alay"),
        ("rayon", "ARV", "Араван", "Араванский район", "Aravan"),
        ("rayon", "KKL", "Кара-Кулжа", "Кара-Кульджинский район", "Kara-Kulja"),
        ("rayon", "KSU", "Кара-Суу", "Карасуйский район", "Kara-Suu"),
        ("rayon", "NKT", "Ноокат", "Ноокатский район", "Nookat"),
        ("rayon", "UZG", "Өзгөн", "Узгенский район", "Uzgen"),
        ("rayon", "CHA", "Чоң-Алай", "Чон-Алайский район", "Chong-Alay"),
    ],
    6: [
        ("rayon", "BKA", "Бакай-Ата", "Бакай-Атинский район", "Bakay-Ata"),
        ("rayon", "KBR", "Кара-Буура", "Кара-Бууринский район", "Kara-Buura"),
        ("rayon", "MNS", "Манас", "Манасский район", "Manas"),
        ("rayon", "TLS", "Талас", "Таласский район", "Talas"),
        ("city", "TLSC", "Талас", "город Талас", "Talas"),
    ],
    7: [
        ("rayon", "ALM", "Аламүдүн", "Аламудунский район", "Alamudun"),
        ("rayon", "JYL", "Жайыл", "Жайыльский район", "Jayil"),
        ("rayon", "KMN", "Кемин", "Кеминский район", "Kemin"),
        ("rayon", "MSK", "Москва", "Московский район", "Moskva"),
        ("rayon", "PNF", "Панфилов", "Панфиловский район", "Panfilov"),
        ("rayon", "SKL", "Сокулук", "Сокулукский район", "Sokuluk"),
        ("rayon", "CHY", "Чүй", "Чуйский район", "Chuy"),
        ("rayon", "YAT", "Ысык-Ата", "Ысык-Атинский район", "Ysyk-Ata"),
        ("city", "TKM", "Токмок", "город Токмок", "Tokmok"),
    ],
    8: [
        ("city_district", "PRV", "Биринчи Май", "Первомайский район", "Pervomay"),
        ("city_district", "LNN", "Ленин", "Ленинский район", "Lenin"),
        ("city_district", "OKT", "Октябрь", "Октябрьский район", "Oktyabr"),
        ("city_district", "SVR", "Свердлов", "Свердловский район", "Sverdlov"),
    ],
    9: [
        ("city", "OSHC", "Ош", "город Ош", "Osh"),
    ],
}

_KY_SUFFIX = {"rayon": " району", "city": " шаары", "city_district": " району"}
_EN_SUFFIX = {"rayon": " District", "city": " City", "city_district": " District"}

REGIONS: list[dict[str, Any]] = [
    {"id": i, "code": code, "kind": kind, "name_ky": ky, "name_ru": ru, "name_en": en}
    for i, code, kind, ky, ru, en in _REGIONS
]

DISTRICTS: list[dict[str, Any]] = []
for _region_id, _code, *_ in _REGIONS:
    for _kind, _slug, _ky, _ru, _en in _DISTRICTS[_region_id]:
        DISTRICTS.append(
            {
                "id": len(DISTRICTS) + 1,
                "region_id": _region_id,
                "code": f"{_code}-{_slug}",
                "kind": _kind,
                "name_ky": _ky + _KY_SUFFIX[_kind],
                "name_ru": _ru,
                "name_en": _en + _EN_SUFFIX[_kind],
            }
        )
