"""Action and callback ids of this move. Closing, reopening and the review."""

from handlers.slack.context import names

RESOLVE_ACTION = "case_resolve"
RESOLVE_VIEW = "resolve"
UNRESOLVED_ACTION = "case_unresolved"
UNRESOLVED_VIEW = "unresolved"
REOPEN_ACTION = "case_reopen"
REVIEW_ACTION = "case_review"
REVIEW_VIEW = "review"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", RESOLVE_ACTION, UNRESOLVED_ACTION, REOPEN_ACTION, REVIEW_ACTION)
