"""Every piece of text Defuse shows to a person, in one place.

Placeholders use str.format names. Text that echoes user input is escaped by the caller
(bot.textutil.safe) before it is formatted in here.
"""

APP_NAME = "Defuse"

# An open step shows its title and one short line; the rest is in the guide (a click away).
STEP_OPEN = "{mark} *{number}. {title}*\n{line}"
STEP_MARK_NEXT = "👉"
STEP_MARK_OPEN = "⬜"
STEP_SAY = "Say: “{say}”"
# A done step folds to one line: what, who, when (and what the step's form recorded, shortened).
STEP_DONE_LINE = "✅ {number}. {title} — {user}{when}"  # when: " · <date>" or empty
STEP_DONE_DETAIL_APOLOGY = "Apology accepted: {answer}"
STEP_DONE_DETAIL_ACTION = "Action: {action}"
STEP_DONE_DETAIL_OFFER = "Also offered: {offer}"
STEP_DONE_DETAIL_PLAN = "Follow-up plan: {plan}"
BUTTON_MARK_DONE = "Mark done"
BUTTON_UNDO = "Undo"
BUTTON_GUIDE = "Why & what to say"
GUIDE_TITLE = "Why & what to say"
GUIDE_CLOSE = "Close"
GUIDE_STEP = "*{number}. {title}*\n*Why it matters:* {why}\n*What to say:*\n{say}"

APOLOGY_ANSWERS = {
    "accepted": "Yes, accepted",
    "not_yet": "Not yet",
    "refused": "No, refused",
}

MOODS = {
    "calm": "🙂 Calm",
    "upset": "😕 Upset",
    "angry": "😠 Angry",
    "furious": "🤬 Furious",
}

STATUS_LABELS = {
    "open": "🟠 Open",
    "escalated": "🟣 Escalated",
    "resolved": "🟢 Resolved",
    "unresolved": "🔴 Closed, not resolved",
}

# --- case message ----------------------------------------------------------------------------
CASE_HEADER = "🧯 Angry customer: {customer}"
CASE_HEADER_NO_CUSTOMER = "🧯 Angry customer (name not given yet)"
CASE_FALLBACK = "Angry customer case #{number}: {customer}"
CASE_WHAT_HAPPENED = "*What happened*\n{summary}"
CASE_FIELD_FLAGGED = "*Flagged by*\n{user}"
CASE_FIELD_OWNER = "*Owner*\n{user}"
CASE_FIELD_STATUS = "*Status*\n{status}"
CASE_FIELD_PROGRESS = "*Progress*\n{done}/{total} steps"
CASE_FIELD_MOOD = "*Mood at intake*\n{mood}"
CASE_FIELD_LINK = "*Ticket / conversation*\n<{url}|Open>"
CASE_FIELD_SOURCE = "*Original message*\n<{url}|View>"
CASE_FIELD_FLAGGED_IN = "*Flagged in*\n{where}"
FLAGGED_IN_DM = "a direct message (only its members can open it)"
CASE_CONTEXT = "Case #{number} · opened {when} · the checklist is in the thread"
CASE_PLAYBOOK = "Playbook: {name}"  # shown when the case follows a team's own playbook file
CASE_NO_CUSTOMER = "_not given yet: press Edit case_"
BUTTON_EDIT = "Edit case"
CHECKLIST_HEADER = "De-escalation checklist"
CHECKLIST_INTRO = "{done}/{total} done · tick the steps in any order."
CHECKLIST_INTRO_ALL_DONE = "{done}/{total} done · every step is ticked."
CHECKLIST_FALLBACK = "De-escalation checklist for case #{number}: {done}/{total} steps done"

