"""Adapters that connect a running simulation to the outside world.

:mod:`pumpsim.connect.session` (live sessions), :mod:`pumpsim.connect.api` (REST and
WebSocket, ``pumpsim serve``; needs ``pumpsim[live]``), :mod:`pumpsim.connect.codes`
(the one signal-code table). Nothing in the engine imports this package.
"""
