"""The learning loop: export, retention, leads and the weekly digest."""

# --- export and retention (leads) ---------------------------------------------------------
EXPORT_PREPARING = "Preparing the export of the last {days} days… I'll send the two CSV files to you in a DM."
EXPORT_BAD_DAYS = (
    "`/angry export {word}`: the number of days must be a whole number from {low} to {high}, "
    "e.g. `/angry export 30`. Without a number the export covers the last {default} days."
)
EXPORT_NO_LEADS = (
    "Only team leads may export Defuse's records, and none are set up: an admin lists them in the "
    "`LEADS` setting (user IDs or user-group IDs)."
)
EXPORT_NOT_A_LEAD = "Only team leads may export Defuse's records. Leads here: {leads}. Ask one of them for the export."
EXPORT_GROUP_LOOKUP_FAILED = (
    "I couldn't check whether you are a lead: Slack didn't tell me who is in {groups}. Nothing was exported; "
    "try again in a minute, or ask an admin to check the app has the `usergroups:read` scope."
)
EXPORT_DM_COMMENT = (
    "📦 Defuse export, last {days} days (UTC, {start} to {end}): {cases:,} cases in `{cases_file}`, "
    "{activity:,} attempts, notes, handoffs, escalations and follow-ups in `{activity_file}`. "
    "Customer details in these files are personal data: keep them inside the team."
)
EXPORT_SENT = "The export is in your DM with me: {cases:,} cases, {activity:,} activity rows."
EXPORT_FAILED = "The export could not be sent: Slack said `{error}`. Nothing was shared. {hint}"
EXPORT_FAILED_HINTS = {
    "missing_scope": "The app needs the `files:write` and `im:write` scopes: an admin adds them and reinstalls it.",
    "not_allowed_token_type": "The app needs the `files:write` scope: an admin adds it and reinstalls the app.",
}
EXPORT_FAILED_HINT = "Try again in a minute."
EXPORT_BUILD_FAILED = "The export could not be built (a database problem). Nothing was shared; try again in a minute."
ERASED_SUMMARY = "(erased after {days} days)"
ERASED_TEXT = "(erased)"

# --- weekly digest (DIGEST_CHANNEL) -----------------------------------------------------------
DIGEST_HEADER = "📊 Defuse weekly digest: {start} – {end}"
DIGEST_FALLBACK = (
    "Defuse weekly digest, {start} – {end}: {opened} cases opened, {resolved} resolved, {unresolved} not resolved."
)
DIGEST_WEEK = (
    "*This week against the week before*\n"
    "• Cases opened: *{opened}* {opened_delta}\n"
    "• Resolved: *{resolved}* {resolved_delta}\n"
    "• Not resolved: *{unresolved}* {unresolved_delta}\n"
    "• Resolution rate: *{rate}* (week before: {previous_rate})\n"
    "• Median time to resolve: *{median}* (week before: {previous_median})"
)
DIGEST_DELTA = "(week before: {previous}, {change})"
DIGEST_SAME = "no change"
DIGEST_NONE = "—"
DIGEST_CAUSES_TITLE = "*Why customers were angry* (from case reviews)"
DIGEST_CAUSE_LINE = "• {cause}: *{count}* (week before: {previous})"
DIGEST_NO_CAUSES = "*Why customers were angry:* no reviews in these two weeks."
DIGEST_UX_TITLE = "*UX issues sent to the product team this week:* {count}"
DIGEST_UX_LINE = "• {case}: {issue}"
DIGEST_OPEN_TITLE = "*Cases open more than {days} days:* {count}"
DIGEST_OPEN_LINE = "• {case} {customer}— {summary} · open {age} · owner <@{owner}>"
DIGEST_MORE = "…and {count} more."
DIGEST_HIDDEN = "{count} of them from private channels: counted here, details stay in their channel."
DIGEST_FOLLOW_UPS = "*Follow-ups more than a day overdue:* {count}{owners}"
DIGEST_FOLLOW_UPS_OWNERS = " — owners: {owners}"
DIGEST_FOOTER = "Last 7 days against the 7 before, up to {now} ({tz}). Posted by Defuse every week."
DIGEST_CASE = "Case #{number}"

DIGEST_MOOD = ("• Mood: *{calmer}* of {measured} customers left calmer than they came, {worse} worse "
               "(*{rate}*; week before: {previous_rate})")
DIGEST_MOOD_NONE = "• Mood: no case closed with a mood this week (one tap on the close form records it)"

DIGEST_CHART_COMMENT = "📈 The last eight weeks: cases opened, and the share of customers who left calmer than they came."
CHART_TITLE = "Cases and mood, week by week"
CHART_OPENED = "Cases opened"
CHART_CALMER = "Left calmer (%)"
CHART_WEEK_OF = "Week of"
CHART_ALT = "Bar chart of cases opened per week, with a line for the share of customers who left calmer."
