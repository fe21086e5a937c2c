"""The ranking order and the assignment of places (domain.md, "University admission", U3-U5).

Ranking is per programme and category of places (a grant pool or quota, or contract) by the
ranking score: main test + required subject tests (+ the creative test where the programme
has one). Ties are broken, in order, by the higher main score, the higher subject score, the
higher state-language score, and finally the earlier application (lower id): the order is
total, deterministic and the same in every query that explains it (``explanation``).

A round assigns places by applicant-proposing deferred acceptance: each applicant is
recommended at most one place, the highest of their preferences (grant before contract within
a choice) where their rank falls within the vacancies. Confirmed places are kept; an applicant
holding one competes only for their higher preferences. Unconfirmed recommendations of the
previous round expire when the next round is published and their places return as vacancies
(``rounds``).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from models import ApplicationStatus

COMPETING = (ApplicationStatus.ACTIVE, ApplicationStatus.CONFIRMED, ApplicationStatus.ENROLLED)

# The ranking order as one integer per application, larger is better: total, then main, then
# subject, then state-language score, then the earlier application (lower id). Packing the
# tie-breakers into one int keeps ranking 300,000 applications within a couple of seconds.
_ID_SPACE = 1 << 40
_SCORE_SPACE = 1 << 16  # every score is a SMALLINT or a sum of a few


def ranking_key(total: int, main: int, subject: int, state: int, app_id: int) -> int:
    """The documented order (module docstring) as one comparable integer."""
    scores = ((total * _SCORE_SPACE + main) * _SCORE_SPACE + subject) * _SCORE_SPACE + state
    return scores * _ID_SPACE + (_ID_SPACE - 1 - app_id)


def app_of(key: int) -> int:
    """The application a ranking key belongs to."""
    return _ID_SPACE - 1 - (key % _ID_SPACE)


def total_of(key: int) -> int:
    """The ranking score a ranking key was made of."""
    return key // (_ID_SPACE * _SCORE_SPACE**3)


Slot = tuple[int, str]  # (programme id, place category value)


@dataclass
class SlotState:
    """One programme's category of places during an assignment."""

    vacancies: int
    held: list[int] = field(default_factory=list)  # min-heap of keys: the worst on top
    competing: list[int] = field(default_factory=list)


def assign_places(
    applications: list[tuple[Any, ...]], vacancies: dict[Slot, int]
) -> tuple[dict[int, Slot], dict[Slot, SlotState], dict[int, int]]:
    """Deferred acceptance over the applicants' preference lists.

    ``applications`` are tuples (id, person_id, programme_id, funding, grant_category, total,
    main, subject, state language), ordered by person and preference. Returns the place each
    recommended application got, every slot with its competitors (for ranks and cut-offs), and
    each application's ranking key.
    """
    slots = {k: SlotState(vacancies=v) for k, v in vacancies.items()}
    options, person_of, keys = _preference_lists(applications, slots)
    cursor: dict[int, int] = dict.fromkeys(options, 0)
    waiting = list(options)
    while waiting:
        person = waiting.pop()
        tried = options[person]
        at = cursor[person]
        while at < len(tried):
            slot, key = tried[at]
            at += 1
            if len(slot.held) < slot.vacancies:
                heapq.heappush(slot.held, key)
                break
            if slot.held and key > slot.held[0]:
                bumped = heapq.heapreplace(slot.held, key)
                waiting.append(person_of[app_of(bumped)])
                break
        cursor[person] = at
    placed: dict[int, Slot] = {}
    for slot_key, slot in slots.items():
        for key in slot.held:
            placed[app_of(key)] = slot_key
    return placed, slots, keys


def _preference_lists(
    applications: list[tuple[Any, ...]], slots: dict[Slot, SlotState]
) -> tuple[dict[int, list[tuple[SlotState, int]]], dict[int, int], dict[int, int]]:
    """Each person's slots in order of preference (grant before contract within a choice) with
    their key there, whose person each application is, and each application's key; every slot
    learns who competes for it."""
    options: dict[int, list[tuple[SlotState, int]]] = defaultdict(list)
    person_of: dict[int, int] = {}
    keys: dict[int, int] = {}
    for row in applications:
        app_id, person, programme, funding, grant_category, total, main, subj, state = row
        key = ranking_key(total, main, subj, state, app_id)
        keys[app_id] = key
        person_of[app_id] = person
        wanted = []
        if funding != "contract" and grant_category is not None:
            wanted.append(grant_category)
        if funding != "grant":
            wanted.append("contract")
        for category in wanted:
            slot = slots.get((programme, category))
            if slot is not None:
                options[person].append((slot, key))
                slot.competing.append(key)
    return options, person_of, keys
