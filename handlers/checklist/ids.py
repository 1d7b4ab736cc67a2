"""Action and callback ids of this move. Ticking the playbook's steps, the guide, and the forms a tick asks for."""

from handlers.slack.context import names

STEP_ACTION = "step_set"  # value: case:step:done:asks, with "-" for asking nothing (NOTHING_ASKED), or case:step:undo
NOTHING_ASKED = "-"
GUIDE_ACTION = "checklist_guide"
GUIDE_VIEW = "checklist_guide"
APOLOGY_VIEW = "step_apology"
ACTION_VIEW = "step_action"
PLAN_VIEW = "step_plan"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", STEP_ACTION, GUIDE_ACTION)
