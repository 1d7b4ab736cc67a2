"""Refusals every move shares: permissions and a case's state."""

# --- permission / state messages --------------------------------------------------------------
CASE_NOT_FOUND = "I can't find that case any more."
STEP_ALREADY_DONE = "Step {step} was already ticked by {user}."
REPEAT_CUSTOMER = "🔁 *Repeat customer:* {count} earlier case(s): {cases}"
REPEAT_CUSTOMER_ALSO_ELSEWHERE = " · and {count} elsewhere"
# Cases kept in channels this case's readers can't see: a bare count, never their details or links.
REPEAT_CUSTOMER_ELSEWHERE_ONLY = "🔁 *Repeat customer:* {count} elsewhere (in a channel not everyone here can read)."
EARLIER_CASES = ("{count} earlier case", "{count} earlier cases")
REPEAT_FAILED_BEFORE = "Tried before without success: {tried}"

# --- ownership -------------------------------------------------------------------------------
NOT_OWNER = "Only the case owner, {owner}, can {action}. Ask them, or ask for a second contact."
ACTION_NAMES = {
    "handoff": "hand this case to someone else",
    "escalate": "escalate this case",
    "close": "close this case",
    "review": "write the review",
}
CASE_CLOSED_ALREADY = "Case #{number} is already closed ({status})."
CASE_NOT_CLOSED = "Case #{number} is still open."
