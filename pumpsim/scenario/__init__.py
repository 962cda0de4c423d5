"""Scenario files: schema v1 (pydantic), YAML/TOML loading, cross-field checks."""

from pumpsim.scenario.checks import Limits
from pumpsim.scenario.load import dump_scenario, load_scenario, read_file
from pumpsim.scenario.schema import Scenario

__all__ = ["Scenario", "load_scenario", "dump_scenario", "read_file", "Limits"]
