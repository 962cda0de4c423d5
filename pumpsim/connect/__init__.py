"""Adapters that connect pumpsim to the outside world.

:mod:`pumpsim.connect.session` (live sessions), :mod:`pumpsim.connect.api` (REST and
WebSocket, ``pumpsim serve``; needs ``pumpsim[live]``), :mod:`pumpsim.connect.codes`
(the one signal-code table), :mod:`pumpsim.connect.external` (controllers in another
process), :mod:`pumpsim.connect.classroom` (the teaching pages),
:mod:`pumpsim.connect.hl7` and :mod:`pumpsim.connect.mllp` (IHE PCD HL7 v2),
:mod:`pumpsim.connect.fmi` (FMI 2.0 co-simulation; needs ``pumpsim[fmi]``).

Nothing in ``engine/``, ``pump/``, ``pk/`` or ``patient/`` imports this package.
"""