# --- /angry command -------------------------------------------------------------------------
HELP = (
    "*Defuse helps you calm an angry customer and keep a record of it.*\n"
    "• `/angry Customer name: what happened` flags a case and posts the team's checklist in a thread. "
    "In a channel the customer can read, only you see my answers and the case goes to the team's cases channel.\n"
    "• `/angry` on its own opens a form (customer, what happened, mood, ticket link, channel).\n"
    "• `/angry export [days]` (team leads) sends you the team's records as CSV files.\n"
    "• `/angry help` shows this message.\n"
    "You can also use the *Handle angry customer* shortcut on a customer's message."
)
OPENING_CASE = "Opening a case for {customer}…"
OPENING_CASE_NO_CUSTOMER = "Opening a case…"
ASK_FOR_CUSTOMER = (
    "Case #{number} is open. I couldn't tell who the customer is: write it as "
    "`/angry Customer: what happened` next time, and press *Edit case* on the case to add the name now."
)
UNKNOWN_SUBCOMMAND = (
    "I don't know `/angry {word}`. To flag a case write `/angry Customer: what happened`, "
    "or just `/angry` for a form. `/angry help` explains more."
)
TOO_LONG = (
    "That is {length:,} characters; the limit is {limit:,}. Nothing was created. "
    "Run `/angry` on its own and use the form, or shorten the description."
)
NOT_IN_CHANNEL = (
    "Case #{number} is saved, but I can't post in <#{channel}> because I'm not a member. "
    "Invite me with `/invite @Defuse` there, then press *Post it again*."
)
CHANNEL_UNREACHABLE = (
    "Case #{number} is saved, but I can't post in that conversation (Slack said `{error}`). "
    "Pick a channel I'm in, or invite me with `/invite @Defuse`, then press *Post it again*."
)
POST_FAILED = (
    "Case #{number} is saved, but Slack refused the message (`{error}`). Press *Post it again* in a moment."
)
# --- conversations the customer can read (Slack Connect, DMs with outsiders) -----------------
NEEDS_CASES_CHANNEL = (
    "People from outside your organisation can read this conversation, so I posted nothing here and opened no "
    "case. To keep such cases, an admin sets `CASES_CHANNEL` to the ID of an internal support channel; cases "
    "flagged here then go there, with a link back. Only you can see this. Here is what you wrote:\n{echo}"
)
CASE_MOVED = (
    "Only you can see this. People from outside your organisation read this conversation, so case #{number} "
    "and its checklist are in <#{channel}>: <{url}|open it>. Nothing was posted here."
)
AUDIENCE_UNKNOWN = (
    "Case #{number} is saved, but I couldn't check who can read this conversation (Slack said `{error}`), "
    "so I posted nothing anywhere. Press *Post it again* in a moment."
)
CASES_CHANNEL_SHARED = (
    "Case #{number} is saved but not posted: `CASES_CHANNEL` (<#{channel}>) is itself shared with another "
    "organisation, so the customer could read it there. Ask an admin to set it to an internal channel, "
    "then press *Post it again*."
)
INTAKE_EXTERNAL_NOTICE = (
    "🔒 People from outside your organisation can read <#{source}>. The case will be posted in <#{channel}> "
    "with a link back; nothing is posted in the shared conversation."
)
INTAKE_EXTERNAL_REFUSED = (
    "🔒 People from outside your organisation can read <#{source}>, and `CASES_CHANNEL` is not set, so a case "
    "from here can't be opened. Pick an internal channel below, or ask an admin to set `CASES_CHANNEL`."
)
BUTTON_RETRY_POST = "Post it again"
POSTED_CASE = "Case #{number} is posted: <{url}|open it>."
POSTED_ELSEWHERE = "Only you can see this. Case #{number} is posted in <#{channel}>: <{url}|open it>."
SAVE_FAILED = (
    "Sorry, I couldn't save the case just now (the database did not answer). Nothing was lost; here is "
    "what you wrote so you can try again:\n>{echo}"
)
GENERIC_FAILURE = "Sorry, something went wrong on my side and that did not go through. Please try again."

