"""A deterministic synthetic dataset shaped like the Kyrgyz education system: the demo data of
``bilim serve --demo`` and ``bilim seed``, and the benchmarks' data.

Scale 1.0 is the whole country: about 2,300 schools with 1.4 million pupils, 1,500
kindergartens, 150 colleges, 90 universities, a few foreign universities, the pupils' families
and the staff. Everything is derived from ``random.Random(seed)`` and fixed reference dates
(the 2026/27 school year), so the same (scale, seed) always produces the same rows.

Rows are written with binary COPY in batches, in one transaction. Families are generated one
district at a time and handed over in batches, so memory stays bounded at any scale; the next
batch is generated in a worker thread while the previous one is being copied.

Its parts: ``reference`` (the country's totals, regions' shares, places and institution names
drawn from) and ``names`` (people's names), ``state`` (what the generator's parts share),
``institutions`` (the plan of institutions), ``people`` (households, staff and students) and
``load`` (the database side); ``domains`` adds a small slice of learning content, the school
LMS and the libraries for ``bilim serve --demo`` (after ``load``; the benchmarks do without).
"""

from resolvers.demo.domains import load_domains
from resolvers.demo.load import INSTITUTIONS, Generator, is_loaded, load
from resolvers.demo.personas import Persona, personas
from resolvers.demo.reference import DEMO_SCALE, PUPILS

__all__ = [
    "DEMO_SCALE",
    "INSTITUTIONS",
    "PUPILS",
    "Generator",
    "Persona",
    "is_loaded",
    "load",
    "load_domains",
    "personas",
]
