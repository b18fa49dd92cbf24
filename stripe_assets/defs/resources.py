"""Every resource, each configured from the environment, so the UI shows each setting and where
it comes from. Loading the code location judges every setting at once (`require_valid_settings`):
one bad value is a sentence at load, not a failed run later."""

import dagster as dg

from stripe_assets.settings import EnvironmentResource, require_valid_environment

from .automation import AutomationResource
from .dbt.settings import DbtSettingsResource
from .stripe.resources import StorageResource, StripeApiResource

SETTINGS: dict[str, type[EnvironmentResource]] = {
    "stripe_api": StripeApiResource,
    "storage": StorageResource,
    "dbt_settings": DbtSettingsResource,
    "automation": AutomationResource,
}


def require_valid_settings() -> None:
    """Every bad setting at once, as one ConfigurationError."""
    require_valid_environment(*SETTINGS.values())


def settings_resources() -> dict[str, EnvironmentResource]:
    require_valid_settings()
    return {key: resource.from_environment(env_vars=True) for key, resource in SETTINGS.items()}


@dg.definitions
def resources() -> dg.Definitions:
    """Built from the environment each time the code location loads, so tests can point it at
    temporary storage."""
    return dg.Definitions(resources=settings_resources())
