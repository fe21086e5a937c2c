"""The administrative-territorial units the migrations load (domain.md G1, G2; issue 14.1)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import District, DistrictKind, DistrictPool, Region
from tests.conftest import Hub

# region -> {kind: units}, today (valid_to IS NULL)
EXPECTED = {
    "KG-B": {"rayon": 3, "city": 3},  # Batken, Kyzyl-Kiya, Sulukta
    "KG-J": {"rayon": 8, "city": 4},  # Jalal-Abad, Kara-Köl, Mailuu-Suu, Tash-Kömür
    "KG-Y": {"rayon": 5, "city": 2},
    "KG-N": {"rayon": 5, "city": 1},
    "KG-O": {"rayon": 7},
    "KG-T": {"rayon": 4, "city": 1},
    "KG-C": {"rayon": 8, "city": 1},
    "KG-GB": {"city_district": 4},
    "KG-GO": {"city": 1},
}


class TestAdministrativeUnits:
    async def test_units_per_region_and_kind_g1(self, session: AsyncSession) -> None:
        # given the migrated database / when the current units are counted per region and kind
        rows = await session.execute(
            select(Region.code, District.kind, func.count())
            .join(District, District.region_id == Region.id)
            .where(District.valid_to.is_(None))
            .group_by(Region.code, District.kind)
        )
        found: dict[str, dict[str, int]] = {}
        for code, kind, n in rows:
            found.setdefault(code, {})[kind.value] = n
        # then the nine regions hold the 40 rayons, the cities and Bishkek's districts
        assert found == EXPECTED
        assert sum(units.get("rayon", 0) for units in found.values()) == 40

    async def test_every_region_has_its_classifier_code_g1(self, session: AsyncSession) -> None:
        codes = dict((await session.execute(select(Region.code, Region.soate))).all())
        assert codes["KG-GB"] == "41711"
        assert all(c is not None and c.startswith("417") for c in codes.values())

    async def test_added_cities_are_in_the_regional_town_pool_u4(
        self, session: AsyncSession
    ) -> None:
        pools = dict(
            (
                await session.execute(
                    select(District.name_en, DistrictPool.pool)
                    .join(DistrictPool, DistrictPool.district_id == District.id)
                    .where(District.code.in_(["KG-B-SLK", "KG-J-KRK", "KG-J-MLS", "KG-J-TSK"]))
                )
            ).all()
        )
        assert pools == {
            "Sulukta City": "regional_town",
            "Kara-Köl City": "regional_town",
            "Mailuu-Suu City": "regional_town",
            "Tash-Kömür City": "regional_town",
        }


REGIONS = "{ regions(first: 9) { nodes { code districts { kind } } } }"
AIMAKS = "{ districts(first: 5, filter: { kind: AYIL_AIMAK }) { totalCount nodes { code } } }"


async def _add_unit_inside_a_rayon(session: AsyncSession) -> None:
    """An ayil aimak inside Ak-Suu rayon: no classifier rows are loaded (docs/domains/registry.md),
    so the test brings its own unit under a rayon (code and names made up for the test)."""
    rayon = (await session.scalars(select(District).where(District.code == "KG-Y-AKS"))).one()
    session.add(
        District(
            region_id=rayon.region_id,
            parent_id=rayon.id,
            code="KG-Y-AKS-T01",
            kind=DistrictKind.AYIL_AIMAK,
            name_ky="Test aimak",
            name_ru="Test aimak",
            name_en="Test aimak",
        )
    )
    await session.commit()


async def _picker_lists_the_units_directly_under_a_region(hub: Hub, session: AsyncSession) -> None:
    # given an ayil aimak inside its rayon
    await _add_unit_inside_a_rayon(session)
    # when a portal reads the regions and their districts (its address picker)
    data = await hub.data(REGIONS)
    kinds = [d["kind"] for r in data["regions"]["nodes"] for d in r["districts"]]
    # then it gets the 57 rayons, cities and city districts; the aimak, inside its rayon,
    # comes from the districts list by kind
    assert len(kinds) == 57
    assert "AYIL_AIMAK" not in kinds
    aimaks = (await hub.data(AIMAKS))["districts"]
    assert aimaks == {"totalCount": 1, "nodes": [{"code": "KG-Y-AKS-T01"}]}


class TestAddressPickers:
    async def test_a_regions_districts_are_the_units_directly_under_it_g1(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await _picker_lists_the_units_directly_under_a_region(hub, session)

    async def test_the_same_through_the_resolvers_g1(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        await _picker_lists_the_units_directly_under_a_region(resolver_hub, session)
