"""The stages of the demo loader, in the order :mod:`kehou.demo.loader` runs them: :mod:`.city` (regions, schools,
people), :mod:`.catalog` (libraries and review), :mod:`.enrolment` (classes and selection) and :mod:`.payments`
(payments and refunds). A stage imports only earlier stages and :mod:`kehou.demo.common`."""
