"""The server claims every profile of the catalog unless its configuration says otherwise."""

from __future__ import annotations

from profiles.catalog import PROFILES, Catalog
from profiles.config import DEFAULT_PROFILES, ServerConfig


def test_default_claims_every_catalog_profile() -> None:
    assert len(PROFILES) >= 6
    assert set(DEFAULT_PROFILES) == {p.title for p in PROFILES.values()}
    assert ServerConfig().profiles == DEFAULT_PROFILES
    # Every default name resolves in the catalog (no second spelling of a profile).
    Catalog(DEFAULT_PROFILES)


def test_default_profiles_include_the_storage_profiles() -> None:
    titles = set(DEFAULT_PROFILES)
    for wanted in (
        "Tape Library Server",
        "Storage Array with Self Encrypting Drive Server",
        "Symmetric Key Lifecycle Server",
        "Symmetric Key Foundry Server",
        "Opaque Managed Object Store Server",
        "Baseline Server",
    ):
        assert wanted in titles
