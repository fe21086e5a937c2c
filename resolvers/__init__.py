"""What each field and mutation does: queries, workflows, loaders and access rules, per domain."""
