"""Escalation: the form, the request for the experts, updates and fixed."""

# --- escalation ------------------------------------------------------------------------------
SEVERITIES = {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"}
ESCALATE_TITLE = "Escalate to experts"
ESCALATE_NEED = "What do you need from the experts?"
ESCALATE_TIMEFRAME = "Timeframe to give the customer"
ESCALATE_TIMEFRAME_HINT = (
    "A date (2026-12-01) or a duration (2 days, 4 hours, 1 week). Promise what the experts can really "
    "meet: a longer wait is forgiven, a missed promise is not."
)
ESCALATE_SEVERITY = "Severity"
ESCALATE_SUBMIT = "Escalate"
ERR_TIMEFRAME = "Write a date like 2026-12-01 or a duration like 2 days, 4 hours or 1 week."
ERR_TIMEFRAME_PAST = "That is already past. Give the customer a time in the future."
ERR_TIMEFRAME_FAR = "That is more than 90 days away; give the customer something nearer and update them."
# Said in the modal before sending, when the case lives where not everyone can read it.
ESCALATE_WHERE_PRIVATE = (
    "🔒 This escalation, with the customer's name, what happened and every attempt, will be posted in "
    "<#{channel}>, which people outside this private channel can read."
)
ESCALATE_WHERE_UNKNOWN = (
    "This escalation, with the customer's name, what happened and every attempt, will be posted in <#{channel}>."
)
ESCALATION_HEADER = "🚨 Escalation: case #{number} ({severity})"
ESCALATION_BODY = "*Customer:* {customer}\n*What happened:* {summary}\n*Needed from experts:* {need}"
ESCALATION_META = "Owner {owner} · expected by {expected} · <{url}|case thread>"
ESCALATION_META_NO_LINK = "Owner {owner} · expected by {expected}"
ESCALATION_ATTEMPTS = "*Attempts so far:*\n{attempts}"
ESCALATION_NO_ATTEMPTS = "*Attempts so far:* none logged"
ESCALATION_FIXED_LINE = "✅ Marked fixed by {user} · {when}"
ESCALATION_FALLBACK = "Escalation for case #{number}: {customer}"
BUTTON_ESC_UPDATE = "Post update"
BUTTON_ESC_FIXED = "Mark fixed"
ESC_UPDATE_TITLE = "Escalation update"
ESC_UPDATE_TEXT = "Update for the case owner"
ESCALATED_THREAD = "🚨 {user} escalated this case to the experts ({severity}): {need}\nExpected by {expected}."
ESCALATED_ELSEWHERE = " Posted in <#{channel}>."
ESC_UPDATE_THREAD = "🔧 Update from {user} on the escalation:\n{text}"
ESC_UPDATE_DM = "🔧 {user} posted an update on the escalation of case #{number}:\n{text}\n<{url}|Open the case>"
ESC_FIXED_THREAD = "✅ {user} marked the escalation fixed. Let the customer know."
ESC_FIXED_DM = "✅ {user} marked the escalation of case #{number} fixed. Let the customer know: <{url}|open the case>."
ESC_ALREADY_FIXED = "This escalation was already marked fixed."
CASE_FIELD_ESCALATION = "*Escalation*\nexpected by {expected}"
CASE_FIELD_ESCALATION_FIXED = "*Escalation*\nfixed {when}"

ESCALATION_NOT_POSTED = (
    "Case #{number} is marked escalated, but Slack refused the request for the experts (`{error}`), so nobody "
    "has been asked yet. Please ask them directly and share the case: {url}"
)
