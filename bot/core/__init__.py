"""The small core every playbook move shares: typed vocabulary, errors, and the ports to the outside."""