# --- intake modal ----------------------------------------------------------------------------
INTAKE_TITLE = "Angry customer"
INTAKE_SUBMIT = "Open case"
INTAKE_CLOSE = "Cancel"
INTAKE_CUSTOMER = "Customer"
INTAKE_CUSTOMER_HINT = "A name, company, e-mail or @mention, so earlier cases can be found."
INTAKE_SUMMARY = "What happened"
INTAKE_SUMMARY_HINT = "In the customer's words where you can."
INTAKE_MOOD = "How angry are they?"
INTAKE_LINK = "Link to the ticket or conversation"
INTAKE_CHANNEL = "Post the case in"
INTAKE_QUOTE_PREFIX = "From their message:\n"
EDIT_TITLE = "Edit case"
EDIT_SUBMIT = "Save"
ERR_REQUIRED = "Please fill this in."
ERR_NOT_URL = "This needs to be a web address starting with http:// or https://"
ERR_TOO_LONG = "Please keep this under {limit:,} characters."
ERR_NO_CHANNEL = "Pick a channel for the case."

# --- step modals -------------------------------------------------------------------------------
APOLOGY_TITLE = "Step 4: apology"
APOLOGY_QUESTION = "Did the customer accept the apology?"
ACTION_TITLE = "Step 5: take action"
ACTION_WHAT = "What did you do for the customer?"
ACTION_OFFER = "What else did you offer? (you asked: what else can I do?)"
STEP_SUBMIT = "Mark done"
NOTE_LABEL = "Note"

# --- permission / state messages --------------------------------------------------------------
CASE_NOT_FOUND = "I can't find that case any more."
STEP_ALREADY_DONE = "Step {step} was already ticked by {user}."
REPEAT_CUSTOMER = "🔁 *Repeat customer:* {count} earlier case(s): {cases}"
REPEAT_CUSTOMER_ALSO_ELSEWHERE = " · and {count} elsewhere"
# Cases kept in channels this case's readers can't see: a bare count, never their details or links.
REPEAT_CUSTOMER_ELSEWHERE_ONLY = "🔁 *Repeat customer:* {count} elsewhere (in a channel not everyone here can read)."
EARLIER_CASES = ("{count} earlier case", "{count} earlier cases")
REPEAT_FAILED_BEFORE = "Tried before without success: {tried}"

# --- case file: attempts and notes ------------------------------------------------------------
BUTTON_ATTEMPT = "Log attempt"
BUTTON_NOTE = "Add note"
BUTTON_HANDOFF = "Second contact"
BUTTON_ESCALATE = "Escalate"
BUTTON_RESOLVE = "Resolved"
BUTTON_UNRESOLVED = "Not resolved"
BUTTON_REOPEN = "Reopen"
BUTTON_REVIEW = "Write review"
ATTEMPT_TITLE = "Log an attempt"
ATTEMPT_WHAT = "What did you try?"
ATTEMPT_RESULT = "What happened?"
ATTEMPT_OUTCOME = "Did it help?"
ATTEMPT_OUTCOMES = {"helped": "It helped", "partly": "Partly", "failed": "It did not help"}
ATTEMPT_POSTED = "📝 *Attempt* by {user} · {when}\n*Tried:* {what}\n*Result:* {result} ({outcome})"
NOTE_TITLE = "Add a note"
NOTE_TEXT = "Note"
NOTE_POSTED = "🗒️ *Note* by {user} · {when}\n{text}"
SAVE = "Save"

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

