from tests.conftest import Hub


async def test_regions_are_public(hub: Hub) -> None:
    data = await hub.data("{ regions(first: 20) { totalCount nodes { code nameEn } } }")
    assert data["regions"]["totalCount"] == 9
    assert {r["code"] for r in data["regions"]["nodes"]} >= {"KG-GB", "KG-GO", "KG-C"}
