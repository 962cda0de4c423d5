"""Adapters between pumpsim and the outside world (controllers in other processes, ...).

Nothing in ``engine/``, ``pump/``, ``pk/`` or ``patient/`` imports this package.
"""
