"""Exact Online's country instances and the host a run talks to.

Exact runs one instance per country; an app registered in one country's App Center cannot reach
another's data, and the same paths exist on every host (see the project's Exact reference,
section 1).
"""

from __future__ import annotations

REGION_HOSTS: dict[str, str] = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "uk": "https://start.exactonline.co.uk",
    "de": "https://start.exactonline.de",
    "fr": "https://start.exactonline.fr",
    "es": "https://start.exactonline.es",
    "us": "https://start.exactonline.com",
}


class SettingsError(ValueError):
    """A setting is invalid; the message names it and what is expected."""


def host_for(region: str, base_url: str | None = None) -> str:
    """Return the Exact host for a region, or the ``base_url`` override.

    Args:
        region: One of the keys of :data:`REGION_HOSTS`.
        base_url: Optional override (sandbox, proxy); wins when set.

    Returns:
        The host URL without a trailing slash.

    Raises:
        SettingsError: If the region is unknown, or base_url is not an http(s) URL.
    """
    if base_url:
        if not base_url.startswith(("https://", "http://")):
            msg = f"base_url {base_url!r} is not an http(s) URL (e.g. https://start.exactonline.nl)"
            raise SettingsError(msg)
        return base_url.rstrip("/")
    try:
        return REGION_HOSTS[region.lower()]
    except KeyError:
        msg = f"unknown region {region!r}; expected one of {', '.join(REGION_HOSTS)}"
        raise SettingsError(msg) from None
