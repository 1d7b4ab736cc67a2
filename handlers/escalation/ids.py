"""Action and callback ids of this move. Escalation: the request for the experts, their updates, fixed."""

from handlers.slack.context import names

ESCALATE_ACTION = "case_escalate"
ESCALATE_VIEW = "escalate"
ESC_UPDATE_ACTION = "escalation_update"
ESC_UPDATE_VIEW = "escalation_update"
ESC_FIXED_ACTION = "escalation_fixed"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", ESCALATE_ACTION, ESC_UPDATE_ACTION, ESC_FIXED_ACTION)
