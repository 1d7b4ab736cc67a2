"""The learning loop: digest, export, retention and who counts as a lead."""