# --- second contact ------------------------------------------------------------------------------
HANDOFF_TITLE = "Second contact"
HANDOFF_WHO = "Who should take over?"
HANDOFF_NOTE = "Note for your colleague"
HANDOFF_NOTE_HINT = "What they need to know so the customer doesn't have to repeat themselves."
HANDOFF_SUBMIT = "Ask them"
HANDOFF_SELF = "That's you. Pick a colleague."
HANDOFF_BOT = "That's a bot, not a colleague. Pick a person."
HANDOFF_DELETED = "That account is deactivated. Pick someone else."
HANDOFF_OUTSIDER = (
    "{user} is from outside your organisation (or I couldn't check), so I didn't send them the case. "
    "Pick a colleague from your own team."
)
CONFIGURED_CHANNEL_SHARED = (
    "`{name}` (<#{channel}>) is shared with another organisation, so I kept this in the case instead of posting "
    "it there. Ask an admin to point `{name}` at an internal channel."
)
HANDOFF_OUTSIDER_PICKED = "That person is from outside your organisation. Pick a colleague from your own team."
HANDOFF_BREATHER_WARNING = "⏸️ {user} is taking a breather until {until}; they may answer later."
HANDOFF_DM_INTRO = "🤝 {requester} asks you to take over an angry-customer case as a second contact."
HANDOFF_DM_FIELDS = "*Customer:* {customer}\n*What happened:* {summary}"
HANDOFF_DM_STEPS = "*Steps done ({done}/{total}):* {steps}"
HANDOFF_DM_NO_STEPS = "*Steps done:* none yet"
HANDOFF_DM_ATTEMPTS = "*Attempts so far:*\n{attempts}"
HANDOFF_DM_NO_ATTEMPTS = "*Attempts so far:* none logged"
HANDOFF_DM_ESCALATION = "*Escalation:* {status}"
HANDOFF_DM_NO_ESCALATION = "*Escalation:* not escalated"
HANDOFF_DM_NOTE = "*Note from {requester}:*\n{note}"
HANDOFF_DM_LINK = "<{url}|Open the case thread>"
HANDOFF_FALLBACK = "{requester} asks you to take over case #{number} ({customer})"
BUTTON_ACCEPT = "Accept"
BUTTON_DECLINE = "Decline"
DECLINE_TITLE = "Decline handoff"
DECLINE_REASON = "Reason"
DECLINE_SUBMIT = "Decline"
HANDOFF_REQUESTED_THREAD = "🤝 {requester} asked {colleague} to take over as a second contact."
HANDOFF_SENT = "I've asked {colleague} to take over case #{number}. I'll tell you when they answer."
HANDOFF_DM_FAILED = "I couldn't reach {colleague} by DM (Slack said `{error}`). Case #{number} is still yours; pick someone else."
HANDOFF_ACCEPTED_DM = "✅ You accepted case #{number}. It's yours now: <{url}|open the thread>."
HANDOFF_ACCEPTED_THREAD = "🤝 {colleague} took over this case from {requester}. Owner: {colleague}."
HANDOFF_ACCEPTED_TELL = "{colleague} accepted case #{number}; it's theirs now. Thank you for handing it over."
HANDOFF_DECLINED_DM = "You declined case #{number}."
HANDOFF_DECLINED_TELL = "{colleague} declined case #{number}{reason}. It's still yours; you can ask someone else."
HANDOFF_DECLINED_THREAD = "{colleague} declined the second contact{reason}. {requester} still owns the case."
HANDOFF_STALE = "This request is no longer open (it was {status})."
HANDOFF_CANCELLED = "This request was withdrawn: case #{number} moved on."
HANDOFF_PENDING_FIELD = "*Second contact*\nasked {user}"

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

# --- message shortcut --------------------------------------------------------------------------
SHORTCUT_EMPTY = "(the message had no text)"
ALREADY_ESCALATED = "Case #{number} is already escalated; post an update on the escalation instead."
HANDOFF_NOT_YOURS = "This request was sent to {user}; only they can answer it."
FEEDBACK_FORWARD_FAILED = (
    "Your review is saved, but I couldn't post the UX issue to <#{channel}> (Slack said `{error}`). "
    "Invite me there with `/invite @Defuse`."
)

