"""Closing (resolved, or an honest apology) and the short review."""

# --- closing -------------------------------------------------------------------------------
RESOLVE_TITLE = "Case resolved"
RESOLVE_FIX = "What fixed it?"
RESOLVE_PREVENTION = "Advice you gave the customer to prevent it next time"
RESOLVE_FEEDBACK = "Did you ask the customer for feedback?"
YES_NO = {"yes": "Yes", "no": "No"}
RESOLVE_SUBMIT = "Close case"
UNRESOLVED_TITLE = "Not resolved"
UNRESOLVED_REMINDER = (
    "*Be honest, and apologise sincerely.* Tell the customer plainly what went wrong, what it affected, "
    "and what we could not do, without excuses. Then say sorry and mean it."
)
UNRESOLVED_EXPLANATION = "What did you tell the customer?"
UNRESOLVED_EXPLANATION_HINT = "What went wrong, what was affected, and what could not be done."
UNRESOLVED_APOLOGISED = "Did you apologise?"
RESOLVED_THREAD = "🟢 {user} closed the case as resolved after {duration}.\n*Fixed by:* {fix}"
RESOLVED_PREVENTION = "*Prevention advice:* {advice}"
RESOLVED_FEEDBACK = "Customer asked for feedback: {answer}"
UNRESOLVED_THREAD = "🔴 {user} closed the case as not resolved after {duration}.\n*Explanation given:* {explanation}"
CASE_FIELD_CLOSED = "*Closed*\nby {user} after {duration}"
REOPENED_THREAD = "🔁 {user} reopened the case: the customer came back."

# --- review --------------------------------------------------------------------------------
CAUSES = {
    "bug": "A bug",
    "ux": "Product UX",
    "support": "Our support process",
    "outside": "Outside stress (their bad day)",
    "other": "Something else",
}
REVIEW_PROMPT = "📋 {owner}, a short review helps the team learn from this case: why were they angry, and what could we improve?"
REVIEW_TITLE = "Case review"
REVIEW_CAUSE = "Why was the customer angry?"
REVIEW_IMPROVE = "What could we improve?"
REVIEW_UX = "A UX issue for the product team"
REVIEW_UX_HINT = "Posted to the product channel with a link to this case."
REVIEW_WHERE_PRIVATE = (
    "🔒 A UX issue written below will be posted in <#{channel}> with the case number, which people outside "
    "this private channel can read. Leave out what they should not see."
)
REVIEW_WHERE_UNKNOWN = "A UX issue written below will be posted in <#{channel}> with the case number."
REVIEW_SUBMIT = "Save review"
REVIEW_SAVED_THREAD = "📋 Review by {user}: cause *{cause}*.{improve}"
REVIEW_IMPROVE_LINE = "\n*Improve:* {text}"
REVIEW_UX_LINE = "\n*UX issue:* {text}"
REVIEW_FORWARDED = " Forwarded to <#{channel}>."
PRODUCT_FEEDBACK = "💡 *UX issue from a support case* (#{number}, cause: {cause})\n{text}\n<{url}|Case thread> · reported by {user}"

CLOSE_MOOD = "How does the customer feel now?"
CLOSE_MOOD_HINT = "One tap: with the mood they were flagged in, this is how Defuse measures what the case achieved."
MOOD_CHANGE_LINE = "*Mood:* {before} → {after}"
MOOD_NOW_LINE = "*Mood now:* {after}"
MOOD_CHANGES = {"calmer": "calmer", "same": "no change", "worse": "worse"}
