"""Published PK parameter sets, one module per paper.

Each module defines one or more :class:`~pumpsim.pk.model.ModelSpec` objects;
:mod:`pumpsim.pk.registry` collects them. To add a model, write a module
here and list it in ``MODULES``.
"""

MODULES = (
    "marsh1991",
    "schnider1998",
    "eleveld2018",
    "minto1997",
    "lotsch2002",
    "sarton2000",
    "hovorka2004",
    "heparin_mm",
    "goti2018",
    "burm1987",
    "naropin_label",
    "sanzcodina2023",
    "shafer1990",
    "maitre1987",
    "gepts1995",
)