# --- follow-ups ----------------------------------------------------------------------------
FOLLOW_UP_DM = "⏰ Time to follow up with *{customer}* (case #{number}, closed {closed})."
FOLLOW_UP_DETAILS = "*What happened:* {summary}\n*What was done:* {done}"
FOLLOW_UP_PLAN = "*Your follow-up plan:* {plan}"
FOLLOW_UP_LINK = "<{url}|Open the case>"
FOLLOW_UP_FALLBACK = "Time to follow up with {customer} (case #{number})"
FOLLOW_UP_NOTHING_DONE = "nothing recorded"
BUTTON_FOLLOWED_UP = "Followed up"
BUTTON_SKIP = "Skip"
SNOOZE_PLACEHOLDER = "Snooze"
SNOOZE_CHOICES = {"hour": "1 hour", "tomorrow": "Tomorrow", "week": "Next week"}
FOLLOWED_UP_TITLE = "Followed up"
FOLLOWED_UP_HOW = "How is the customer now?"
FOLLOWED_UP_OUTCOMES = {
    "happy": "Happy",
    "unhappy": "Still unhappy (reopens the case)",
    "no_answer": "No answer",
}
FOLLOWED_UP_DONE = "✅ Followed up by {user} · {when}: {outcome}"
FOLLOWED_UP_THREAD = "📞 {user} followed up with the customer: {outcome}.{note}"
SNOOZED = "💤 Snoozed until {when}."
SKIPPED = "⏭️ Skipped by {user}."
REMINDER_ALREADY_HANDLED = "This reminder was already handled ({status})."
PLAN_TITLE = "Step 6: follow up"
PLAN_TEXT = "Your follow-up plan"
PLAN_HINT = "What you will check with the customer, and how."
PLAN_FIRST_DATE = "First follow-up on"
PLAN_FIRST_DATE_HINT = "Leave it empty and you'll be reminded {schedule} after the case is closed."
PLAN_FIRST_DATE_HINT_NONE = "Leave it empty and no follow-up reminder is set."
# Words for FOLLOW_UP_SCHEDULE's units (s m h d w), singular and plural.
TIME_UNITS = {
    "s": ("second", "seconds"),
    "m": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "w": ("week", "weeks"),
}
LIST_AND = " and "
ERR_DATE_PAST = "Pick a day after today."
ERR_DATE_FAR = "Pick a day within the next 120 days."

# --- breather --------------------------------------------------------------------------------
BREATHER_TASKS = (
    "tidy up one help-centre article that confused a customer this week",
    "read through a saved reply and make it sound more human",
    "write a short thank-you to a customer who was kind to us recently",
    "tag and close a few easy tickets in the queue",
    "note down one thing that would have made this case easier, for the team",
    "take a short walk or get a glass of water, then pick an easy ticket",
)
BREATHER_DM_CLOSED = "🌿 That case is closed. Before the next one, step away for a few minutes."
BREATHER_DM_HARD = "🌿 That was a hard one ({why}). You've earned a few minutes away from the queue."
BREATHER_WHY_FURIOUS = "a furious customer"
BREATHER_WHY_LONG = "open for {duration}"
BREATHER_DM_LONG = "🌿 Case #{number} has been open for {duration}. A short breather can help you come back calmer."
BREATHER_TASK = "A calmer task for now: *{task}*."
BUTTON_BREATHER_START = "Start breather ({minutes} min)"
BUTTON_BREATHER_SKIP = "Not now"
BREATHER_STARTED = "🌿 Breather started: back at {until}. Colleagues will see you're taking a moment."
BREATHER_SKIPPED = "👍 No problem. The offer stands whenever you need it."
BREATHER_WELCOME_BACK = "👋 Welcome back! Your breather is over. Take the next case whenever you're ready."
HANDOFF_COLLEAGUE_ON_BREATHER = "\n⏸️ {user} is on a breather until {until}, so they may answer a bit later."
HANDOFF_DM_YOU_ON_BREATHER = "⏸️ You're on a breather until {until}; this can wait until you're back."

