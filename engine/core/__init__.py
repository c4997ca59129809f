"""The engine's core: specs, registries, errors, control, cadence, events, the run's
preparation, the step contract and the loop."""
