"""What the OpenAI and Anthropic providers share: a vendor's API, or a server that speaks it.

:class:`VendorAPIProvider` holds the constructor logic both backends had copied: the model
name check, "is this the vendor's own API?", the default name (``"openai"`` or
``"openai-compatible"``), where prices come from, and which API key is read. A vendor key
is read from the vendor's variable for the vendor's own API only, so it is never sent to a
third-party server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from promptlab.errors import ConfigurationError
from promptlab.providers.base import Capabilities
from promptlab.providers.remote import (
    RemoteOptions,
    RemoteProvider,
    is_loopback_url,
    resolve_api_key,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


class EndpointOptions(RemoteOptions, total=False):
    """:class:`RemoteOptions` plus where to send requests and with which key."""

    api_key: str | SecretStr | None
    base_url: str | None
    api_key_env: str | None
    name: str | None
    default_headers: dict[str, str] | None


def is_vendor_url(base_url: str | None, domain: str) -> bool:
    """True for a vendor's own API: no ``base_url``, or one on ``domain`` or a subdomain."""
    if base_url is None:
        return True
    return re.match(rf"^https?://([^/]*\.)?{re.escape(domain)}(/|$)", base_url) is not None


def endpoint_key(
    api_key: str | SecretStr | None,
    api_key_env: str | None,
    vendor_env: str,
    *,
    official: bool,
    provider: str,
) -> tuple[SecretStr | None, str]:
    """The API key for an endpoint, and the hint an authentication error shows.

    The vendor's variable ``vendor_env`` is read for the vendor's own API only;
    ``api_key_env`` names another variable. A key is required for the vendor's API and
    whenever ``api_key_env`` is given; without one, a compatible server gets
    :data:`~promptlab.providers.remote.PLACEHOLDER_KEY`.

    Raises:
        MissingAPIKeyError: A required key was not found.
    """
    env = api_key_env or (vendor_env if official else None)
    required = official or api_key_env is not None
    key = resolve_api_key(api_key, env, provider, required=required)
    return key, f"Check the key in {env} (or the api_key argument)." if env else ""


class VendorAPIProvider(RemoteProvider[Any]):
    """Base of backends built on a vendor SDK: the vendor's API, or a compatible server.

    Subclasses set :attr:`vendor`, :attr:`domain`, :attr:`key_env` and
    :attr:`example_model`, check their own arguments, then call this constructor with the
    capabilities for the model; :meth:`is_official` tells them which API ``base_url`` is.

    Args:
        model: The model name.
        capabilities: What the endpoint supports for ``model``.
        api_key: The key; default: ``$<key_env>`` for the vendor's API only.
        base_url: A compatible server; None for the vendor's API.
        api_key_env: Environment variable to read the key from (then a key is required).
        name: Provider name; the vendor's (``"openai"``) or ``"<vendor>-compatible"``.
        default_headers: Extra HTTP headers for every request.
        **options: :class:`~promptlab.providers.remote.RemoteOptions` (timeout, retries,
            rate limits, price, ``on_unsupported``).
    """

    #: The vendor API's domain; a ``base_url`` elsewhere is a compatible server.
    domain: str = ""
    #: The environment variable holding the vendor's API key.
    key_env: str = ""
    #: A model name shown in the error for a missing or empty model.
    example_model: str = ""

    def __init__(
        self,
        model: str,
        *,
        capabilities: Capabilities,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        name: str | None = None,
        default_headers: dict[str, str] | None = None,
        **options: Unpack[RemoteOptions],
    ) -> None:
        super().__init__(capabilities=capabilities, **options)
        official = self.is_official(base_url)
        self.model = model
        self.base_url = base_url
        self.official = official
        self.name = name or (self.vendor if official else f"{self.vendor}-compatible")
        # Prices: the vendor's table for its own API, free on loopback, unknown elsewhere.
        if not official:
            self.vendor = "local" if is_loopback_url(base_url) else self.name
        self._api_key, self._key_hint = endpoint_key(
            api_key, api_key_env, self.key_env, official=official, provider=self.name
        )
        self.default_headers = default_headers
        #: The variable the key was read from (a name, never the key), for batch status.
        self.api_key_env = api_key_env

    @classmethod
    def is_official(cls, base_url: str | None) -> bool:
        """True when ``base_url`` is the vendor's own API (None is)."""
        return is_vendor_url(base_url, cls.domain)

    @classmethod
    def check_model(cls, model: object) -> str:
        """``model`` if it is a non-empty string, else a :class:`ConfigurationError`."""
        if not model or not isinstance(model, str):
            raise ConfigurationError(
                f"model={model!r} is not allowed: give the model name, e.g. {cls.example_model!r}."
            )
        return model

    def _describe(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, "name": self.name}
