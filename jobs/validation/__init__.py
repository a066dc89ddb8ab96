"""The validation suite: one module per check, the policy, and the runner that records a run."""
