"""Adapters that connect pumpsim to the outside world: web, network, standards.

Nothing in ``engine/``, ``pump/``, ``pk/`` or ``patient/`` imports this package;
every optional dependency is imported lazily inside the adapter that needs it.
"""
