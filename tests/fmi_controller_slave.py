"""A small reference-like controller as a pythonfmu slave (built into an FMU by
tests/test_connect_fmi.py): continuous rate, stop at VTBI, occlusion / air / door alarms."""

from pythonfmu import Boolean, Fmi2Causality, Fmi2Slave, Fmi2Variability, Integer, Real

DISCRETE = Fmi2Variability.discrete


class SmallController(Fmi2Slave):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.infused = 0.0
        self.program_rate = 0.0
        self.vtbi = 0.0
        self.occlusion = False
        self.air = False
        self.door = False
        self.start = False
        self.stop = False
        self.motor_rate = 0.0
        self.state = 0
        self.alarm_occlusion = 0
        self.alarm_air = 0
        self.alarm_door = 0
        self.alarm_vtbi_complete = 0
        self.mode = "running"
        for name in ("infused", "program_rate", "vtbi"):
            self.register_variable(Real(name, causality=Fmi2Causality.input))
        for name in ("occlusion", "air", "door", "start", "stop"):
            self.register_variable(Boolean(name, causality=Fmi2Causality.input,
                                                  variability=DISCRETE))
        self.register_variable(Real("motor_rate", causality=Fmi2Causality.output))
        for name in ("state", "alarm_occlusion", "alarm_air", "alarm_door",
                     "alarm_vtbi_complete"):
            self.register_variable(Integer(name, causality=Fmi2Causality.output,
                                                  variability=DISCRETE))
        self._decide()

    def _decide(self):
        if self.start and self.mode in ("paused", "alarm"):
            self.mode = "running"
            self.alarm_occlusion = self.alarm_air = self.alarm_door = 0
        if self.stop and self.mode == "running":
            self.mode = "paused"
        if self.mode == "running":
            if self.occlusion:
                self.mode, self.alarm_occlusion = "alarm", 3
            elif self.air:
                self.mode, self.alarm_air = "alarm", 3
            elif self.door:
                self.mode, self.alarm_door = "alarm", 3
            elif self.vtbi > 0 and self.infused >= self.vtbi - 1e-9:
                self.mode, self.alarm_vtbi_complete = "complete", 2
        self.motor_rate = self.program_rate if self.mode == "running" else 0.0
        self.state = {"running": 1, "paused": 2, "alarm": 3, "complete": 5}[self.mode]

    def exit_initialization_mode(self):
        self._decide()

    def do_step(self, current_time, step_size):
        self._decide()
        return True
