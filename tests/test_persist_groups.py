"""`indexers.persist.group_of`: the part of an entity id its relatives share, which decides the bucket a
saved run keeps the entity in. A proto id is read by one pattern where it can be (names that start
lower-case, then the first capitalised one); every id must get the group the plain reading, name by name
(`plain_group`), gives it: a changed group would put entities in other buckets than a reader looks in."""

from __future__ import annotations

import random

from indexers.persist import entity_bucket, group_of, plain_group


def test_groups_of_proto_ids_are_the_plain_readings() -> None:
    rng = random.Random(5)
    starts = ["a", "google", "v1", "_x", "1a", "Cart", "X", "É", "é", "$b", "", "Ab_c", "z9"]
    for _ in range(20000):
        names = [rng.choice(starts) + rng.choice(["", "b", "Q", "_", "9", "ẞ"]) for _ in range(rng.randint(0, 6))]
        ident = rng.choice(["proto:", "proto:", "sql:", "openapi:", ""]) + ".".join(names)
        assert group_of(ident) == plain_group(ident), ident


def test_a_message_and_its_fields_share_a_bucket() -> None:
    assert group_of("proto:google.cloud.v1.Cart.Item.sku") == "proto:google.cloud.v1.Cart"
    assert group_of("proto:shop.v1") == "proto:shop.v1"  # a package: no capitalised name
    assert group_of("proto:a..B.c") == "proto:a..B"  # an empty name: read the plain way
    assert entity_bucket("proto:shop.Cart.id", 64) == entity_bucket("proto:shop.Cart", 64)
