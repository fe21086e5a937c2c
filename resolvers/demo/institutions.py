"""The institutions of the demo dataset: how many of each kind in each region, where they
stand, their names, ownership, size, programmes and learner quotas."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from resolvers.demo.reference import (
    BISHKEK_UNIVERSITIES,
    BRANDS,
    CENTRES,
    COLLEGE_FIELDS,
    COLLEGE_PROGRAMMES,
    COLLEGE_SHARE,
    COLLEGES,
    FIELDS,
    FOREIGN_UNIVERSITIES,
    HONOREES,
    KINDERGARTEN_NAMES,
    KINDERGARTENS,
    MICRODISTRICTS,
    POPULATION,
    PRESCHOOLERS,
    PROGRAMMES,
    PUPILS,
    SCHOOL_TYPES,
    SCHOOLS,
    STREETS,
    STUDENTS,
    STUDENTS_ABROAD,
    UNIVERSITIES,
    UNIVERSITY_PREFIXES,
    UNIVERSITY_SHARE,
    VILLAGES,
    VOCATIONAL_STUDENTS,
)
from resolvers.demo.state import District, GeneratorState, Inst, Region, Row, apportion


@dataclass
class _Names:
    """The names a region's colleges and universities are drawn from, shuffled once per kind
    and region."""

    bishkek: list[tuple[str, str, str]]
    centre: tuple[str, str, str, str]
    combos: list[tuple[tuple[str, str], tuple[str, str]]]
    college_fields: list[tuple[str, str]]
    college_combos: list[tuple[tuple[str, str], tuple[str, str]]]
    regional_fields: list[tuple[str, str]]

    @classmethod
    def drawn(cls, rng: random.Random, region: Region) -> _Names:
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
        return cls(bishkek, centre, combos, college_fields, college_combos, regional_fields)


class InstitutionPlanner(GeneratorState):
    """Plans every institution before any person is made."""

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
                apportion(round(SCHOOLS * n), school_w, 1),
                apportion(round(PUPILS * s), pop),
            ),
            (
                "kindergarten",
                apportion(round(KINDERGARTENS * n), kg_w, 1),
                apportion(round(PRESCHOOLERS * s), pop),
            ),
            (
                "college",
                apportion(
                    max(1, round(COLLEGES * n)), [COLLEGE_SHARE.get(r.code, 0.05) for r in regions]
                ),
                apportion(
                    round(VOCATIONAL_STUDENTS * s),
                    [COLLEGE_SHARE.get(r.code, 0.05) for r in regions],
                ),
            ),
            (
                "university",
                apportion(
                    round(UNIVERSITIES * n),
                    [UNIVERSITY_SHARE.get(r.code, 0.05) for r in regions],
                    1,
                ),
                apportion(
                    round(STUDENTS * s), [UNIVERSITY_SHARE.get(r.code, 0.05) for r in regions]
                ),
            ),
        ]
        plans = [
            (
                kind,
                counts,
                apportion(
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
                for inst, quota in zip(made, apportion(learners[i], weights), strict=True):
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
        names = _Names.drawn(rng, region)
        for inst in made:
            assert inst.district_id is not None
            district = self.district_by_id[inst.district_id]
            number = (
                numbers.get(district.id, 0) + 1 + (rng.randrange(3) if rng.random() < 0.2 else 0)
            )
            numbers[district.id] = number
            if kind == "school":
                name, name_ru, ownership = self._school(inst, district, number)
            elif kind == "kindergarten":
                name, name_ru, ownership = self._kindergarten(district, number)
            elif kind == "college":
                name, name_ru, ownership = self._college(inst, region, names, used)
            else:
                name, name_ru, ownership = self._university(inst, region, names, used)
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

    def _school(self, inst: Inst, district: District, number: int) -> tuple[str, str, str]:
        """A school's name in Kyrgyz and Russian and its ownership; its type (and so its
        highest grade) and catchment areas."""
        rng = self.rng
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
        return name, name_ru, ownership

    def _kindergarten(self, district: District, number: int) -> tuple[str, str, str]:
        rng = self.rng
        r = rng.random()
        if r < (0.25 if district.urban else 0.08):
            brand = rng.choice(BRANDS + KINDERGARTEN_NAMES)
            return f"«{brand}» жеке балдар бакчасы", f"Частный детский сад «{brand}»", "private"
        ownership = "state" if rng.random() < 0.05 else "municipal"
        if rng.random() < 0.5:
            title = rng.choice(KINDERGARTEN_NAMES)
            return f"«{title}» балдар бакчасы", f"Детский сад «{title}»", ownership
        return f"№{number} балдар бакчасы", f"Детский сад №{number}", ownership

    def _college(
        self, inst: Inst, region: Region, names: _Names, used: set[str]
    ) -> tuple[str, str, str]:
        rng = self.rng
        ownership = "private" if rng.random() < 0.3 else "state"
        if (
            region.code == "KG-GB"
            and len(used) >= len(names.college_fields)
            and names.college_combos
        ):
            (p_ky, p_ru), (field_ky, field_ru) = names.college_combos.pop()
            name = f"{p_ky} {field_ky} колледжи"
            name_ru = f"{p_ru} {field_ru.lower()} колледж"
        else:
            field_ky, field_ru = names.college_fields[len(used) % len(names.college_fields)]
            name = f"{names.centre[1]} {field_ky} колледжи"
            name_ru = f"{field_ru} колледж г. {names.centre[2]}"
        inst.programmes = rng.sample(COLLEGE_PROGRAMMES, rng.randint(3, 6))
        return name, name_ru, ownership

    def _university(
        self, inst: Inst, region: Region, names: _Names, used: set[str]
    ) -> tuple[str, str, str]:
        rng = self.rng
        centre = names.centre
        ownership = "private" if rng.random() < 0.4 else "state"
        if region.code == "KG-GB" and names.bishkek:
            name, name_ru, ownership = names.bishkek.pop(0)
        elif region.code == "KG-GB" and names.combos:
            (p_ky, p_ru), (f_ky, f_ru) = names.combos.pop()
            name = f"{p_ky} {f_ky} университети"
            name_ru = f"{p_ru} {f_ru} университет"
        elif f"{centre[1]} мамлекеттик университети" not in used:
            name = f"{centre[1]} мамлекеттик университети"
            name_ru = f"{centre[3]} государственный университет"
            ownership = "state"
        else:
            f_ky, f_ru = names.regional_fields[len(used) % len(names.regional_fields)]
            name = f"{centre[1]} {f_ky} институту"
            name_ru = f"{centre[3]} {f_ru} институт"
        inst.programmes = rng.sample(PROGRAMMES, rng.randint(5, 14))
        return name, name_ru, ownership

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
        counts = apportion(
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
