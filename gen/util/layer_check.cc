// Nothing: the layer check links a gen/ library into a shared object of its own.