# --- App Home ---------------------------------------------------------------------------------
HOME_HEADER = "🧯 Defuse"
HOME_INTRO = "Flag an angry customer with `/angry Customer: what happened`, or the *Handle angry customer* message shortcut."
HOME_MY_CASES = "Your open cases"
HOME_NO_CASES = "No open cases. 🌤️"
HOME_CASE_LINE = "*#{number}* {customer} · {done}/{total} steps · {status} · opened {when}{link}"
HOME_FOLLOW_UPS = "Your follow-ups"
HOME_NO_FOLLOW_UPS = "Nothing to follow up on."
HOME_FOLLOW_UP_LINE = "{icon} Case #{number} {customer}: {state} {when}"
HOME_FOLLOW_UP_STATES = {"pending": "due", "sent": "waiting for you since", "failed": "could not be delivered, was due"}
HOME_TEAM = "Team, last 30 days"
HOME_TEAM_NUMBERS = (
    "*Opened:* {opened}   *Resolved:* {resolved}   *Not resolved:* {unresolved}   *Open now:* {open_now}\n"
    "*Median time to resolve:* {median}"
)
HOME_CAUSES = "*Why customers were angry:* {causes}"
HOME_NO_CAUSES = "*Why customers were angry:* no reviews yet"
HOME_ON_BREATHER = "🌿 You're on a breather until {until}."
CHECKLIST_FAILED = (
    "Case #{number} is posted, but Slack refused its checklist (`{error}`). Press *Post it again* to add it."
)
UPDATE_FAILED = "Your change to case #{number} is saved, but I couldn't update the message in Slack (`{error}`). It will catch up with the next change; press *Post it again* to retry now."

# --- requests the HTTP guard answers itself (handlers/slack/guard.py) ---------------------------
OTHER_WORKSPACE = "Defuse is installed for another workspace, so it can't act on this one. Ask your admin to install it here."
REQUEST_FAILED = "Sorry, something went wrong on my side and nothing was saved. Here is what you wrote so you can try again:\n>{echo}"
FORM_FAILED = "Sorry, something went wrong on my side and this was not saved. Your text is still here: submit again."
FORM_UNREADABLE_TITLE = "Form out of date"
FORM_UNREADABLE_CLOSE = "Close"
FORM_UNREADABLE = (
    "I couldn't read which case this form belongs to, so nothing was saved. Close it and open it again "
    "from the case's button."
)
NOT_SAVED = (
    "Sorry, {what} did not go through: the database did not answer. Here is what you wrote, so you can "
    "try again in a moment:\n{echo}"
)
ESCALATION_NOT_SENT = "Your escalation of case #{number} was not sent: {problem} Here is what you wrote:\n{echo}"

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
# --- durable intake and delivery (bot.delivery, bot.sweep) ----------------------------------------
CASE_NOT_SAVED = (
    "Sorry, I couldn't save this case just now: the database did not answer in time. It is *not saved*, "
    "so here is your text to send again in a minute:\n>{echo}\n"
    "(If the save still goes through, I'll post the case and tell you here.)"
)
FORM_NOT_SAVED = (
    "Couldn't save just now (the database did not answer in time). Your text is still here: press Submit again in a minute."
)
SAVED_LATE = "The database answered after all: case #{number} is saved and I'm posting it now."
POST_BUSY = "Case #{number} is being posted right now by another Defuse process. Give it a minute."
POST_UNCONFIRMED = (
    "Case #{number} is saved, but Slack did not confirm the message in <#{channel}> (it may have arrived). "
    "I'll check within about a minute and post it if it is missing. If you don't see it there and can't wait, "
    "press *Post it again*."
)
CHECKLIST_UNCONFIRMED = (
    "Case #{number} is posted, but Slack did not confirm its checklist. I'll check within about a minute and add it if it is missing."
)
POSTED_AFTER_RESTART = "Case #{number} is posted now (a restart or a Slack hiccup held it up): <{url}|open it>."
HANDOFF_DM_UNCONFIRMED = (
    "Slack did not confirm my DM to {colleague} about case #{number} (it may have arrived). "
    "I'll check within about a minute and send it if it is missing; I'll tell you when they answer."
)
