"""The catalogue must give every component the same fleet from the same arguments."""

from collections import Counter

import pytest

from tier0_common.catalog import (
    DEVICE_TYPES,
    METRICS,
    SITE_IDS,
    DeviceType,
    device_identity,
    id_width,
    telemetry_topic,
)


def test_full_fleet_is_25k_per_type_and_10k_per_site() -> None:
    fleet = [device_identity(i, 100_000) for i in range(100_000)]
    assert Counter(d.device_type for d in fleet) == {t: 25_000 for t in DeviceType}
    assert Counter(d.site_id for d in fleet) == {s: 10_000 for s in SITE_IDS}
    assert len({d.device_id for d in fleet}) == 100_000


def test_seed_sample_id_format() -> None:
    ident = device_identity(912 * len(DEVICE_TYPES), 100_000)
    assert ident.device_id == "TURB-00912"
    assert ident.device_type is DeviceType.TURBINE
    assert ident.topic == f"og/field/{ident.site_id}/turbine/TURB-00912"


def test_any_contiguous_shard_is_balanced_across_types() -> None:
    shard = [device_identity(i, 1000) for i in range(200, 240)]
    assert set(Counter(d.device_type for d in shard).values()) == {10}


def test_id_width_grows_for_huge_fleets() -> None:
    assert id_width(100_000) == 5
    assert id_width(4_000_000) == 6
    assert device_identity(3_999_999, 4_000_000).device_id == "OGS-999999"


@pytest.mark.parametrize("index,size,sites", [(-1, 10, 10), (10, 10, 10), (0, 10, 0), (0, 10, 11)])
def test_out_of_range_arguments_are_refused(index: int, size: int, sites: int) -> None:
    with pytest.raises(ValueError):
        device_identity(index, size, sites)


def test_fewer_sites_only_uses_the_first_ones() -> None:
    used = {device_identity(i, 400, num_sites=3).site_id for i in range(400)}
    assert used == set(SITE_IDS[:3])


def test_every_type_has_six_distinct_metrics() -> None:
    for names in METRICS.values():
        assert len(names) == len(set(names)) == 6


def test_topic_layout() -> None:
    assert telemetry_topic("WY-ALPHA", "turbine", "TURB-1") == "og/field/WY-ALPHA/turbine/TURB-1"
