"""The people of the demo dataset, district by district: households of guardians and
children (the children enrolled where the plan has places for them), the institutions' staff,
some of them parents, and the students at home and abroad."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from resolvers.demo.names import (
    ALL_SURNAMES,
    FEMALE_NAMES,
    KY,
    MALE_NAMES,
    RU,
    SEXES,
    UZ,
    feminine,
    patronymic_of,
)
from resolvers.demo.reference import (
    CLASS_LETTERS,
    GRADE_WEIGHTS,
    KINDERGARTEN_COHORT_WEIGHTS,
    KINDERGARTEN_GROUPS,
    LECTURER_TITLES,
    LONG_PROGRAMMES,
    MAX_CLASS,
    PIN_SYSTEM_START,
    POPULATION,
    SIBLING_WINDOW,
    SUBJECT_POOL,
    TEACHER_RATES,
    TYPICAL_CLASS,
    YEAR,
    YEAR_START,
)
from resolvers.demo.state import (
    PEOPLE_TABLES,
    Batch,
    District,
    GeneratorState,
    Inst,
    Region,
    apportion,
    cohort_day,
    year_day,
)
from resolvers.people.pin import make_pin


@dataclass(frozen=True)
class _Household:
    """Where a household lives and the names its members share."""

    eth: int
    home: District
    address: str
    eldest: int
    father_name: str
    uulu: bool
    surname: str


class PeopleMaker(GeneratorState):
    """Makes the people of the planned institutions and hands them over in batches."""

    def _take(self) -> Batch:
        batch = Batch(self.rows, self.units)
        self.rows = {t: [] for t in PEOPLE_TABLES}
        self.units = 0
        return batch

    def _full(self) -> bool:
        return len(self.rows["person"]) >= self.batch_rows

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
        last = last if male else feminine(last)
        patronymic = patronymic_of(rng.choice(MALE_NAMES[eth]), male)
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
        grades = apportion(inst.quota, GRADE_WEIGHTS[: inst.max_grade])
        for grade, pupils in enumerate(grades, start=1):
            if not pupils:
                continue
            classes = max(1, math.ceil(pupils / TYPICAL_CLASS))
            on_time = YEAR - 6 - grade
            for c, size in enumerate(apportion(pupils, [1.0] * classes)):
                assert size <= MAX_CLASS
                group = f"{grade}{CLASS_LETTERS[c]}"
                for _ in range(size):
                    cohort = on_time - 1 if rng.random() < 0.15 else on_time
                    slots.append((cohort, pos, grade, group))

    def _kindergarten_slots(
        self, pos: int, inst: Inst, slots: list[tuple[int, int, int, str]]
    ) -> None:
        cohorts = list(KINDERGARTEN_COHORT_WEIGHTS)
        counts = apportion(inst.quota, list(KINDERGARTEN_COHORT_WEIGHTS.values()))
        for cohort, children in zip(cohorts, counts, strict=True):
            groups = max(1, math.ceil(children / 25))
            for g, size in enumerate(apportion(children, [1.0] * groups), start=1):
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
        household = self._household(region, district, insts, family)
        parents = self._parents(household, guardians)
        self._children(household, parents, insts, family)
        self.units += len(family)

    def _household(
        self,
        region: Region,
        district: District,
        insts: list[Inst],
        family: list[tuple[int, int, int, str]],
    ) -> _Household:
        """Where a household lives (mostly in its eldest child's catchment area) and the
        names its members share."""
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
        return _Household(
            eth=eth,
            home=home,
            address=address,
            eldest=min(s[0] for s in family),
            father_name=rng.choice(MALE_NAMES[eth]),
            uulu=eth == KY and rng.random() < 0.04,
            surname=rng.choice(ALL_SURNAMES[eth]),
        )

    def _parents(
        self, h: _Household, guardians: list[tuple[int, str, date]]
    ) -> list[tuple[int, str]]:
        """Father and mother, one of them, or a grandmother as legal guardian."""
        rng, eth = self.rng, h.eth
        mother_birth = year_day(rng, h.eldest - rng.randint(20, 32))
        father_birth = date.fromordinal(mother_birth.toordinal() - rng.randrange(8 * 365))
        layout = rng.random()
        parents: list[tuple[int, str]] = []
        if layout < 0.80 or 0.93 <= layout < 0.96:
            grandfather = rng.choice(MALE_NAMES[eth])
            if h.uulu:
                last, patronymic = f"{grandfather} уулу", None
            else:
                last, patronymic = h.surname, patronymic_of(grandfather, True)
            pid = self._person(
                "male", father_birth, last, h.father_name, patronymic, h.home.id, h.address
            )
            parents.append((pid, "father"))
            guardians.append((pid, "male", father_birth))
        if layout < 0.93:
            maternal = rng.choice(MALE_NAMES[eth])
            if h.uulu:
                last, patronymic = f"{maternal} кызы", None
            else:
                own = h.surname if rng.random() < 0.8 else rng.choice(ALL_SURNAMES[eth])
                last, patronymic = feminine(own), patronymic_of(maternal, False)
            pid = self._person(
                "female",
                mother_birth,
                last,
                rng.choice(FEMALE_NAMES[eth]),
                patronymic,
                h.home.id,
                h.address,
            )
            parents.append((pid, "mother"))
            guardians.append((pid, "female", mother_birth))
        if layout >= 0.96:
            birth = year_day(rng, h.eldest - rng.randint(45, 60))
            last = feminine(h.surname) if not h.uulu else f"{rng.choice(MALE_NAMES[eth])} кызы"
            patronymic = None if h.uulu else patronymic_of(rng.choice(MALE_NAMES[eth]), False)
            pid = self._person(
                "female",
                birth,
                last,
                rng.choice(FEMALE_NAMES[eth]),
                patronymic,
                h.home.id,
                h.address,
            )
            parents.append((pid, "legal_guardian"))
        return parents

    def _children(
        self,
        h: _Household,
        parents: list[tuple[int, str]],
        insts: list[Inst],
        family: list[tuple[int, int, int, str]],
    ) -> None:
        """The household's children (each a first name of their own), their guardianships and
        enrollments."""
        rng, eth = self.rng, h.eth
        names: set[str] = set()
        for cohort, pos, level, label in family:
            male = rng.random() < 0.51
            first = rng.choice(MALE_NAMES[eth] if male else FEMALE_NAMES[eth])
            while first in names:
                first = rng.choice(MALE_NAMES[eth] if male else FEMALE_NAMES[eth])
            names.add(first)
            if h.uulu:
                last, patronymic = f"{h.father_name} {'уулу' if male else 'кызы'}", None
            else:
                last = h.surname if male else feminine(h.surname)
                patronymic = patronymic_of(h.father_name, male)
            birth = cohort_day(rng, cohort)
            child = self._person(
                "male" if male else "female", birth, last, first, patronymic, h.home.id, h.address
            )
            for guardian, kind in parents:
                since = birth
                if kind == "legal_guardian":
                    since = date.fromordinal(rng.randint(birth.toordinal(), YEAR_START.toordinal()))
                self.rows["guardianship"].append(
                    (self._id("guardianship"), guardian, child, kind, since)
                )
            self._child_enrollment(child, insts[pos], cohort, level, label)

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
        self._school_enrollment(child, inst, level, label)

    def _school_enrollment(self, child: int, inst: Inst, level: int, label: str) -> None:
        """A pupil's enrollment in grade ``level``; a third of them moved from another school,
        whose enrollment ended in a transfer."""
        rng = self.rng
        rows = self.rows["enrollment"]
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
        posts, female_share = self._posts(inst)
        for role, post_title, subject in posts:
            sex = "female" if rng.random() < female_share else "male"
            person = None
            if pool and rng.random() < 0.25:
                pid, their_sex, _ = rng.choice(pool)
                if their_sex == sex and pid not in taken:
                    taken.add(pid)
                    person = pid
            if person is None:
                birth = year_day(rng, YEAR - rng.randint(23, 63))
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

    def _posts(self, inst: Inst) -> tuple[list[tuple[str, str, str | None]], float]:
        """An institution's posts (role, title, subject) and the share of women holding them."""
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
        return posts, female_share

    def _student(self, inst: Inst, region: Region) -> None:
        """A university student (an adult on their own), at home or abroad."""
        rng = self.rng
        programme = rng.choice(inst.programmes)
        years = LONG_PROGRAMMES.get(programme, 4)
        course = rng.choices(range(1, years + 1), [1.0 - 0.06 * c for c in range(years)])[0]
        entry_year = YEAR + 1 - course
        birth = cohort_day(rng, entry_year - 18 - (1 if rng.random() < 0.25 else 0))
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
