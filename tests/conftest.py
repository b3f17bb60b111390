"""Shared pytest configuration for the ooc test suite.

Hypothesis profiles
-------------------
``default``  few examples per property so the whole suite stays fast (a few minutes on 2 cores).
``ci``       thousands of examples per property (alias: ``long``); slow, meant for nightly/CI runs.

The long profile is selected with ``pytest --hypothesis-long`` or by setting the environment
variable ``OOC_HYPOTHESIS_LONG=1``.  Hypothesis' own ``--hypothesis-profile NAME`` option (and the
``HYPOTHESIS_PROFILE`` environment variable) still work and win over the default.
"""
import os

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,  # dask graph construction/compute times vary too much for per-example deadlines
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    print_blob=True,
)

settings.register_profile("default", max_examples=int(os.environ.get("OOC_HYPOTHESIS_EXAMPLES", "25")),
                          **_common)
settings.register_profile("ci", max_examples=int(os.environ.get("OOC_HYPOTHESIS_EXAMPLES", "3000")),
                          **_common)
settings.register_profile("long", parent=settings.get_profile("ci"))

_TRUE = {"1", "true", "yes", "on"}


def _long_requested(config):
    if os.environ.get("OOC_HYPOTHESIS_LONG", "").strip().lower() in _TRUE:
        return True
    try:
        return bool(config.getoption("--hypothesis-long"))
    except ValueError:  # option not registered (conftest not loaded as an initial conftest)
        return False


def pytest_addoption(parser):
    parser.addoption(
        "--hypothesis-long",
        action="store_true",
        default=False,
        help="ooc: run hypothesis properties with the long 'ci' profile (thousands of examples). "
             "Same as setting OOC_HYPOTHESIS_LONG=1.",
    )


def pytest_configure(config):
    if _long_requested(config):
        settings.load_profile("ci")
        return
    explicit = None
    try:
        explicit = config.getoption("--hypothesis-profile")
    except ValueError:
        pass
    explicit = explicit or os.environ.get("HYPOTHESIS_PROFILE")
    settings.load_profile(explicit or "default")


def pytest_report_header(config):
    return f"ooc hypothesis profile: {settings._current_profile} (max_examples={settings.default.max_examples})"
