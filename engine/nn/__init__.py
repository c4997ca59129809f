"""Networks: the graph of layers, layers by kind, initializers, losses, optimizers,
regularizers and schedules."""
