"""Action and callback ids of this move. Second contact: asking a colleague, and their accept or decline."""

from handlers.slack.context import names

HANDOFF_ACTION = "case_handoff"
HANDOFF_PICK_ACTION = "handoff_pick"
HANDOFF_VIEW = "handoff"
HANDOFF_ACCEPT_ACTION = "handoff_accept"
HANDOFF_DECLINE_ACTION = "handoff_decline"
DECLINE_VIEW = "handoff_decline"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", HANDOFF_ACTION)
names("handoff", HANDOFF_ACCEPT_ACTION, HANDOFF_DECLINE_ACTION)
