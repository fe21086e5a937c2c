"""The generator's shared state: the tables it writes, the places and institutions it plans,
and the helpers its parts use."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from resolvers.demo.reference import BATCH_ROWS, STREETS

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


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
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


def cohort_day(rng: random.Random, cohort: int) -> date:
    """A birth date in the school cohort ``cohort`` (1 September ``cohort`` .. 31 August)."""
    start = date(cohort, 9, 1).toordinal()
    return date.fromordinal(start + rng.randrange(date(cohort + 1, 9, 1).toordinal() - start))


def year_day(rng: random.Random, year: int) -> date:
    return date.fromordinal(date(year, 1, 1).toordinal() + rng.randrange(365))


class GeneratorState:
    """What the generator's parts share: one random stream (the rows depend on the order of
    its draws), the ids handed out, the planned institutions and the rows not yet taken."""

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
        # People per batch: where batches split changes no row, only how often progress moves.
        self.batch_rows = BATCH_ROWS
        self.insts: list[Inst] = []
        self.schools_by_region: dict[int, list[Inst]] = {}
        self.schools_by_district: dict[int, list[Inst]] = {}
        self.institution_rows: list[Row] = []

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

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
