"""Print a greeting and exit: the startup workload."""

print("Hello, World!")
