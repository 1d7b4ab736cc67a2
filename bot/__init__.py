"""Defuse's domain: the playbook, case lifecycle, Block Kit builders, scheduling policy, config."""
